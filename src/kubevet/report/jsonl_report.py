"""JSON Lines: one JSON object per line, for tools that read a report as a stream (jq -c,
log pipelines, `split`). Each line has a `type`: a `finding` (the fields of the JSON
report's findings) for every finding in input order, then each `error` and `warning`, and
last the `summary` (the JSON report's head)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from kubevet.report.json_report import finding_dict, head
from kubevet.result import Report

_ENCODE = json.JSONEncoder(default=str, ensure_ascii=False).encode


def render(report: Report, color: bool = False) -> str:
    return "".join(iter_render(report))


def iter_render(report: Report) -> Iterator[str]:
    for f in report.findings:
        yield _ENCODE({"type": "finding", **finding_dict(f)}) + "\n"
    for e in report.errors:
        yield _ENCODE({"type": "error", "file": e.file, "line": e.line, "message": e.message})
        yield "\n"
    for w in report.warnings:
        yield _ENCODE({"type": "warning", "message": w}) + "\n"
    yield _ENCODE({"type": "summary", **head(report)}) + "\n"
