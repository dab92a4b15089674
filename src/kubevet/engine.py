"""Runs selected rules over prepared objects, applies suppressions, dedups and sorts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kubevet.context import InputGroup, Options, RuleContext
from kubevet.findings import Finding, InputError, Violation, finding_for
from kubevet.model import K8sObject, format_path
from kubevet.rules.registry import Rule
from kubevet.suppress import Suppressions

Checks = list[tuple[Rule, RuleContext]]


@dataclass
class _Plan:
    """Rules split by scope once per group, each paired with its context, so the
    per-object loop does no filtering or lookup work."""

    container: Checks
    pod: Checks
    object_any: Checks
    object_by_kind: dict[str, Checks]
    group: Checks
    _for_kind: dict[str, Checks] = field(default_factory=dict)

    @classmethod
    def build(cls, rules: Sequence[Rule], ctxs: dict[str, RuleContext]) -> _Plan:
        plan = cls([], [], [], {}, [])
        for r in rules:
            check = (r, ctxs[r.code])
            if r.scope == "object" and r.kinds is not None:
                for kind in r.kinds:
                    plan.object_by_kind.setdefault(kind, []).append(check)
            else:
                {"container": plan.container, "pod": plan.pod, "object": plan.object_any}.get(
                    r.scope, plan.group
                ).append(check)
        return plan

    def objects(self, kind: str) -> Checks:
        """The object-scope checks for a kind: those of every kind first, then its own."""
        checks = self._for_kind.get(kind)
        if checks is None:
            checks = self._for_kind[kind] = self.object_any + self.object_by_kind.get(kind, [])
        return checks


def check_group(group: InputGroup, rules: Sequence[Rule], options: Options) -> list[Finding]:
    """All findings (suppressed ones included, marked) for one input group. A rule that
    raises on an object is an internal error for that object (in `group.errors`); the
    other rules and objects are still checked."""
    from kubevet.sources.evidence import load_evidence

    load_evidence(group, options.settings)  # once per group: rules read files no more
    ctxs = {r.code: RuleContext(options, group, r.code, r.defaults) for r in rules}
    plan = _Plan.build(rules, ctxs)
    findings: list[Finding] = []
    for obj in group.objects:
        _check_object(obj, plan, group, findings)
    for r, ctx in plan.group:
        for v in _violations(r, group, None, ctx, group):
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


def _check_object(obj: K8sObject, plan: _Plan, group: InputGroup, out: list[Finding]) -> None:
    """Append the findings of every object, pod and container rule on `obj` to `out`.

    The hot loop of a run (rules x objects x containers): the calls are inlined rather
    than going through `_violations`, with the same outcome (a rule that raises on the
    object gives no findings there, and an internal error)."""
    label = group.label
    for r, ctx in plan.objects(obj.kind):
        n = len(out)
        try:
            for v in r.check(ctx, obj):
                out.append(finding_for(r, obj, v, label))
        except Exception as exc:
            del out[n:]  # none of its findings: the rule did not finish on this object
            group.errors.append(internal_error(r.code, obj, group, exc))
    pod = obj.pod
    if pod is None:
        return
    for r, ctx in plan.pod:
        n = len(out)
        try:
            for v in r.check(ctx, obj, pod):
                out.append(finding_for(r, obj, v, label))
        except Exception as exc:
            del out[n:]
            group.errors.append(internal_error(r.code, obj, group, exc))
    for container in pod.containers:
        name = container.name
        for r, ctx in plan.container:
            n = len(out)
            try:
                for v in r.check(ctx, obj, pod, container):
                    if v.container is None:
                        v.container = name
                    out.append(finding_for(r, obj, v, label))
            except Exception as exc:
                del out[n:]
                group.errors.append(internal_error(r.code, obj, group, exc))


def finalize(findings: list[Finding], group: InputGroup, active: set[str]) -> list[Finding]:
    """Dedup, apply suppressions (adding unused/invalid-suppression findings), sort."""
    places = _Places()
    numbers = places.numbers(findings)
    seen: set[tuple[object, ...]] = set()
    unique: list[Finding] = []
    kept: list[int] = []
    for f, n in zip(findings, numbers, strict=True):
        key = (n, f.code, f.path, f.container)  # as Finding.dedup_key
        if key not in seen:
            seen.add(key)
            unique.append(f)
            kept.append(n)
    extra = Suppressions.apply(unique, group, active)
    unique.extend(extra)
    kept.extend(places.numbers(extra))
    # The order of Finding.sort_key: its first six fields are the place's.
    prefixes = places.prefixes
    keys = [
        (prefixes[n], f.code, format_path(f.path), f.container or "")
        for f, n in zip(unique, kept, strict=True)
    ]
    return [unique[i] for i in sorted(range(len(unique)), key=keys.__getitem__)]


class _Places:
    """Numbers each distinct (input, origin, object) of the findings once, with its part of
    the sort key: every finding of an object shares them, and hashing or reading the same
    frozen dataclasses for each finding was most of `finalize`."""

    def __init__(self) -> None:
        self._by_value: dict[tuple[object, ...], int] = {}
        self.prefixes: list[tuple[object, ...]] = []

    def numbers(self, findings: list[Finding]) -> list[int]:
        """For each finding, the same number as for those whose input, origin and object
        are equal."""
        out: list[int] = []
        origin: object = None
        ref: object = None
        label: str | None = None
        n = -1
        for f in findings:
            # Findings come object by object: mostly the same place as the previous one.
            if f.origin is not origin or f.object is not ref or f.input != label:
                origin, ref, label = f.origin, f.object, f.input
                n = self._number(f)
            out.append(n)
        return out

    def _number(self, f: Finding) -> int:
        n = self._by_value.setdefault((f.input, f.origin, f.object), len(self._by_value))
        if n == len(self.prefixes):
            ref, where = f.object, (f.input, f.origin.file, f.origin.line)
            self.prefixes.append((*where, ref.kind, ref.namespace or "", ref.name))
        return n
