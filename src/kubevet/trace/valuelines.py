"""Where each values key of a trace is written in the chart's own values.yaml: recorded with
the trace (the file read once per chart), so reporters never open values files."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from kubevet.findings import Finding
from kubevet.model import get_path

_MISSING = object()


def values_file(chart_path: str | None) -> str | None:
    """`<chart>/values.yaml` of a chart directory (an archive has no file to point at)."""
    if not chart_path or not os.path.isdir(chart_path):
        return None
    candidate = os.path.join(chart_path, "values.yaml")
    return candidate if os.path.isfile(candidate) else None


def key_lines(path: str, keys: tuple[str, ...]) -> tuple[int | None, ...]:
    """The line of each dotted key in the values file at `path`; None for a key the file
    does not set (it came from -f or --set) or a file that cannot be read."""
    from kubevet.sources.yamldocs import locate_many, parse_stream

    try:
        docs, _ = parse_stream(Path(path).read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError):
        docs = []
    if not docs:
        return tuple(None for _ in keys)
    doc = docs[0]
    parts = [tuple(k for k in key.split(".") if k) for key in keys]
    present = [p for p in parts if get_path(doc.data, p, _MISSING) is not _MISSING]
    found = dict(
        zip(present, locate_many(doc.text, doc.first_line, doc.index, present), strict=True)
    )
    return tuple(found.get(p) for p in parts)


def record_values_lines(findings: list[Finding], chart_path: str | None) -> None:
    """Set `trace.values_file` and `trace.values_lines` on each traced finding with keys."""
    path = values_file(chart_path)
    traces = [f.trace for f in findings if f.trace is not None and f.trace.values_keys]
    if path is None or not traces:
        return
    keys = tuple(dict.fromkeys(k for t in traces for k in t.values_keys))
    lines = dict(zip(keys, key_lines(path, keys), strict=True))
    for f in findings:
        t = f.trace
        if t is not None and t.values_keys:
            f.trace = replace(
                t, values_file=path, values_lines=tuple(lines[k] for k in t.values_keys)
            )
