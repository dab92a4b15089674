"""No fix may introduce a finding: the rule-by-rule comparison of before and after, and
the objects that complete a fix (or remedy a finding) where an object is what is missing.

A rule whose count rises after the fixes either gets its new findings completed here (a
PodDisruptionBudget for a workload that now runs replicas, KV307) or the fixes on the
objects that carry them are withdrawn, with the reason shown to the user.
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

# Rules whose findings an added object removes, with the function that makes it.
PDB_RULE = "KV307"
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


def completable(f: Finding, objects: list[dict[str, Any]]) -> bool:
    """Can an added object remove this finding?"""
    return f.code == PDB_RULE and pdb_for(f, objects) is not None


def pdb_for(f: Finding, objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A `policy/v1` PodDisruptionBudget letting one pod of the workload go at a time,
    selecting its pods with the workload's own selector; None when the workload has no
    selector to copy."""
    workload = next((d for d in objects if identity(d) == object_ident(f)), None)
    if workload is None:
        return None
    selector = (workload.get("spec") or {}).get("selector")
    if not isinstance(selector, dict) or not selector:
        return None
    meta = workload.get("metadata") or {}
    taken = {identity(d) for d in objects}
    name = str(meta.get("name"))
    namespace = str(meta.get("namespace") or "")
    for candidate in (name, f"{name}-pdb", f"{name}-kubevet-pdb"):
        if ("PodDisruptionBudget", namespace, candidate) not in taken:
            break
    else:
        return None
    out_meta: dict[str, Any] = {"name": candidate}
    if namespace:
        out_meta["namespace"] = namespace
    if isinstance(meta.get("labels"), dict) and meta["labels"]:
        out_meta["labels"] = copy.deepcopy(meta["labels"])
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": out_meta,
        "spec": {"maxUnavailable": 1, "selector": copy.deepcopy(selector)},
    }


def added_objects(
    findings: list[Finding], objects: list[dict[str, Any]]
) -> list[tuple[Finding, dict[str, Any]]]:
    """The objects that remove `findings` where an object is what is missing, each once."""
    out: list[tuple[Finding, dict[str, Any]]] = []
    pool = list(objects)
    for f in findings:
        if f.code != PDB_RULE:
            continue
        pdb = pdb_for(f, pool)
        if pdb is not None:
            out.append((f, pdb))
            pool.append(pdb)
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
    return replace(group, objects=objects, _index=None)


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
