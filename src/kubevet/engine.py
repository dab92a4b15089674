"""Runs selected rules over prepared objects, applies suppressions, dedups and sorts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kubevet.context import InputGroup, Options, RuleContext
from kubevet.findings import Finding, Violation
from kubevet.model import K8sObject
from kubevet.rules.registry import Rule
from kubevet.suppress import Suppressions


@dataclass
class _Plan:
    """Rules split by scope once per run, so the per-object loop does no filtering work."""

    container: list[Rule]
    pod: list[Rule]
    object_any: list[Rule]
    object_by_kind: dict[str, list[Rule]]
    group: list[Rule]

    @classmethod
    def build(cls, rules: Sequence[Rule]) -> _Plan:
        plan = cls([], [], [], {}, [])
        for r in rules:
            if r.scope == "object" and r.kinds is not None:
                for kind in r.kinds:
                    plan.object_by_kind.setdefault(kind, []).append(r)
            else:
                {"container": plan.container, "pod": plan.pod, "object": plan.object_any}.get(
                    r.scope, plan.group
                ).append(r)
        return plan


def check_group(group: InputGroup, rules: Sequence[Rule], options: Options) -> list[Finding]:
    """All findings (suppressed ones included, marked) for one input group."""
    plan = _Plan.build(rules)
    ctxs = {r.code: RuleContext(options, group, r.code, r.defaults) for r in rules}
    findings: list[Finding] = []
    for obj in group.objects:
        findings.extend(_check_object(obj, plan, ctxs, group.label))
    for r in plan.group:
        for v in r.check(ctxs[r.code], group):
            if isinstance(v.obj, K8sObject):
                findings.append(_finding(r, v.obj, v, group.label))
    return finalize(findings, group, {r.code for r in rules})


def _check_object(
    obj: K8sObject, plan: _Plan, ctxs: dict[str, RuleContext], label: str
) -> Iterable[Finding]:
    for r in plan.object_any + plan.object_by_kind.get(obj.kind, []):
        for v in r.check(ctxs[r.code], obj):
            yield _finding(r, obj, v, label)
    pod = obj.pod
    if pod is None:
        return
    for r in plan.pod:
        for v in r.check(ctxs[r.code], obj, pod):
            yield _finding(r, obj, v, label)
    for container in pod.containers:
        for r in plan.container:
            for v in r.check(ctxs[r.code], obj, pod, container):
                if v.container is None:
                    v.container = container.name
                yield _finding(r, obj, v, label)


def _finding(r: Rule, obj: K8sObject, v: Violation, label: str) -> Finding:
    return Finding(
        code=r.code,
        slug=r.slug,
        severity=r.severity,
        category=r.category,
        message=v.message,
        object=obj.ref,
        path=v.path,
        origin=obj.origin,
        container=v.container,
        fix=v.fix,
        input=label,
        extra={"obj": obj},
    )


def finalize(findings: list[Finding], group: InputGroup, active: set[str]) -> list[Finding]:
    """Dedup, apply suppressions (adding unused/invalid-suppression findings), sort."""
    seen: set[tuple[object, ...]] = set()
    unique: list[Finding] = []
    for f in findings:
        key = f.dedup_key()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    unique.extend(Suppressions.apply(unique, group, active))
    unique.sort(key=Finding.sort_key)
    return unique
