"""Label-selector semantics (LabelSelector and Service-style maps)."""

from __future__ import annotations

import pytest

from kubevet.selectors import (
    SelectorError,
    is_empty,
    matches,
    matches_map,
    matches_or_none,
)

LABELS = {"app": "web", "tier": "frontend", "version": 2}


def expr(key: str, op: str, *values: str) -> dict:
    out: dict = {"key": key, "operator": op}
    if values:
        out["values"] = list(values)
    return {"matchExpressions": [out]}


@pytest.mark.parametrize("selector", [None, {}, {"matchLabels": {}}, {"matchExpressions": []}])
def test_empty_label_selector_matches_everything(selector):
    assert matches(selector, LABELS)
    assert matches(selector, {})
    assert is_empty(selector)


def test_match_labels_needs_every_pair():
    assert matches({"matchLabels": {"app": "web"}}, LABELS)
    assert matches({"matchLabels": {"app": "web", "tier": "frontend"}}, LABELS)
    assert not matches({"matchLabels": {"app": "web", "tier": "backend"}}, LABELS)
    assert not matches({"matchLabels": {"app": "web"}}, {})
    assert not is_empty({"matchLabels": {"app": "web"}})


def test_values_compare_as_strings():
    assert matches({"matchLabels": {"version": "2"}}, LABELS)
    assert matches_map({"version": 2}, {"version": "2"})
    assert matches({"matchLabels": {"on": "true"}}, {"on": True})


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (expr("tier", "In", "frontend", "edge"), True),
        (expr("tier", "In", "backend"), False),
        (expr("missing", "In", "x"), False),
        (expr("tier", "NotIn", "backend"), True),
        (expr("tier", "NotIn", "frontend"), False),
        (expr("missing", "NotIn", "x"), True),  # an absent key satisfies NotIn
        (expr("app", "Exists"), True),
        (expr("missing", "Exists"), False),
        (expr("missing", "DoesNotExist"), True),
        (expr("app", "DoesNotExist"), False),
    ],
)
def test_match_expressions(selector, expected):
    assert matches(selector, LABELS) is expected


def test_labels_and_expressions_are_anded():
    selector = {"matchLabels": {"app": "web"}, **expr("tier", "In", "backend")}
    assert not matches(selector, LABELS)
    selector = {"matchLabels": {"app": "web"}, **expr("tier", "In", "frontend")}
    assert matches(selector, LABELS)


@pytest.mark.parametrize(
    "selector",
    [
        expr("app", "Equals", "web"),
        expr("app", "In"),
        expr("app", "Exists", "web"),
        {"matchExpressions": "app in (web)"},
        {"matchExpressions": ["app"]},
    ],
)
def test_invalid_selectors_raise(selector):
    with pytest.raises(SelectorError):
        matches(selector, LABELS)
    assert matches_or_none(selector, LABELS) is None


def test_service_map_selects_nothing_when_empty():
    assert not matches_map(None, LABELS)
    assert not matches_map({}, LABELS)


def test_service_map_subset_semantics():
    assert matches_map({"app": "web"}, LABELS)
    assert not matches_map({"app": "web", "role": "db"}, LABELS)
    assert not matches_map({"app": "api"}, LABELS)
    assert not matches_map({"app": "web"}, None)
