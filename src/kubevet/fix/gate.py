"""No fix may introduce a finding: the rule-by-rule comparison of before and after, and
the objects that complete a fix (or remedy a finding) where an object is what is missing.

A rule whose count rises after the fixes either gets its new findings completed here (a
PodDisruptionBudget for a workload that now runs replicas, KV307; an autoscaler keeping
that count as its floor, KV904) or the fixes on the objects that carry them are withdrawn,
with the reason shown to the user.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import TYPE_CHECKING, Any

from kubevet.findings import Edit, Finding
from kubevet.fix.choose import finding_key
from kubevet.fix.edits import tree_copy
from kubevet.fix.verify import identity
from kubevet.model import Origin

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.runner import RunSettings

Ident = tuple[str, str, str]

PDB_RULE = "KV307"  # no PodDisruptionBudget: one is added
HPA_RULE = "KV904"  # a fixed count above one, no autoscaler: one is added
MAX_CULPRIT_CHECKS = 40  # fixes tried alone to find which one brings a new finding


def rises(before: list[Finding], after: list[Finding]) -> dict[str, list[Finding]]:
    """Per rule whose count rose from `before` to `after`, its findings that are new."""
    was, now = Counter(f.code for f in before), Counter(f.code for f in after)
    old = {finding_key(f) for f in before}
    return {
        code: [f for f in after if f.code == code and finding_key(f) not in old]
        for code in sorted(now)
        if now[code] > was[code]
    }


def object_ident(f: Finding) -> Ident:
    """The identity of the finding's object as its data says it (the namespace an input
    implies aside, so that it matches the rendered objects)."""
    return identity(f.obj.data)


def _workload(f: Finding, objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((d for d in objects if identity(d) == object_ident(f)), None)


def _free_name(kind: str, meta: dict[str, Any], objects: list[dict[str, Any]]) -> str | None:
    """The workload's own name for a new object of `kind`, or a suffixed one when taken."""
    taken = {identity(d) for d in objects}
    name, namespace = str(meta.get("name")), str(meta.get("namespace") or "")
    suffix = "pdb" if kind == "PodDisruptionBudget" else "hpa"
    for candidate in (name, f"{name}-{suffix}", f"{name}-kubevet-{suffix}"):
        if (kind, namespace, candidate) not in taken:
            return candidate
    return None


