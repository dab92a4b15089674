"""Machine output: one JSON document with findings, errors and a summary."""

from __future__ import annotations

import json
from typing import Any

from kubevet import __version__
from kubevet.findings import Finding
from kubevet.runner import Report


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
        }
    return out


def render(report: Report, color: bool = False) -> str:
    doc = {
        "tool": {"name": "kubevet", "version": __version__},
        "summary": {
            "findings": len(report.active),
            "suppressed": len(report.findings) - len(report.active),
            "errors": len(report.errors),
            "objects": sum(g.objects for g in report.groups),
            "inputs": len(report.groups),
        },
        "inputs": [
            {"label": g.label, "source": g.source, "objects": g.objects, "chart": g.chart}
            for g in report.groups
        ],
        "findings": [finding_dict(f) for f in report.findings],
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in report.errors],
        "warnings": report.warnings,
    }
    # One finding per line: readable, and json's C encoder (indent= would force the slow
    # pure-Python one, which cost more than all the rules on the chart corpus).
    parts = []
    for key, value in doc.items():
        if isinstance(value, list) and value:
            items = ",\n    ".join(json.dumps(v, default=str) for v in value)
            parts.append(f"  {json.dumps(key)}: [\n    {items}\n  ]")
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value, default=str)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"
