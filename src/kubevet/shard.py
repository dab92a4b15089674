"""Sharded scans: `check --shard I/N -o DIR/` checks every N-th input and writes one shard
file; `kubevet merge DIR/` joins the shards into the report one `check` would have given.

A shard file is JSON Lines (never pickle: shards come from other machines): a header with
the kubevet version, a hash of the whole input list, a hash of the settings and counts,
then one line per input it checked, carrying its global index. Inputs are dealt round
robin (input k goes to shard k mod N), so every shard gets a fair share of a sorted list.
Merge checks that the shards belong together and that none is missing before it writes
anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kubevet import __version__, jsontext
from kubevet.findings import Edit, Finding, Fix, InputError, Severity, Trace
from kubevet.model import ObjectRef, Origin

if TYPE_CHECKING:
    from kubevet.result import InputResult
    from kubevet.runner import RunSettings
    from kubevet.sources import Input

FORMAT = 1
SUFFIX = ".kvshard.jsonl"


class ShardError(Exception):
    """Shards that cannot be merged (or a bad --shard value); the message says which."""


def parse_spec(spec: str) -> tuple[int, int]:
    """`I/N` (0-based I) or `env/N` (I from JOB_COMPLETION_INDEX, as an Indexed Job sets)."""
    index_text, sep, count_text = spec.partition("/")
    if index_text == "env":
        index_text = os.environ.get("JOB_COMPLETION_INDEX", "")
        if not index_text:
            raise ShardError("--shard env/N: JOB_COMPLETION_INDEX is not set")
    try:
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise ShardError(f"--shard {spec!r}: expected I/N or env/N, e.g. 0/4") from None
    if not sep or count < 1 or not 0 <= index < count:
        raise ShardError(f"--shard {spec!r}: need 0 <= I < N")
    return index, count


def mine(total: int, index: int, count: int) -> list[int]:
    """The global input indexes shard `index` of `count` checks."""
    return list(range(index, total, count))


def digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def inputs_digest(inputs: Iterable[Input]) -> str:
    return digest([[i.kind, i.label, list(i.files)] for i in inputs])


def settings_digest(settings: RunSettings) -> str:
    """What makes two runs' findings comparable: every setting but the parallelism (and
    the rule selection made from the settings, a cache)."""
    data = dataclasses.asdict(settings)
    data.pop("jobs", None)
    data.pop("selected_rules", None)
    return digest(data)


def file_name(index: int, count: int) -> str:
    return f"shard-{index:05d}-of-{count:05d}{SUFFIX}"


def write(directory: str, header: dict[str, Any], results: list[tuple[int, InputResult]]) -> str:
    """Write the shard atomically (temporary name, then rename); returns its path."""
    from kubevet.safewrite import write_text

    lines = [json.dumps({"kubevet-shard": FORMAT, "version": __version__, **header})]
    lines.extend(record(index, result) for index, result in results)
    path = os.path.join(directory, file_name(header["shard"], header["of"]))
    write_text(path, "\n".join(lines) + "\n")
    return path


def record(index: int, result: InputResult) -> str:
    """One input's line: its global index and everything checking it gave (also what a
    Ray task returns: JSON text, never pickle)."""
    summary, findings, errors, warnings = result
    item = {
        "index": index,
        # not the input's time (-v): a shard file is the same for the same inputs
        "group": {k: v for k, v in dataclasses.asdict(summary).items() if k != "seconds"},
        "findings": [finding_to_dict(f) for f in findings],
        "errors": [{"file": e.file, "message": e.message, "line": e.line} for e in errors],
        "warnings": list(warnings),
    }
    return json.dumps(item, ensure_ascii=False, default=str)


def finding_to_dict(f: Finding) -> dict[str, Any]:
    out = {
        "code": f.code,
        "slug": f.slug,
        "severity": f.severity.name,
        "category": f.category,
        "message": f.message,
        "object": dataclasses.asdict(f.object),
        "path": list(f.path),
        "origin": dataclasses.asdict(f.origin),
        "container": f.container,
        "line": f.line,
        "source_line": f.source_line,
        "input": f.input,
        "suppressed": f.suppressed,
        "fix": None,
        "trace": dataclasses.asdict(f.trace) if f.trace else None,
        "extra": {"value_sets": f.value_sets} if f.value_sets else {},
    }
    if f.fix:
        edits = [{"op": e.op, "path": list(e.path), "value": e.value} for e in f.fix.edits]
        out["fix"] = {
            "applicability": f.fix.applicability,
            "description": f.fix.description,
            "edits": edits,
        }
    return out


def finding_from_dict(d: dict[str, Any]) -> Finding:
    fix = None
    if d["fix"]:
        edits = tuple(Edit(e["op"], tuple(e["path"]), e["value"]) for e in d["fix"]["edits"])
        fix = Fix(d["fix"]["applicability"], d["fix"]["description"], edits)
    trace = None
    if d["trace"]:
        raw = d["trace"]
        lines = tuple(raw.get("values_lines", ()))
        trace = Trace(**{**raw, "values_keys": tuple(raw["values_keys"]), "values_lines": lines})
    return Finding(
        code=d["code"],
        slug=d["slug"],
        severity=Severity[d["severity"]],
        category=d["category"],
        message=d["message"],
        object=ObjectRef(**d["object"]),
        path=tuple(d["path"]),
        origin=Origin(**d["origin"]),
        container=d["container"],
        fix=fix,
        line=d["line"],
        source_line=d.get("source_line"),
        input=d["input"],
        trace=trace,
        suppressed=d["suppressed"],
        value_sets=list(d["extra"].get("value_sets", ())),
    )


def read(directory: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The common header and every input's line, in input order; ShardError when the
    shards disagree, overlap with different content, or leave an index out."""
    names = sorted(n for n in os.listdir(directory) if n.endswith(SUFFIX))
    if not names:
        raise ShardError(f"{directory}: no shard files (*{SUFFIX})")
    header: dict[str, Any] | None = None
    seen: dict[int, tuple[str, str]] = {}  # shard index -> (file, content digest)
    items: dict[int, dict[str, Any]] = {}
    for name in names:
        path = os.path.join(directory, name)
        head, body, text_digest = _read_one(path)
        header = _same_run(header, head, path)
        shard = head["shard"]
        if shard in seen:
            if seen[shard][1] != text_digest:
                other = seen[shard][0]
                raise ShardError(f"{path} and {other} are different files for shard {shard}")
            continue  # an identical copy (a retried shard): counted once
        seen[shard] = (path, text_digest)
        for item in body:
            items[item["index"]] = item
    assert header is not None
    missing = [i for i in range(header["of"]) if i not in seen]
    if missing:
        raise ShardError(
            f"{directory}: shard {', '.join(map(str, missing))} of {header['of']} is missing"
        )
    return header, [items[i] for i in sorted(items)]


