"""Lever 1 for what a missing object remedies: the chart's own values key that makes it
render that object (a PodDisruptionBudget through `pdb.create`, a dedicated ServiceAccount
through `serviceAccount.create`), proven as every override is: re-rendered, nothing
changed but the objects added (and, for an account, the pods' account name), the new
objects schema-valid, re-checked with no rule rising. What no key reaches is left to the
post-render set."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from kubevet.findings import Finding
from kubevet.fix.choose import check, finding_key
from kubevet.fix.gate import object_ident, rises
from kubevet.model import Path, get_path

if TYPE_CHECKING:
    from kubevet.fix.chart import ChartResult
    from kubevet.runner import RunSettings


@dataclass(frozen=True)
class ObjectKey:
    kind: str  # the kind the key makes the chart render
    keys: tuple[Path, ...]  # the switches charts commonly name it by, tried in order
    field: str  # the pod field the object also changes ("" when none)
    unsafe: bool  # it changes how the workload runs


OBJECT_KEYS = {
    "KV307": ObjectKey(
        "PodDisruptionBudget",
        (("pdb", "create"), ("podDisruptionBudget", "enabled"), ("pdb", "enabled")),
        "",
        False,
    ),
    # the pods leave `default` (and whatever pull secrets a cluster gave it): unsafe
    "KV134": ObjectKey(
        "ServiceAccount", (("serviceAccount", "create"),), "serviceAccountName", True
    ),
}


def complete_with_keys(result: ChartResult, settings: RunSettings, unsafe: bool) -> None:
    """Turn on the chart's own switch for each rule of OBJECT_KEYS whose findings are left
    after the override, where the chart has one set to false; keep it when proven."""
    from kubevet.sources.helm import deep_merge
    from kubevet.sources.renderworker import LimitError

    chart = result.chart
    if result.render is None or result.errors or not os.path.isdir(chart):
        return
    defaults = _chart_values(chart)
    first = result.first_render
    user = (first.chart.user_values if first is not None and first.chart else None) or {}
    for code, spec in OBJECT_KEYS.items():
        targets = [f for f in result.after if f.code == code]
        base = result.values or user
        merged = deep_merge(copy.deepcopy(defaults), copy.deepcopy(base))
        key = next((k for k in spec.keys if get_path(merged, k) is False), None)
        if not targets or key is None or (spec.unsafe and not unsafe):
            continue
        values = deep_merge(copy.deepcopy(base), _nested(key, True))
        try:
            _try(result, settings, spec, targets, base, values)
        except LimitError:  # a render past its bound: the switch stays off, as it was
            continue


def _try(
    result: ChartResult,
    settings: RunSettings,
    spec: ObjectKey,
    targets: list[Finding],
    base: dict[str, Any],
    values: dict[str, Any],
) -> None:
    from kubevet.fix.chart import noise_roots, render_with, unstable_names, verify_render
    from kubevet.fix.verify import identity, schema_errors

    old = result.render
    new = render_with(result.chart, values, settings.helm)
    if new.errors:
        return
    again = render_with(result.chart, base, settings.helm)  # what varies anyway
    roots = noise_roots(old.objects, again.objects)
    unstable = unstable_names(old.objects, again.objects)
    if spec.field:
        for f in targets:
            roots.setdefault(object_ident(f), []).append(f.path)
    version = settings.options.kube_version
    problems = verify_render(old.objects, new.objects, roots, version, unstable)
    if [p for p in problems if not p.startswith(f"new {spec.kind} ")]:
        return
    known = {identity(o.data) for o in old.objects}
    added = [o.data for o in new.objects if identity(o.data) not in known]
    if not added or any(schema_errors(d, version) for d in added):
        return
    after = check(new, settings)
    if rises(result.findings, after) or rises(result.after, after):
        return
    left = {finding_key(f) for f in after}
    gone = [f for f in targets if finding_key(f) not in left]
    if gone:
        result.values, result.render, result.after = values, new, after
        result.removed += gone
        result.applied += gone


def _chart_values(chart: str) -> dict[str, Any]:
    """The chart's own top-level values.yaml (the switches are top-level keys)."""
    from kubevet.findings import InputError
    from kubevet.sources.manifests import read_text
    from kubevet.sources.yamlload import load_one

    try:
        data = load_one(read_text(os.path.join(chart, "values.yaml")))
    except (InputError, OSError, ValueError, yaml.YAMLError):  # the render reported it
        return {}
    return data if isinstance(data, dict) else {}


def _nested(path: Path, value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(path):
        out = {part: out}
    return out
