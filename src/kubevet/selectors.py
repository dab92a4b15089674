"""Kubernetes label-selector matching, shared by rules and analyses.

Two selector shapes exist in the API:
- `LabelSelector` (`matchLabels` + `matchExpressions`), used by Deployments, PDBs,
  NetworkPolicies...: `matches()`. An empty selector matches everything; a missing one
  (None) is treated the same here, as for NetworkPolicy `podSelector: {}`.
- plain maps (`Service.spec.selector`, ReplicationController): `matches_map()`. An empty
  or missing map selects nothing, as the Service controller creates no endpoints for it.

Label values are compared as strings, since YAML may type `version: 1` as an int.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


class SelectorError(ValueError):
    """A selector that the API server would reject (unknown operator, bad values)."""


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, Any] | None) -> bool:
    """Whether `labels` satisfy a LabelSelector (all requirements ANDed).

    Raises SelectorError on an invalid selector, so callers can report it rather than
    guess; use `matches_or_none` to get None instead.
    """
    if not selector:
        return True
    have = _str_map(labels)
    for key, value in _as_map(selector.get("matchLabels")).items():
        if have.get(str(key)) != label_value(value):
            return False
    exprs = selector.get("matchExpressions") or []
    if not isinstance(exprs, list):
        raise SelectorError("matchExpressions must be a list")
    return all(_requirement(expr, have) for expr in exprs)


def matches_or_none(
    selector: Mapping[str, Any] | None, labels: Mapping[str, Any] | None
) -> bool | None:
    """Like `matches`, but None when the selector is invalid."""
    try:
        return matches(selector, labels)
    except SelectorError:
        return None


def matches_map(selector: Mapping[str, Any] | None, labels: Mapping[str, Any] | None) -> bool:
    """Whether `labels` contain every pair of a Service-style selector map (empty: False)."""
    if not selector:
        return False
    have = _str_map(labels)
    return all(have.get(str(k)) == label_value(v) for k, v in selector.items())


def is_empty(selector: Mapping[str, Any] | None) -> bool:
    """True for a LabelSelector with no requirements (selects every pod)."""
    if not selector:
        return True
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def _requirement(expr: Any, have: dict[str, str]) -> bool:
    if not isinstance(expr, Mapping):
        raise SelectorError("a matchExpressions entry must be a mapping")
    key, op = str(expr.get("key", "")), expr.get("operator")
    values = expr.get("values") or []
    if not isinstance(op, str) or op not in OPERATORS:  # a list here is not hashable
        raise SelectorError(f"unknown selector operator {op!r}")
    if not isinstance(values, list):
        raise SelectorError("matchExpressions values must be a list")
    if op in ("In", "NotIn") and not values:
        raise SelectorError(f"operator {op} needs at least one value")
    if op in ("Exists", "DoesNotExist") and values:
        raise SelectorError(f"operator {op} takes no values")
    wanted = {label_value(v) for v in values}
    if op == "In":
        return key in have and have[key] in wanted
    if op == "NotIn":
        return key not in have or have[key] not in wanted  # absent key satisfies NotIn
    if op == "Exists":
        return key in have
    return key not in have


def label_value(value: Any) -> str:
    """A label or selector value as the API server compares it (YAML `true` is "true")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _str_map(labels: Mapping[str, Any] | None) -> dict[str, str]:
    # A string value (nearly all of them) is its own label value: no call for it.
    return {str(k): v if type(v) is str else label_value(v) for k, v in _as_map(labels).items()}


def _as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
