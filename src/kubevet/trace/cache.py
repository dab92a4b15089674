"""Trace results kept between runs, so that a chart traced once is not traced again while
nothing that decides its traces changed.

A chart's marker renders are most of a traced check's time (the corpus: about two thirds),
and a chart is checked again and again unchanged: pre-commit hooks, an editor's check on
save, CI on a branch whose charts did not move. An entry holds each finding's `Trace` and
`EditTrace`s and the trace's warnings, under a key that hashes everything they depend on:
the chart's path (a trace names its values.yaml) and every file of it (content), the
user's values, the Helm options, the findings
(rule, rendered object by template and ordinal, field), and kubevet itself (its version
and its modules' sizes and times, so that an edited checkout never reads an older
entry). A run whose trace hit a render limit stores nothing (the limit may have been the
machine's load). Entries are JSON read back field by field (never pickle: the cache
directory may be shared, as a CI cache is); one that does not read is a miss.

Where: `--cache-dir`, else $KUBEVET_CACHE_DIR, else $XDG_CACHE_HOME/kubevet (default
~/.cache/kubevet); `--no-cache` (or KUBEVET_NO_CACHE=1) reads and writes none. At most
1,024 entries are kept (about 40 KB each on the corpus), the least recently used removed
first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.findings import Finding
    from kubevet.sources.helm import HelmOptions

FORMAT = 1  # of the entries; a change makes every older entry a miss
PER_FOLDER = 4  # entries kept in each of the 256 folders (named by the key's first byte)


def default_dir() -> str | None:
    """The cache directory the environment says, or None where it says no cache."""
    if os.environ.get("KUBEVET_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("KUBEVET_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "kubevet")
    return base


def traced(
    group: InputGroup,
    findings: list[Finding],
    helm_opts: HelmOptions,
    directory: str | None,
    trace: Callable[[InputGroup, list[Finding], HelmOptions], Any],
) -> None:
    """`trace(group, findings, helm_opts)`, or its results from the cache in `directory`
    ("": `default_dir()`; None: no cache); a fresh trace is stored there."""
    if directory == "":
        directory = default_dir()
    key = _key(group, findings, helm_opts) if directory else None
    if key is None or directory is None:
        trace(group, findings, helm_opts)
        return
    file = os.path.join(directory, "trace", key[:2], key + ".json")
    if _load(file, group, findings):
        return
    warned, errors = len(group.warnings), len(group.errors)
    trace(group, findings, helm_opts)
    if len(group.errors) == errors:  # a limit the trace hit may pass on the next run
        _store(file, findings, group.warnings[warned:])


def _key(group: InputGroup, findings: list[Finding], helm_opts: HelmOptions) -> str | None:
    """The hash of what a chart's traces depend on, or None where that cannot be told."""
    chart = group.chart
    if chart is None or not chart.path:
        return None
    h = hashlib.sha256(f"kubevet-trace {FORMAT} {_kubevet_stamp()}\n".encode())
    h.update(chart.path.encode() + b"\0")  # a trace names files by it (its values.yaml)
    try:
        _hash_chart(h, chart.path)
        h.update(json.dumps(chart.user_values, sort_keys=True, default=repr).encode())
    except (OSError, TypeError, ValueError):
        return None
    h.update(repr(helm_opts).encode())
    h.update(json.dumps(_identities(group, findings)).encode())
    return h.hexdigest()


def _hash_chart(h: Any, path: str) -> None:
    """Every file of the chart: the archive, or each file under the directory with its
    name, links followed as Helm follows them (a directory reached twice, as by a link to
    an ancestor, is read once)."""
    if not os.path.isdir(path):
        with open(path, "rb") as fh:
            h.update(fh.read())
        return
    seen: set[str] = set()
    todo = [(path, "")]
    while todo:
        folder, shown = todo.pop()
        real = os.path.realpath(folder)
        if real in seen:
            h.update(f"again {shown}\0".encode())
            continue
        seen.add(real)
        for entry in sorted(os.scandir(folder), key=lambda e: e.name, reverse=True):
            name = f"{shown}/{entry.name}"
            if entry.is_dir():  # follows a link
                todo.append((entry.path, name))
            elif entry.is_file():
                with open(entry.path, "rb") as fh:  # in chunks, whatever its size
                    h.update(name.encode() + b"\0" + hashlib.file_digest(fh, "sha256").digest())
            else:  # a dangling link or a special file: its name and what it points at
                h.update(f"other {name} {os.path.realpath(entry.path)}\0".encode())


_STAMP: list[str] = []


def _kubevet_stamp() -> str:
    """kubevet's version and the size and time of each of its modules (once per process)."""
    if not _STAMP:
        import kubevet

        parts = [kubevet.__version__]
        top = os.path.dirname(os.path.abspath(kubevet.__file__))
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(f for f in files if f.endswith((".py", ".so"))):
                st = os.stat(os.path.join(root, name))
                parts.append(f"{os.path.relpath(root, top)}/{name} {st.st_size} {st.st_mtime_ns}")
        _STAMP.append(hashlib.sha256("\n".join(parts).encode()).hexdigest())
    return _STAMP[0]


