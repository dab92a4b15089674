"""The JSON report writes each finding's text directly (json_report.finding_json); it must
be exactly what json's encoder makes of the finding's dict (json_report.finding_dict),
whatever the finding holds."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.findings import Edit, Finding, Fix, Severity, Trace
from kubevet.model import ObjectRef, Origin
from kubevet.report import json_report

_TEXT = st.text(max_size=12)  # any character: quotes, controls, non-ASCII, surrogates
_MAYBE = st.none() | _TEXT
_INTS = st.integers(-(2**70), 2**70)
_PATH = st.lists(_TEXT | st.integers(0, 9), max_size=4).map(tuple)
# What a fix may set: parsed YAML (nested maps and lists, floats with NaN and infinities).
_VALUES = st.recursive(
    st.none() | st.booleans() | _INTS | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=10,
)
_EDITS = st.builds(Edit, st.sampled_from(["set", "remove", "append"]), _PATH, _VALUES)
_FIXES = st.builds(Fix, st.sampled_from(["safe", "unsafe"]), _TEXT, st.lists(_EDITS).map(tuple))
_TRACES = st.builds(
    Trace,
    _MAYBE,
    st.none() | _INTS,
    st.lists(_TEXT, max_size=3).map(tuple),
    st.sampled_from(["values", "hard-coded", "absent", "unknown"]),
)
_FINDINGS = st.builds(
    Finding,
    code=_TEXT,
    slug=_TEXT,
    severity=st.sampled_from(list(Severity)),
    category=_TEXT,
    message=_TEXT,
    object=st.builds(ObjectRef, _TEXT, _TEXT, _MAYBE, _TEXT),
    path=_PATH,
    origin=st.builds(Origin, _TEXT, _INTS, _MAYBE, _MAYBE, _MAYBE, st.booleans()),
    container=_MAYBE,
    fix=st.none() | _FIXES,
    line=st.none() | _INTS,
    input=_TEXT,
    trace=st.none() | _TRACES,
    suppressed=_MAYBE,
    value_sets=st.lists(_TEXT, max_size=2),
)


@settings(max_examples=500, deadline=None)
@given(_FINDINGS)
def test_a_findings_text_is_what_the_encoder_makes_of_its_dict(finding: Finding) -> None:
    expected = json_report._ENCODE(json_report.finding_dict(finding))
    assert json_report.finding_json(finding) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(_FINDINGS, min_size=1, max_size=4), st.lists(st.integers(0, 3), max_size=8))
def test_findings_that_share_a_rule_object_or_origin_are_written_as_alone(
    findings: list[Finding], picks: list[int]
) -> None:
    # The report's writer reuses the text of the previous finding's rule fields, ObjectRef
    # and Origin when they are the same objects: mixes of shared and changed ones.
    mixed = list(findings)
    for i in picks:
        a, b = findings[i % len(findings)], findings[(i + 1) % len(findings)]
        mixed.append(dataclasses.replace(b, code=a.code, object=a.object))
        mixed.append(dataclasses.replace(a, origin=b.origin, severity=b.severity))
    write = json_report._FindingText()
    for finding in mixed:
        assert write(finding) == json_report._ENCODE(json_report.finding_dict(finding))


@settings(max_examples=100, deadline=None)
@given(st.lists(_FINDINGS, min_size=1, max_size=4), st.lists(_FIXES, max_size=6), st.data())
def test_findings_that_share_fixes_are_written_as_alone_and_the_texts_kept_are_bounded(
    findings: list[Finding], fixes: list[Fix], data: st.DataObject
) -> None:
    # Findings share fix objects (rules._helpers.set_fix); the writer keeps each fix's text
    # by object, at most _MOST_FIXES at once (3 here): shared, new and dropped ones mixed.
    write = json_report._FindingText()
    bound = 3
    pool = fixes or [None]
    mixed = [dataclasses.replace(f, fix=data.draw(st.sampled_from(pool))) for f in findings * 3]
    original = json_report._MOST_FIXES
    json_report._MOST_FIXES = bound
    try:
        for finding in mixed:
            assert write(finding) == json_report._ENCODE(json_report.finding_dict(finding))
            assert len(write._fixes) <= bound
    finally:
        json_report._MOST_FIXES = original


def test_finding_for_fills_each_field_from_its_source() -> None:
    """finding_for passes Finding's fields by position: each lands in its own field."""
    from kubevet.findings import Violation, finding_for
    from kubevet.model import K8sObject
    from kubevet.rules.examples import EXAMPLE_POD
    from kubevet.rules.registry import all_rules
    from kubevet.sources.yamldocs import parse_stream

    rule = next(r for r in all_rules() if r.code == "KV101")
    doc = parse_stream(EXAMPLE_POD, "pod.yaml")[0][0]
    obj = K8sObject(doc.data, Origin("pod.yaml", 3), doc)
    fix = Fix("safe", "set it", (Edit("set", ("spec", "x"), 1),))
    v = Violation("the message", ("spec", "containers", 0), "web", fix)
    f = finding_for(rule, obj, v, "the input")
    expected = {
        "code": rule.code, "slug": rule.slug, "severity": rule.severity,
        "category": rule.category, "message": "the message", "object": obj.ref,
        "path": ("spec", "containers", 0), "origin": obj.origin, "container": "web",
        "fix": fix, "line": None, "input": "the input", "trace": None, "suppressed": None,
        "source_line": None, "obj": obj, "edit_traces": [], "value_sets": [],
    }  # fmt: skip
    assert {k.name: getattr(f, k.name) for k in dataclasses.fields(f)} == expected
