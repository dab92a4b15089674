"""Availability through disruptions (KV305, KV307, KV308, KV314): replicas, autoscalers,
PodDisruptionBudgets."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Edit, Violation
from kubevet.model import K8sObject
from kubevet.rules._helpers import as_dict, edit_fix, set_fix
from kubevet.rules.examples import EXAMPLE_DEPLOYMENT as _DEPLOYMENT
from kubevet.rules.examples import example_hpa
from kubevet.rules.options import Option
from kubevet.rules.registry import rule
from kubevet.rules.reliability.kinds import (
    is_helm_hook,
)
from kubevet.selectors import matches_or_none


def _replicas(obj: K8sObject) -> Any:
    return obj.get(("spec", "replicas"), 1)


def hpa_for(group: InputGroup, obj: K8sObject) -> K8sObject | None:
    """The HorizontalPodAutoscaler in the input that scales `obj`, if any (the first)."""
    return group.view(_hpas_by_target).get((obj.kind, obj.name, obj.namespace))


def _hpas_by_target(group: InputGroup) -> dict[tuple[object, object, str | None], K8sObject]:
    """Each HPA of the input by its (target kind, target name, namespace), first one kept."""
    out: dict[tuple[object, object, str | None], K8sObject] = {}
    for hpa in group.by_kind("HorizontalPodAutoscaler"):
        ref = as_dict(hpa.get(("spec", "scaleTargetRef")))
        with contextlib.suppress(TypeError):  # a list or map there names no object
            out.setdefault((ref.get("kind"), ref.get("name"), hpa.namespace), hpa)
    return out


def min_replicas(group: InputGroup, obj: K8sObject) -> int | None:
    """The smallest replica count the workload runs with (HPA minReplicas wins), or None."""
    hpa = hpa_for(group, obj)
    value = hpa.get(("spec", "minReplicas"), 1) if hpa else _replicas(obj)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@rule(
    code="KV305",
    slug="single-replica",
    title="Deployment runs a single replica",
    category="reliability",
    severity="low",
    scope="object",
    kinds=("Deployment",),
    what="A Deployment runs one replica (`spec.replicas` is 1 or unset), or the "
    "HorizontalPodAutoscaler in the input that scales it has `minReplicas` 1. Deployments "
    "scaled to 0 on purpose are not reported.",
    why="With one replica every rollout, node drain or crash is an outage of the service.",
    how_to_fix="Run at least two replicas (or set the autoscaler's `minReplicas` to 2), spread "
    "over nodes with topologySpreadConstraints or pod anti-affinity.",
    example_bad=_DEPLOYMENT.replace("replicas: 2", "replicas: 1"),
    example_good=_DEPLOYMENT,
    fix_applicability="unsafe",
    unified=("check_45",),
    options={"replicas": Option("integer", 2, "the replica count the fix sets")},
)
def single_replica(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    if is_helm_hook(obj):
        return
    hpa = hpa_for(ctx.group, obj)
    count = min_replicas(ctx.group, obj)
    if count != 1:
        return
    if hpa is not None:
        yield Violation(
            f"autoscaler {hpa.name!r} lets the deployment scale down to one replica",
            ("spec", "replicas"),
        )
        return
    wanted = ctx.setting("replicas", 2)
    yield Violation(
        "deployment runs a single replica",
        ("spec", "replicas"),
        fix=set_fix("unsafe", f"run {wanted} replicas", (("spec", "replicas"), wanted)),
    )


_PDB = """\
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: shop
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: web}
"""


def pdb_selects(pdb: K8sObject, obj: K8sObject, labels: dict[str, Any]) -> bool:
    """Whether a PodDisruptionBudget covers the pods of `obj` (same namespace, selector)."""
    if pdb.namespace != obj.namespace:
        return False
    selector = pdb.get(("spec", "selector"))
    if selector is None:
        return False  # a null selector selects no pods
    if not selector and not pdb.api_version.endswith("/v1"):
        return False  # policy/v1beta1: an empty selector selected nothing
    return matches_or_none(selector, labels) is True


@rule(
    code="KV307",
    slug="missing-pod-disruption-budget",
    title="Replicated workload has no PodDisruptionBudget",
    category="reliability",
    severity="low",
    scope="group",
    what="A StatefulSet or Deployment running more than one replica (its `spec.replicas`, or "
    "its autoscaler's `minReplicas`) has no PodDisruptionBudget in the input selecting its "
    "pods (same namespace, selector matching the pod template labels). Single-replica "
    "workloads are left alone: a budget for them can only block node drains.",
    why="Voluntary disruptions (node drains, cluster upgrades, autoscaler scale-downs) may "
    "evict every replica at once; a quorum-based StatefulSet then loses quorum.",
    how_to_fix="Add a `policy/v1` PodDisruptionBudget whose selector matches the pod labels, "
    "with `maxUnavailable: 1` (or a `minAvailable` that keeps quorum).",
    example_bad=_DEPLOYMENT,
    example_good=_DEPLOYMENT + _PDB,
    unified=("check_60",),
    references=("https://kubernetes.io/docs/tasks/run-application/configure-pdb/",),
)
def missing_pod_disruption_budget(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    pdbs = group.by_kind("PodDisruptionBudget")
    for kind in ("StatefulSet", "Deployment"):
        for obj in group.by_kind(kind):
            count = min_replicas(group, obj)
            if obj.pod is None or count is None or count < 2:
                continue
            labels = as_dict(obj.pod.metadata.get("labels"))
            if not any(pdb_selects(pdb, obj, labels) for pdb in pdbs):
                yield Violation(
                    f"{kind} {obj.name!r} ({count} replicas) has no PodDisruptionBudget",
                    ("spec", "selector"),
                    obj=obj,
                )


def _is_zero(value: Any) -> bool:
    return value == 0 or (isinstance(value, str) and value.strip() in ("0", "0%"))


@rule(
    code="KV308",
    slug="pdb-max-unavailable-zero",
    title="PodDisruptionBudget allows no disruption",
    category="reliability",
    severity="medium",
    scope="object",
    kinds=("PodDisruptionBudget",),
    what="A PodDisruptionBudget sets `maxUnavailable` to 0 (or 0%).",
    why="No pod it selects can ever be evicted voluntarily: node drains hang, cluster "
    "upgrades and the cluster autoscaler stall until someone deletes the budget by hand.",
    how_to_fix="Set `maxUnavailable: 1` (or a percentage above 0), or a `minAvailable` below "
    "the replica count.",
    example_bad=_PDB.replace("maxUnavailable: 1", "maxUnavailable: 0").lstrip("-\n"),
    example_good=_PDB.lstrip("-\n"),
    fix_applicability="unsafe",
    unified=("check_67",),
    references=("https://kubernetes.io/docs/tasks/run-application/configure-pdb/",),
)
def pdb_max_unavailable_zero(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    path = ("spec", "maxUnavailable")
    if _is_zero(obj.get(path)):
        yield Violation(
            "maxUnavailable is 0: no pod can be evicted voluntarily",
            path,
            fix=set_fix("unsafe", "allow one unavailable pod", (path, 1)),
        )


_HPA = example_hpa("web", "shop", max_replicas=10)


@rule(
    code="KV314",
    slug="replicas-with-autoscaler",
    title="Replica count set on an autoscaled workload",
    category="reliability",
    severity="low",
    scope="object",
    kinds=("Deployment", "StatefulSet"),
    what="A Deployment or StatefulSet that a HorizontalPodAutoscaler of the input scales also "
    "sets `spec.replicas`.",
    why="Every apply resets the replica count to the manifest's value, undoing the "
    "autoscaler's decision until it reacts again: a rollout during a load peak scales the "
    "workload down.",
    how_to_fix="Remove `spec.replicas` and let the autoscaler's `minReplicas` govern. Removing "
    "it from an applied object scales to 1 once (kubectl apply drops the field): set the "
    "current count through the autoscaler first, or remove it with server-side apply.",
    example_bad=_DEPLOYMENT + _HPA,
    example_good=_DEPLOYMENT.replace("  replicas: 2\n", "") + _HPA,
    fix_applicability="unsafe",
)
def replicas_with_autoscaler(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    hpa = hpa_for(ctx.group, obj)
    if hpa is None or obj.get(("spec", "replicas")) is None:
        return
    path = ("spec", "replicas")
    yield Violation(
        f"autoscaler {hpa.name!r} scales this {obj.kind}, yet it sets replicas",
        path,
        fix=edit_fix("unsafe", "leave the replica count to the autoscaler", Edit("remove", path)),
    )