def _identities(group: InputGroup, findings: list[Finding]) -> list[list[Any]]:
    """Each finding as its rule, its object (template, kind, ordinal: rendered names can be
    random), its field and the fields its fix edits (the ones traced; a rule's options can
    change them); a repeat gets its ordinal among equals."""
    from kubevet.trace import _edit_paths, _object_keys

    keys = _object_keys(group.objects)
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        okey = keys.get(id(f.obj))
        edits = [list(p) for p in _edit_paths(f)]
        ident = [f.code, list(okey) if okey else None, list(f.path), edits]
        text = json.dumps(ident)
        seen[text] = seen.get(text, 0) + 1
        out.append([*ident, seen[text]])
    return out


def _load(file: str, group: InputGroup, findings: list[Finding]) -> bool:
    """Fill the findings' traces from `file`; False (nothing changed) on a miss."""
    try:
        with open(file, encoding="utf-8") as fh:
            entry = json.load(fh)
        if entry.get("format") != FORMAT or len(entry["findings"]) != len(findings):
            return False
        decoded = [(_trace_of(t), [_edit_of(e) for e in edits]) for t, edits in entry["findings"]]
        warnings = [str(w) for w in entry["warnings"]]
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return False
    for f, (trace, edits) in zip(findings, decoded, strict=True):
        f.trace, f.edit_traces = trace, edits
    group.warnings.extend(warnings)
    with contextlib.suppress(OSError):  # a read-only cache (a restored CI cache) still reads
        os.utime(file)  # recently used: kept when older entries are removed
    return True


def _store(file: str, findings: list[Finding], warnings: list[str]) -> None:
    """Write the entry by a rename in its folder. Not `safewrite`: that one writes through
    a link to the user's real file, where a link in a shared cache must be replaced."""
    entry = {
        "format": FORMAT,
        "findings": [[_trace_json(f.trace), _edits_json(f)] for f in findings],
        "warnings": warnings,
    }
    text = json.dumps(entry)  # json.dump encodes in Python, dumps in C
    try:
        os.makedirs(os.path.dirname(file), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(file), suffix=".tmp")
    except OSError:
        return  # a cache that cannot be written is only a slower next run
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, file)  # whole or not at all, for a run beside this one (a link
        _prune(os.path.dirname(file))  # put at `file` is replaced, never followed)
    except OSError:
        with contextlib.suppress(OSError):
            os.remove(tmp)


def _prune(folder: str) -> None:
    """Keep the PER_FOLDER most recently used entries of one of the 256 folders (a
    listing of them all at every store cost more than the store)."""
    entries = [os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".json")]
    if len(entries) <= PER_FOLDER:
        return
    entries.sort(key=lambda p: os.stat(p).st_mtime)
    for old in entries[: len(entries) - PER_FOLDER]:
        with contextlib.suppress(OSError):
            os.remove(old)


def _trace_json(trace: Any) -> Any:
    if trace is None:
        return None
    return {
        "template": trace.template,
        "line": trace.template_line,
        "keys": list(trace.values_keys),
        "status": trace.status,
        "file": trace.values_file,
        "lines": list(trace.values_lines),
    }


def _trace_of(data: Any) -> Any:
    from kubevet.traced import Trace

    if data is None:
        return None
    return Trace(
        _opt_str(data["template"]),
        _opt_int(data["line"]),
        tuple(str(k) for k in data["keys"]),
        _status(data["status"]),
        _opt_str(data["file"]),
        tuple(_opt_int(n) for n in data["lines"]),
    )


_EDIT_PATHS = ("path", "key", "enable", "created", "anchor", "map")


def _edits_json(f: Finding) -> list[Any]:
    out = []
    for e in getattr(f, "edit_traces", None) or ():
        item: dict[str, Any] = {name: _path_json(getattr(e, name)) for name in _EDIT_PATHS}
        item["status"] = e.status
        item["keys"] = [list(k) for k in e.keys]
        item["pattern"] = [p if isinstance(p, str) else list(p) for p in e.pattern]
        out.append(item)
    return out


def _edit_of(data: Any) -> Any:
    from kubevet.trace import EditTrace

    paths = {name: _path_of(data[name]) for name in _EDIT_PATHS}
    if paths["path"] is None:
        raise ValueError("an edit trace without its path")
    return EditTrace(
        status=_status(data["status"]),
        keys=tuple(_path(k) for k in data["keys"]),
        pattern=tuple(p if isinstance(p, str) else _path(p) for p in data["pattern"]),
        **paths,
    )


def _path_json(path: Any) -> Any:
    return None if path is None else list(path)


def _path_of(data: Any) -> Any:
    return None if data is None else _path(data)


def _path(data: Any) -> tuple[str | int, ...]:
    if not isinstance(data, list) or not all(isinstance(p, str | int) for p in data):
        raise ValueError("not a path")
    return tuple(data)


def _status(data: Any) -> Any:
    if data not in ("values", "hard-coded", "absent", "unknown"):
        raise ValueError("not a trace status")
    return data


def _opt_str(data: Any) -> str | None:
    if data is not None and not isinstance(data, str):
        raise ValueError("not a string")
    return data


def _opt_int(data: Any) -> int | None:
    if data is not None and (not isinstance(data, int) or isinstance(data, bool)):
        raise ValueError("not a number")
    return data
