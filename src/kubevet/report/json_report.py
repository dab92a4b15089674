"""Machine output: one JSON document with findings, errors and a summary."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from kubevet import __version__
from kubevet.findings import Finding, Fix
from kubevet.result import Report

# One encoder for the run: json.dumps with any argument builds a new one for every call.
# No check for cycles (a set insert per container): the dicts are built here as trees, and
# fix values come from parsed YAML, where a recursive alias is refused.
_ENCODE = json.JSONEncoder(default=str, check_circular=False).encode
_STRING = encode_basestring_ascii  # a str as _ENCODE writes it (C)


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


def finding_json(f: Finding) -> str:
    """_ENCODE(finding_dict(f)), the same text written without building the dicts first:
    a report encodes thousands of findings, and the C encoder's work per key and nested
    dict was about three quarters of the JSON report (tests/test_report_json_text.py holds
    the two equal)."""
    return _FindingText()(f)


class _FindingText:
    """finding_json for the findings of a report, in order: consecutive findings mostly
    share their rule's fields and their object's ObjectRef and Origin (the very same
    objects), whose text is then written once instead of for each finding."""

    def __init__(self) -> None:
        self._rules: dict[str, tuple[str, object, str, str]] = {}
        self._ref: object = None
        self._ref_text = ""
        self._origin: object = None
        self._origin_text = ("", "")
        self._input: object = None  # an input's findings share its label, the same str
        self._input_text = ""
        # Findings share fix objects (rules._helpers.set_fix): each one's text, by id
        self._fixes: dict[int, tuple[Fix, str]] = {}

    def __call__(self, f: Finding) -> str:
        rule = self._rules.get(f.code)
        if (
            rule is None
            or rule[0] is not f.slug
            or rule[1] is not f.severity
            or (rule[2] is not f.category)
        ):
            text = (
                f'{{"code": {_value(f.code)}, "slug": {_value(f.slug)}, '
                f'"severity": {_value(str(f.severity))}, "category": {_value(f.category)}, '
            )
            rule = self._rules[f.code] = (f.slug, f.severity, f.category, text)
        ob = f.object
        if ob is not self._ref:
            self._ref = ob
            self._ref_text = (
                f'"object": {{"apiVersion": {_value(ob.api_version)}, '
                f'"kind": {_value(ob.kind)}, "namespace": {_value(ob.namespace)}, '
                f'"name": {_value(ob.name)}}}, '
            )
        o = f.origin
        if o is not self._origin:
            self._origin = o
            self._origin_text = (
                f'"origin": {{"file": {_value(o.file)}, "line": {_value(o.line)}, "fieldLine": ',
                f', "template": {_value(o.template)}, "chart": {_value(o.chart)}, '
                f'"chartVersion": {_value(o.chart_version)}, "rendered": {_value(o.rendered)}}}',
            )
        if f.input is not self._input:
            self._input = f.input
            self._input_text = _value(f.input)
        fix = "null"
        if f.fix:
            shared = self._fixes.get(id(f.fix))
            if shared is None:  # (the fix is held here: its id stays its own)
                if len(self._fixes) >= _MOST_FIXES:  # a long run's memory stays bounded
                    self._fixes.clear()
                shared = self._fixes[id(f.fix)] = (f.fix, _fix(f.fix))
            fix = shared[1]
        trace = "null"
        if f.trace:
            t = f.trace
            trace = (
                f'{{"template": {_value(t.template)}, "templateLine": {_value(t.template_line)}, '
                f'"valuesKeys": {_list(t.values_keys)}, "status": {_value(t.status)}, '
                f'"answer": {_value(t.answer)}}}'
            )
        sets = f', "valueSets": {_list(f.value_sets)}' if f.value_sets else ""
        origin_head, origin_tail = self._origin_text
        # The fields of nearly every finding (a str message and path, no container, an int
        # line, not suppressed) without a call to _value each.
        message, path, container, line = f.message, f.path_text, f.container, f.line
        suppressed = f.suppressed
        return (
            f'{rule[3]}"message": '
            f"{_STRING(message) if message.__class__ is str else _value(message)}, "
            f'{self._ref_text}"path": {_STRING(path) if path.__class__ is str else _value(path)}'
            f', "container": {"null" if container is None else _value(container)}, '
            f'"input": {self._input_text}, {origin_head}'
            f"{int.__repr__(line) if line.__class__ is int else _value(line)}{origin_tail}, "
            f'"fix": {fix}, "trace": {trace}, "suppressed": '
            f"{'null' if suppressed is None else _value(suppressed)}{sets}}}"
        )


# Fix texts kept at once: a fix a rule builds for one finding is an object of its own (only
# scalar fixes are shared), and kept for the whole run they grew with the findings (the
# 10,000-chart run's peak 97 -> 198 MiB).
_MOST_FIXES = 4096


def _fix(fix: Fix) -> str:
    edits = [
        f'{{"op": {_value(e.op)}, "path": {_path(e.path)}, "value": {_value(e.value)}}}'
        for e in fix.edits
    ]
    return (
        f'{{"applicability": {_value(fix.applicability)}, "description": '
        f'{_value(fix.description)}, "edits": [{", ".join(edits)}]}}'
    )


def _value(x: Any) -> str:
    """_ENCODE(x): the common scalars directly, anything else through the encoder."""
    kind = x.__class__
    if kind is str:
        return _STRING(x)
    if x is None:
        return "null"
    if kind is bool:
        return "true" if x else "false"
    if kind is int:
        return int.__repr__(x)
    return _ENCODE(x)


def _list(items: Iterable[Any]) -> str:
    return f"[{', '.join(map(_value, items))}]"


def _path(parts: Iterable[Any]) -> str:
    """_list of a path (its parts str keys and int indexes), the keys without a call each."""
    return f"[{', '.join([_STRING(p) if p.__class__ is str else _value(p) for p in parts])}]"


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
    inputs = (
        {"label": g.label, "source": g.source, "objects": g.objects, "chart": g.chart}
        for g in report.groups
    )
    errors = ({"file": e.file, "line": e.line, "message": e.message} for e in report.errors)
    lists: list[tuple[str, Iterable[str]]] = [  # each item as its JSON text
        ("inputs", map(_ENCODE, inputs)),
        ("findings", map(_FindingText(), report.findings)),
        ("errors", map(_ENCODE, errors)),
        ("warnings", map(_ENCODE, report.warnings)),
    ]
    if report.frameworks:
        from kubevet.report.statistics import compliance

        rows = [r for r in compliance(report) if r["control"]]
        lists.append(("compliance", map(_ENCODE, rows)))
    top = head(report).items()
    yield "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in top)
    for key, items in lists:
        yield f",\n  {json.dumps(key)}: ["
        sep = "\n    "
        for item in items:
            yield sep + item
            sep = ",\n    "
        yield "\n  ]" if sep != "\n    " else "]"
    yield "\n}\n"
