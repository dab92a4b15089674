"""GitLab Code Quality JSON (`artifacts: reports: codequality:`): one issue per finding.

GitLab reads a subset of the Code Climate issue format: `description`, `check_name`,
`fingerprint`, `severity` (info, minor, major, critical, blocker) and `location.path` with
`location.lines.begin`. The merge-request widget shows only the first issue of a
fingerprint, so fingerprints are unique per finding; they carry no line number, so an
edit above a finding does not make it look new. Input errors are `blocker` issues.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from typing import Any

from kubevet.findings import Finding, InputError, Severity
from kubevet.report import sarif_json
from kubevet.report._location import display_path, file_of, line_of
from kubevet.report.sarif_report import SECURITY_CATEGORIES, fingerprint
from kubevet.result import Report

SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "major",
    Severity.MEDIUM: "minor",
    Severity.LOW: "info",
    Severity.INFO: "info",
}


def render(report: Report, color: bool = False) -> str:
    return "".join(iter_render(report))


def iter_render(report: Report) -> Iterator[str]:
    """The same text as `json.dumps(issues, indent=2)`, one issue at a time (a large run
    is never held as one list of dicts and one string)."""
    issues = itertools.chain(map(_error, report.errors), map(_finding, report.active))
    first = next(issues, None)
    if first is None:
        yield "[]\n"
        return
    yield "[\n" + _indented(first)
    for issue in issues:
        yield ",\n" + _indented(issue)
    yield "\n]\n"


def _indented(issue: dict[str, Any]) -> str:
    """One list item as `json.dumps(list, indent=2)` writes it: two more spaces a line."""
    return "  " + sarif_json.dumps_without_floats(issue, "\n  ")  # the same text, faster


def _finding(f: Finding) -> dict[str, Any]:
    path = file_of(f)
    shown = display_path(path) if path else "-"
    where = f" ({f.path_text})" if f.path else ""
    trace = f"; {f.trace.answer}" if f.trace else ""
    return {
        "type": "issue",
        "description": f"{f.code} {f.object}: {f.message}{where}{trace}",
        "check_name": f"kubevet/{f.code}-{f.slug}",
        "fingerprint": fingerprint(f, shown),
        "severity": SEVERITY[f.severity],
        "categories": ["Security" if f.category in SECURITY_CATEGORIES else "Bug Risk"],
        "location": {"path": shown, "lines": {"begin": (line_of(f) if path else None) or 1}},
    }


def _error(err: InputError) -> dict[str, Any]:
    path = err.file.split("!", 1)[0] or "-"
    shown = display_path(path) if path not in ("-",) and not path.startswith("--") else path
    digest = hashlib.sha256(f"input-error\x1f{err.file}\x1f{err.message}".encode()).hexdigest()
    return {
        "type": "issue",
        "description": f"kubevet input error: {err.message}",
        "check_name": "kubevet/input-error",
        "fingerprint": digest,
        "severity": "blocker",
        "categories": ["Bug Risk"],
        "location": {"path": shown, "lines": {"begin": err.line or 1}},
    }
