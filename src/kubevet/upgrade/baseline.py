"""Which blockers are already there today: the same object checked at the baseline release
(`--from`, else the release before the target).

A chart is rendered again for the baseline, as that cluster would render it, and each
object with a blocker at the target is looked up there by template, kind, namespace and
name; other inputs are the same objects at both releases. A blocker whose object is
broken the same way at the baseline (its API not served, or its schema failing) cannot be
running today: it is reported apart, and the verdict counts only what this upgrade breaks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kubevet.context import InputGroup
from kubevet.model import K8sObject
from kubevet.upgrade.analyze import ObjectResult, Target, object_problems
from kubevet.upgrade.crd import CrdVersion
from kubevet.upgrade.schema import choose_schema
from kubevet.upgrade.table import fmt

API_GONE = {"removed", "unserved", "crd-unserved"}
Key = tuple[str, str, str, str]


def mark_already_broken(
    group: InputGroup,
    results: list[ObjectResult],
    target: Target,
    helm_opts: Any,
    crds: dict[tuple[str, str], CrdVersion],
) -> list[str]:
    """Set `already` on the blockers of `results` that the baseline has too; returns
    warnings (a chart that does not render for the baseline)."""
    if not any(p.blocker for r in results for p in r.problems):
        return []
    before, warnings = _baseline_objects(group, target, helm_opts)
    base = dataclasses.replace(
        target,
        to=target.baseline,
        current=None,
        schema=choose_schema(target.baseline) if target.schema else None,
    )
    for r in results:
        old = before.get(_key(r.obj))
        if old is None:
            continue  # rendered only for the target: this upgrade brings it
        then = {_category(p.kind) for p in object_problems(old, base, crds)}
        for p in r.problems:
            if p.blocker and _category(p.kind) in then:
                p.already = fmt(target.baseline)
    return warnings


def _baseline_objects(
    group: InputGroup, target: Target, helm_opts: Any
) -> tuple[dict[Key, K8sObject], list[str]]:
    if group.source not in ("chart", "release-chart"):
        return {_key(o): o for o in group.objects}, []
    from kubevet.sources.helm import load_chart
    from kubevet.sources.releases import render_release

    opts = dataclasses.replace(helm_opts, kube_version=fmt(target.baseline))
    if group.source == "chart":
        again = load_chart(group.label, opts)
    else:
        release = group.chart.release if group.chart else None
        if release is None:
            raise ValueError(f"{group.label}: a release-chart group names no release")
        again = render_release(release, opts)
    if again.errors:
        why = "; ".join(e.message for e in again.errors)
        return {}, [f"{group.label}: not rendered for {fmt(target.baseline)} ({why})"]
    return {_key(o): o for o in again.objects}, []


def _key(obj: K8sObject) -> Key:
    return (obj.origin.template or obj.origin.file, obj.kind, obj.namespace or "", obj.name)


def _category(kind: str) -> str:
    return "api" if kind in API_GONE else kind
