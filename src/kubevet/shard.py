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
import functools
import hashlib
import heapq
import itertools
import json
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from kubevet import __version__, jsontext
from kubevet.findings import Edit, Finding, Fix, InputError, Severity
from kubevet.model import ObjectRef, Origin
from kubevet.traced import Trace

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


def write(
    directory: str, header: dict[str, Any], results: Iterable[tuple[int, InputResult]]
) -> str:
    """Write the shard atomically (temporary name, then rename); returns its path. The
    records go to an unnamed temporary file as the results come, so a shard's memory does
    not grow with its inputs; the header, which counts them, is written first."""
    import tempfile

    from kubevet.safewrite import write_text_chunks

    counts = {"inputs": 0, "findings": 0, "errors": 0}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as body:
        for index, result in results:
            body.write(record(index, result) + "\n")
            counts["inputs"] += 1
            counts["findings"] += len(result[1])
            counts["errors"] += len(result[2])
        body.seek(0)
        head = {"kubevet-shard": FORMAT, "version": __version__, **header, "counts": counts}
        path = os.path.join(directory, file_name(header["shard"], header["of"]))
        blocks = iter(lambda: body.read(1 << 20), "")
        write_text_chunks(path, itertools.chain([json.dumps(head) + "\n"], blocks))
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
    return _ENCODE(item)


# One encoder for every record (json.dumps with arguments builds a new one per call).
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode


def finding_to_dict(f: Finding) -> dict[str, Any]:
    out = {
        "code": f.code,
        "slug": f.slug,
        "severity": f.severity.name,
        "category": f.category,
        "message": f.message,
        "object": _flat(f.object),
        "path": list(f.path),
        "origin": _flat(f.origin),
        "container": f.container,
        "line": f.line,
        "source_line": f.source_line,
        "input": f.input,
        "suppressed": f.suppressed,
        "fix": None,
        "trace": _flat(f.trace) if f.trace else None,
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


def _flat(obj: ObjectRef | Origin | Trace) -> dict[str, Any]:
    """The fields of a dataclass whose fields are plain values (strings, numbers, tuples of
    them), as dataclasses.asdict gives them but without its deep copy of every value,
    which was most of the cost of writing a shard."""
    return {name: getattr(obj, name) for name in _field_names(type(obj))}


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


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


def read(directory: str) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The common header and every input's line, in input order, read one line at a time
    (memory stays flat however many inputs). Before any line: ShardError when the shards
    disagree, overlap with different content, or leave an index out; while reading, when
    a line is not a record or an input is missing or repeated."""
    names = sorted(n for n in os.listdir(directory) if n.endswith(SUFFIX))
    if not names:
        raise ShardError(f"{directory}: no shard files (*{SUFFIX})")
    header: dict[str, Any] | None = None
    seen: dict[int, tuple[str, str]] = {}  # shard index -> (file, content digest)
    for name in names:
        path = os.path.join(directory, name)
        head, text_digest = _scan(path)
        header = _same_run(header, head, path)
        shard = head["shard"]
        if shard in seen:
            if seen[shard][1] != text_digest:
                other = seen[shard][0]
                raise ShardError(f"{path} and {other} are different files for shard {shard}")
            continue  # an identical copy (a retried shard): counted once
        seen[shard] = (path, text_digest)
    assert header is not None
    missing = [i for i in range(header["of"]) if i not in seen]
    if missing:
        raise ShardError(
            f"{directory}: shard {', '.join(map(str, missing))} of {header['of']} is missing"
        )
    return header, _merged([seen[i][0] for i in sorted(seen)], header["total"])


def _open(path: str) -> BinaryIO:
    from kubevet.findings import InputError
    from kubevet.sources.reader import open_regular

    try:
        return open_regular(path)  # a FIFO would block; shards may be large: no size bound
    except InputError as err:
        raise ShardError(f"{path}: not a readable shard file: {err.message}") from None


def _scan(path: str) -> tuple[dict[str, Any], str]:
    """A shard file's header and the digest of its whole content, read in blocks."""
    with _open(path) as fh:
        try:
            first = fh.readline()
            head = jsontext.loads(first.decode("utf-8"))
            hasher = hashlib.sha256(first)
            while block := fh.read(1 << 20):
                hasher.update(block)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ShardError(f"{path}: not a readable shard file: {exc}") from None
    keys = ("shard", "of", "total")
    if not isinstance(head, dict) or head.get("kubevet-shard") != FORMAT:
        raise ShardError(f"{path}: not a kubevet shard file (format {FORMAT})")
    if not all(type(head.get(k)) is int for k in keys) or not 0 <= head["shard"] < head["of"]:
        raise ShardError(f"{path}: the header has no valid shard, of and total")
    return head, hasher.hexdigest()


def _records(path: str) -> Iterator[dict[str, Any]]:
    """A shard file's input lines, one at a time, checked to be records in index order."""
    with _open(path) as fh:
        fh.readline()  # the header, checked by _scan
        last = -1
        for number, raw in enumerate(fh, start=2):
            if not raw.strip():
                continue
            try:
                item = jsontext.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ShardError(f"{path}:{number}: not a shard record: {exc}") from None
            index = item.get("index") if isinstance(item, dict) else None
            if type(index) is not int or index <= last:
                raise ShardError(f"{path}:{number}: not a shard record in input order")
            last = index
            yield item


def _merged(paths: list[str], total: int) -> Iterator[dict[str, Any]]:
    """The shards' records joined by input index: one line per shard in memory at a time."""
    expected = 0
    for item in heapq.merge(*map(_records, paths), key=lambda item: item["index"]):
        if item["index"] != expected:
            raise ShardError(_gap(expected, item["index"]))
        expected += 1
        yield item
    if expected != total:
        raise ShardError(_gap(expected, None))


def _gap(expected: int, found: int | None) -> str:
    if found is not None and found < expected:
        return f"input {found} is in two shards"
    return f"input {expected} is in no shard (the shard files are incomplete)"


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


def results_of(items: Iterable[dict[str, Any]]) -> Iterator[Result]:
    """The results of shard records, one at a time as they are read."""
    for item in items:
        try:
            result = _result_of(item)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            where = item.get("index") if isinstance(item, dict) else None
            message = f"the record of input {where} is not a shard record: {exc!r}"
            raise ShardError(message) from None
        yield result


def _result_of(item: dict[str, Any]) -> Result:
    from kubevet.result import GroupSummary

    group = dict(item["group"])
    skipped = [(str(path), str(why)) for path, why in group.pop("skipped", [])]
    summary = GroupSummary(**group, skipped=skipped)
    findings = [finding_from_dict(f) for f in item["findings"]]
    errors = [InputError(e["file"], e["message"], e["line"]) for e in item["errors"]]
    return summary, findings, errors, list(item["warnings"])