def _metadata(name: str, meta: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if meta.get("namespace"):
        out["namespace"] = str(meta["namespace"])
    if isinstance(meta.get("labels"), dict) and meta["labels"]:
        out["labels"] = copy.deepcopy(meta["labels"])
    return out


def pdb_for(f: Finding, objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A `policy/v1` PodDisruptionBudget letting one pod of the workload go at a time,
    selecting its pods with the workload's own selector; None when the workload has no
    selector to copy."""
    workload = _workload(f, objects)
    if workload is None:
        return None
    selector = (workload.get("spec") or {}).get("selector")
    if not isinstance(selector, dict) or not selector:
        return None
    meta = workload.get("metadata") or {}
    name = _free_name("PodDisruptionBudget", meta, objects)
    if name is None:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(name, meta),
        "spec": {"maxUnavailable": 1, "selector": copy.deepcopy(selector)},
    }


HPA_CPU_UTILIZATION = 80  # percent of the requested CPU the autoscaler keeps pods at


def hpa_for(f: Finding, objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """An `autoscaling/v2` HorizontalPodAutoscaler for a Deployment running a fixed count
    above one (KV904): never below that count (minReplicas), up to twice it when the pods
    use more than 80% of the CPU they request. None where an autoscaler is no sound
    choice: a StatefulSet (a quorum's count is fixed by design), or a container without a
    CPU request (the autoscaler cannot compute utilization and does nothing)."""
    workload = _workload(f, objects)
    if workload is None or workload.get("kind") != "Deployment":
        return None
    spec = workload.get("spec") or {}
    replicas = spec.get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 2:
        return None
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers")
    if not isinstance(containers, list) or not containers:
        return None
    if not all(_cpu_request(c) for c in containers):
        return None
    meta = workload.get("metadata") or {}
    name = _free_name("HorizontalPodAutoscaler", meta, objects)
    if name is None:
        return None
    target = {"apiVersion": str(workload.get("apiVersion")), "kind": "Deployment"}
    target["name"] = str(meta.get("name"))
    metric = {"type": "Utilization", "averageUtilization": HPA_CPU_UTILIZATION}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(name, meta),
        "spec": {
            "scaleTargetRef": target,
            "minReplicas": replicas,
            "maxReplicas": 2 * replicas,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": metric}}],
        },
    }


def _cpu_request(container: Any) -> bool:
    resources = container.get("resources") if isinstance(container, dict) else None
    requests = resources.get("requests") if isinstance(resources, dict) else None
    return isinstance(requests, dict) and requests.get("cpu") not in (None, "", 0, "0")


# Rules whose findings an added object removes, with the function that makes it.
COMPLETIONS = {PDB_RULE: pdb_for, HPA_RULE: hpa_for}


def added_objects(
    findings: list[Finding], objects: list[dict[str, Any]], unsafe: bool = False
) -> list[tuple[Finding, dict[str, Any]]]:
    """The objects that remove `findings` where an object is what is missing, each once.
    An autoscaler changes how the workload runs: only with `unsafe` (a KV904 that a raised
    replica count brings only comes with --unsafe-fixes anyway)."""
    out: list[tuple[Finding, dict[str, Any]]] = []
    pool = list(objects)
    for code in (HPA_RULE, PDB_RULE) if unsafe else (PDB_RULE,):
        for f in findings:
            if f.code != code:
                continue
            added = COMPLETIONS[code](f, pool)
            if added is not None:
                out.append((f, added))
                pool.append(added)
    return out


def autoscaled(objects: list[dict[str, Any]], added: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`objects` with `spec.replicas` gone from each Deployment an added autoscaler scales:
    the autoscaler owns the count from then on (a count in the manifest would reset it at
    every upgrade, KV314), its floor being the count the Deployment had."""
    scaled = {
        (
            "Deployment",
            str(o["metadata"].get("namespace") or ""),
            o["spec"]["scaleTargetRef"]["name"],
        )
        for o in added
        if o.get("kind") == "HorizontalPodAutoscaler"
    }
    out = []
    for data in objects:
        if identity(data) in scaled and "replicas" in (data.get("spec") or {}):
            data = {**data, "spec": {k: v for k, v in data["spec"].items() if k != "replicas"}}
        out.append(data)
    return out


def withdrawal_reason(code: str, new: list[Finding]) -> str:
    """What a withdrawn fix would have introduced, in the user's words."""
    from kubevet.rules.registry import get_rule

    rule = get_rule(code)
    title = f" ({rule.title})" if rule else ""
    where = ", ".join(dict.fromkeys(f"{f.object.kind} {f.object.name}" for f in new))
    return f"withdrawn: it would add {code}{title} on {where}"


def offenders(
    applied: list[Finding], rising: dict[str, list[Finding]]
) -> dict[int, tuple[str, list[Finding]]]:
    """Indices of the applied fixes on the objects where findings of a rising rule are
    new, with the rule and those findings (the first rule that names the object)."""
    hit: dict[Ident, tuple[str, list[Finding]]] = {}
    for code, new in rising.items():
        for f in new:
            hit.setdefault(object_ident(f), (code, [g for g in new if _same(g, f)]))
    return {i: hit[object_ident(f)] for i, f in enumerate(applied) if object_ident(f) in hit}


def _same(a: Finding, b: Finding) -> bool:
    return object_ident(a) == object_ident(b)


def regroup(group: InputGroup, datas: list[dict[str, Any]]) -> InputGroup:
    """`group` holding `datas` instead of its objects (each keeps its object's origin; an
    added object takes the origin of the group's first object)."""
    from dataclasses import replace

    from kubevet.model import K8sObject

    by_ident = {identity(o.data): o for o in group.objects}
    first = group.objects[0] if group.objects else None
    objects = []
    for data in datas:
        old = by_ident.get(identity(data)) or first
        origin = old.origin if old else Origin(group.label, 1)
        namespace = old.default_namespace if old else None
        objects.append(K8sObject(tree_copy(data), origin, default_namespace=namespace))
    # Indexes and views are of the old objects: the new group builds its own.
    return replace(group, objects=objects, _index=None, _views={})


def culprits(
    group: InputGroup,
    before: list[Finding],
    fixes: list[tuple[Finding, tuple[Edit, ...]]],
    rising: dict[str, list[Finding]],
    settings: RunSettings,
) -> dict[int, str]:
    """The fixes (by index) that bring new findings of the rising rules, each with the
    reason: every fix on an object where such a finding is new is tried alone on the
    original objects; when none does it alone, all of them are withdrawn together."""
    from dataclasses import replace

    from kubevet.fix.choose import check
    from kubevet.fix.edits import apply_edits

    named = offenders([f for f, _e in fixes], rising)
    only = replace(
        settings, select=sorted(rising), ignore=[], extend_select=[], selected_rules=None
    )
    found: dict[int, str] = {}
    for i in list(named)[:MAX_CULPRIT_CHECKS]:
        f, edits = fixes[i]
        datas = [
            apply_edits(o.data, edits) if identity(o.data) == object_ident(f) else o.data
            for o in group.objects
        ]
        alone = rises(before, check(regroup(group, datas), only))  # the rising rules only
        hit = next(((c, n) for c, n in alone.items() if c in rising), None)
        if hit is not None:
            found[i] = withdrawal_reason(*hit)
    if found:
        return found
    return {i: withdrawal_reason(*why) for i, why in named.items()}
