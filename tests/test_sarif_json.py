"""The SARIF writer's encoder gives json.dumps(indent=2, ensure_ascii=False)'s bytes, for any
JSON value and for whole SARIF logs (check and merge share the writer)."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections import OrderedDict

import pytest
from conftest import FIXTURES, ROOT
from hypothesis import given
from hypothesis import strategies as st

from kubevet.report import sarif_json
from kubevet.report.sarif_report import iter_render, sarif_log
from kubevet.result import Report
from kubevet.runner import RunSettings, run_check

# Every code point, lone surrogates and C0/C1 controls included.
TEXT = st.text(st.characters(exclude_categories=()), max_size=12)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
KEYS = TEXT | st.integers() | st.floats() | st.booleans() | st.none()
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(KEYS, inner, max_size=4)
    ),
    max_leaves=30,
)


def standard(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@given(VALUES)
def test_any_json_value_is_encoded_as_json_dumps_indents_it(value):
    assert sarif_json.dumps(value) == standard(value)


@given(VALUES, st.integers(min_value=0, max_value=5))
def test_a_value_placed_deeper_is_indented_from_its_line(value, level):
    newline = "\n" + "  " * level
    assert sarif_json.dumps(value, newline) == standard(value).replace("\n", newline)


class Level(enum.IntEnum):
    HIGH = 8


class Kind(enum.StrEnum):
    POD = "Pod"


@pytest.mark.parametrize(
    "value",
    [
        {"a": Level.HIGH, "b": Kind.POD, Kind.POD: [Level.HIGH]},
        OrderedDict([("z", 1), ("a", (2.5, -0.0, 1e300, 10**30))]),
        [math.nan, math.inf, -math.inf, {math.inf: None, 1.5: True, None: False}],
        {"": [], "e": {}, "n": [[], {}, [[]]]},
        '\x00\x1f\x7f\u2028\u2029"\\/\ud800 é 日本 🙂',
    ],
)
def test_subclasses_and_special_numbers_are_spelled_as_json_spells_them(value):
    assert sarif_json.dumps(value) == standard(value)


@pytest.mark.parametrize("value", [{1, 2}, {"a": object()}, [b"bytes"], {(1, 2): 3}])
def test_what_json_refuses_is_refused(value):
    with pytest.raises(TypeError):
        json.dumps(value, indent=2)
    with pytest.raises(TypeError):
        sarif_json.dumps(value)


def written(report: Report) -> str:
    return "".join(iter_render(report))


def as_json_dumps(report: Report) -> str:
    """What the SARIF writer gave before it had its own encoder."""
    return json.dumps(sarif_log(report), indent=2, ensure_ascii=False) + "\n"


def test_sarif_logs_are_the_bytes_json_dumps_gives(monkeypatch):
    monkeypatch.chdir(ROOT)
    examples = run_check(
        ["examples/chart", "examples/manifests"], RunSettings(jobs=1)
    )  # traced chart findings: related locations
    cli = FIXTURES / "cli"
    mixed = run_check(  # a suppressed finding, an input error, a render failure
        [str(cli / "suppressed"), str(cli / "bad.yaml"), str(cli / "broken-chart")],
        RunSettings(jobs=1),
    )
    assert examples.findings and mixed.errors
    for report in (examples, mixed):
        assert written(report) == as_json_dumps(report)


def test_empty_results_and_odd_text_are_the_bytes_json_dumps_gives(monkeypatch):
    monkeypatch.chdir(ROOT)
    report = run_check(["examples/manifests"], RunSettings(jobs=1))
    assert report.findings
    odd = 'é 日本 🙂 \x00\x01\x1f\x7f \u2028 "quoted" back\\slash </script>'
    changed = [
        dataclasses.replace(
            f,
            message=f.message + odd,
            object=dataclasses.replace(f.object, name=f.object.name + odd),
            origin=dataclasses.replace(f.origin, file=f"dir {odd}/x.yaml"),
            container=odd,
        )
        for f in report.findings
    ]
    many = changed * 40  # the same findings many times over: one result each
    for findings in ([], changed, many):
        variant = dataclasses.replace(report, findings=findings, warnings=[odd])
        text = written(variant)
        assert text == as_json_dumps(variant)
        assert len(json.loads(text)["runs"][0]["results"]) == len(findings)


# A SARIF result's values: no floats (orjson spells some of them otherwise).
NO_FLOATS = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(TEXT | st.integers() | st.booleans() | st.none(), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(NO_FLOATS, st.integers(min_value=0, max_value=5))
def test_values_without_floats_through_orjson_are_json_dumps_bytes(value, level):
    newline = "\n" + "  " * level
    expected = standard(value).replace("\n", newline)
    assert sarif_json.dumps_without_floats(value, newline) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"a": Level.HIGH, "b": Kind.POD, Kind.POD: [Level.HIGH]},
        {"big": 10**30, "surrogate": "\ud800", 7: None, None: True},
        {"": [], "e": {}, "n": [[], {}, [[]]], "s": '\x00\x1f\x7f\u2028"\\/ é 🙂'},
    ],
)
def test_what_orjson_refuses_or_spells_otherwise_falls_back_to_the_same_bytes(value):
    assert sarif_json.dumps_without_floats(value, "\n  ") == standard(value).replace("\n", "\n  ")
