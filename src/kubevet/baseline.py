"""Baselines: accept today's findings, fail only on new ones, and watch the list shrink.

    kubevet check . --write-baseline .kubevet-baseline.json
    kubevet check . --baseline .kubevet-baseline.json

A finding is identified by the fingerprint SARIF gives it (`partialFingerprints`): rule,
object identity, field path, container and file, never a line number, so edits above a
finding do not make it new. A baselined finding is kept in the report as suppressed (SARIF
marks it so), and entries that no longer occur are listed so the file can be rewritten
smaller.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubevet import jsontext
from kubevet.findings import Finding

FORMAT_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read or is not a kubevet baseline."""


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    code: str
    object: str
    path: str
    file: str | None

    def describe(self) -> str:
        where = f" in {self.file}" if self.file else ""
        return f"{self.code} {self.object} {self.path}{where}".rstrip()


def entry_of(f: Finding, cwd: str | None = None) -> Entry:
    from kubevet.report._location import display_path, file_of
    from kubevet.report.sarif_report import finding_fingerprint

    path = file_of(f)
    return Entry(
        finding_fingerprint(f, cwd),
        f.code,
        str(f.object),
        f.path_text + (f" [{f.container}]" if f.container else ""),
        display_path(path, cwd) if path else None,
    )


def entries(findings: list[Finding], cwd: str | None = None) -> list[Entry]:
    out = [entry_of(f, cwd) for f in findings]
    return sorted(out, key=lambda e: (e.file or "", e.object, e.code, e.path, e.fingerprint))


def write(path: str, findings: Iterable[Finding]) -> int:
    """Record the active findings; returns how many. Written atomically."""
    from kubevet.safewrite import write_text

    items = entries([f for f in findings if f.suppressed is None])
    doc = {
        "kubevet-baseline": FORMAT_VERSION,
        "findings": [e.__dict__ for e in items],
    }
    write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return len(items)


def load(path: str) -> list[Entry]:
    from kubevet.findings import InputError
    from kubevet.sources.reader import read_bytes

    try:
        doc = jsontext.loads(read_bytes(path).decode("utf-8"))
    except InputError as err:  # only a regular file, up to the size bound
        msg = err.message.replace("cannot read", "cannot read baseline")
        raise BaselineError(f"{path}: {msg}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: baseline is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kubevet-baseline") != FORMAT_VERSION:
        raise BaselineError(f"{path}: not a kubevet baseline (version {FORMAT_VERSION})")
    try:
        return [Entry(**_entry(item)) for item in doc.get("findings") or []]
    except (TypeError, ValueError) as exc:
        raise BaselineError(f"{path}: malformed baseline entry: {exc}") from None


def _entry(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
        raise ValueError(f"{item!r} has no fingerprint")
    keys = ("fingerprint", "code", "object", "path", "file")
    return {k: item.get(k) if k == "file" else str(item.get(k, "")) for k in keys}


def apply(findings: Iterable[Finding], baseline: list[Entry], name: str) -> list[Entry]:
    """Mark active findings found in `baseline` as suppressed; return the entries that no
    longer occur. Counted as a multiset: two identical findings need two entries."""
    left = Counter(e.fingerprint for e in baseline)
    for f in findings:
        if f.suppressed is not None:
            continue
        fingerprint = entry_of(f).fingerprint
        if left[fingerprint] > 0:
            left[fingerprint] -= 1
            f.suppressed = f"in baseline {name}"
    gone: list[Entry] = []
    for e in baseline:
        if left[e.fingerprint] > 0:
            left[e.fingerprint] -= 1
            gone.append(e)
    return gone
