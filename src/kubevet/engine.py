"""Runs selected rules over prepared objects, applies suppressions, dedups and sorts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kubevet.context import InputGroup, Options, RuleContext
from kubevet.findings import Finding, InputError, Violation, finding_for
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
    """All findings (suppressed ones included, marked) for one input group. A rule that
    raises on an object is an internal error for that object (in `group.errors`); the
    other rules and objects are still checked."""
    from kubevet.sources.evidence import load_evidence

    load_evidence(group, options.settings)  # once per group: rules read files no more
    plan = _Plan.build(rules)
    ctxs = {r.code: RuleContext(options, group, r.code, r.defaults) for r in rules}
    findings: list[Finding] = []
    for obj in group.objects:
        findings.extend(_check_object(obj, plan, ctxs, group))
    for r in plan.group:
        for v in _violations(r, group, None, ctxs[r.code], group):
            if isinstance(v.obj, K8sObject):
                findings.append(finding_for(r, v.obj, v, group.label))
    return finalize(findings, group, {r.code for r in rules})


def _violations(
    r: Rule, group: InputGroup, obj: K8sObject | None, *args: object
) -> list[Violation]:
    try:
        return list(r.check(*args))
    except Exception as exc:
        group.errors.append(internal_error(r.code, obj, group, exc))
        return []


def internal_error(
    code: str, obj: K8sObject | None, group: InputGroup, exc: Exception
) -> InputError:
    """An InputError that names the rule, the object and its file (or the input)."""
    where = f"{obj.ref}" if obj is not None else f"input {group.label}"
    file = obj.origin.file if obj is not None else group.label
    line = obj.origin.line if obj is not None and not obj.origin.rendered else None
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    message = f"internal error in rule {code} on {where}: {detail} (please report it)"
    return InputError(file, message, line)


def _check_object(
    obj: K8sObject, plan: _Plan, ctxs: dict[str, RuleContext], group: InputGroup
) -> Iterable[Finding]:
    label = group.label
    for r in plan.object_any + plan.object_by_kind.get(obj.kind, []):
        for v in _violations(r, group, obj, ctxs[r.code], obj):
            yield finding_for(r, obj, v, label)
    pod = obj.pod
    if pod is None:
        return
    for r in plan.pod:
        for v in _violations(r, group, obj, ctxs[r.code], obj, pod):
            yield finding_for(r, obj, v, label)
    for container in pod.containers:
        for r in plan.container:
            for v in _violations(r, group, obj, ctxs[r.code], obj, pod, container):
                if v.container is None:
                    v.container = container.name
                yield finding_for(r, obj, v, label)


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
