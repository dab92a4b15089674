"""Machine output: one JSON document with findings, errors and a summary."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from kubevet import __version__
from kubevet.findings import Finding
from kubevet.result import Report

# One encoder for the run: json.dumps with any argument builds a new one for every call.
# No check for cycles (a set insert per container): the dicts are built here as trees, and
# fix values come from parsed YAML, where a recursive alias is refused.
_ENCODE = json.JSONEncoder(default=str, check_circular=False).encode


def finding_dict(f: Finding) -> dict[str, Any]:
    o = f.origin
    out: dict[str, Any] = {
        "code": f.code,
        "slug": f.slug,
        "severity": str(f.severity),
        "category": f.category,
        "message": f.message,
        "object": {
            "apiVersion": f.object.api_version,
            "kind": f.object.kind,
            "namespace": f.object.namespace,
            "name": f.object.name,
        },
        "path": f.path_text,
        "container": f.container,
        "input": f.input,
        "origin": {
            "file": o.file,
            "line": o.line,
            "fieldLine": f.line,
            "template": o.template,
            "chart": o.chart,
            "chartVersion": o.chart_version,
            "rendered": o.rendered,
        },
        "fix": None,
        "trace": None,
        "suppressed": f.suppressed,
    }
    if f.value_sets:
        out["valueSets"] = list(f.value_sets)
    if f.fix:
        out["fix"] = {
            "applicability": f.fix.applicability,
            "description": f.fix.description,
            "edits": [{"op": e.op, "path": list(e.path), "value": e.value} for e in f.fix.edits],
        }
    if f.trace:
        out["trace"] = {
            "template": f.trace.template,
            "templateLine": f.trace.template_line,
            "valuesKeys": list(f.trace.values_keys),
            "status": f.trace.status,
            "answer": f.trace.answer,
        }
    return out


def render(report: Report, color: bool = False) -> str:
    return "".join(iter_render(report))


def head(report: Report) -> dict[str, Any]:
    """The tool and the counts (the JSON report's first keys)."""
    active = len(report.active)
    return {
        "tool": {"name": "kubevet", "version": __version__},
        "summary": {
            "findings": active,
            "suppressed": len(report.findings) - active,
            "errors": len(report.errors),
            "objects": sum(g.objects for g in report.groups),
            "inputs": len(report.groups),
        },
    }


def iter_render(report: Report) -> Iterator[str]:
    """The document in pieces, one finding per line: a large run is written as it is
    encoded instead of being held twice more in memory (as dicts, then as one string).
    json's C encoder per item (indent= would force the slow pure-Python one)."""
    lists: list[tuple[str, Iterable[Any]]] = [
        (
            "inputs",
            (
                {"label": g.label, "source": g.source, "objects": g.objects, "chart": g.chart}
                for g in report.groups
            ),
        ),
        ("findings", (finding_dict(f) for f in report.findings)),
        ("errors", ({"file": e.file, "line": e.line, "message": e.message} for e in report.errors)),
        ("warnings", iter(report.warnings)),
    ]
    if report.frameworks:
        from kubevet.report.statistics import compliance

        rows = [r for r in compliance(report) if r["control"]]
        lists.append(("compliance", iter(rows)))
    top = head(report).items()
    yield "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in top)
    for key, items in lists:
        yield f",\n  {json.dumps(key)}: ["
        sep = "\n    "
        for item in items:
            yield sep + _ENCODE(item)
            sep = ",\n    "
        yield "\n  ]" if sep != "\n    " else "]"
    yield "\n}\n"