def _read_one(path: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    from kubevet.findings import InputError
    from kubevet.sources.reader import open_regular

    try:
        try:
            with open_regular(path) as fh:  # a FIFO would block; shards may be large
                raw = fh.read()
        except InputError as err:
            raise ShardError(f"{path}: not a readable shard file: {err.message}") from None
        lines = raw.decode("utf-8").splitlines()
        head = jsontext.loads(lines[0])
        body = [jsontext.loads(x) for x in lines[1:] if x.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, IndexError) as exc:
        raise ShardError(f"{path}: not a readable shard file: {exc}") from None
    if not isinstance(head, dict) or head.get("kubevet-shard") != FORMAT:
        raise ShardError(f"{path}: not a kubevet shard file (format {FORMAT})")
    return head, body, hashlib.sha256(raw).hexdigest()


def _same_run(header: dict[str, Any] | None, head: dict[str, Any], path: str) -> dict[str, Any]:
    if header is None:
        return head
    for key, what in (
        ("version", "kubevet version"),
        ("inputs", "input list"),
        ("settings", "settings"),
        ("of", "shard count"),
    ):
        if head.get(key) != header.get(key):
            raise ShardError(f"{path}: {what} differs from the other shards ({key})")
    return header


Result = tuple[Any, list[Finding], list[InputError], list[str]]


def results_of(items: list[dict[str, Any]]) -> list[Result]:
    from kubevet.result import GroupSummary

    out = []
    for item in items:
        group = item["group"]
        skipped = [(str(path), str(why)) for path, why in group.pop("skipped", [])]
        summary = GroupSummary(**group, skipped=skipped)
        findings = [finding_from_dict(f) for f in item["findings"]]
        errors = [InputError(e["file"], e["message"], e["line"]) for e in item["errors"]]
        out.append((summary, findings, errors, list(item["warnings"])))
    return out
