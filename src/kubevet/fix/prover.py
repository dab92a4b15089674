"""Prove a chart's values override: render it, verify, and narrow down to the fixes
that verify (each suspect alone, then added one at a time)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from kubevet.findings import Edit, Finding
from kubevet.fix.chart import (
    ChartResult,
    apply_values,
    materialized,
    noise_roots,
    object_roots,
    object_vanish,
    override_delta,
    render_with,
    unstable_names,
    verify_render,
)
from kubevet.fix.choose import FixOptions, check, finding_key
from kubevet.fix.gate import added_objects, autoscaled, culprits, regroup, rises
from kubevet.model import Path

MAX_ISOLATION_RENDERS = 60
MAX_GATE_ROUNDS = 3  # re-renders after withdrawing fixes that introduced findings

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.runner import RunSettings


class Prover:
    """Renders candidate overrides and narrows them down to the fixes that verify."""

    def __init__(
        self,
        path: str,
        settings: RunSettings,
        group: InputGroup,
        user: Any,
        merged: Any,
        applied: list[Any],
        nulls: dict[str, list[tuple[Path, Path]]] | None = None,
        before: list[Finding] | None = None,
        again: InputGroup | None = None,
    ) -> None:
        self.path, self.settings, self.group = path, settings, group
        self.before = before or []  # the round's findings: no rule may rise above them
        self.user, self.merged, self.applied = user, merged, applied
        self.nulls = nulls or {}
        self.compensate: dict[str, list[Edit]] = {}  # per section, see `_section_problems`
        # what varies between two renders anyway (`again`: the previous round's proof
        # render of these same values, when there was one)
        again = again or render_with(path, user, settings.helm)
        self.noise = noise_roots(group.objects, again.objects)
        self.unstable = unstable_names(group.objects, again.objects)
        self.materialize = False  # keep the defaults of the values maps the fixes set
        self.sections: dict[str, set[str]] = {}  # problems an empty `section: {}` causes
        self.tried = list(applied)
        self.unsafe = False

    def attempt(self, items: list[Any]) -> tuple[dict[str, Any], Any, list[str]]:
        edits = self._values_edits(items)
        edits = [e for s in _sections(edits) for e in self.compensate.get(s, ())] + edits
        delta = override_delta(self.merged, apply_values(self.merged, edits))
        from kubevet.sources.helm import deep_merge

        values = deep_merge(copy.deepcopy(self.user), delta)
        new = render_with(self.path, values, self.settings.helm)
        if new.errors:
            return values, new, [str(e) for e in new.errors]
        roots = object_roots([(f, e) for f, e, _ in self.applied])
        for ident, paths in self.noise.items():
            roots.setdefault(ident, []).extend(paths)
        version = self.settings.options.kube_version
        objs = self.group.objects
        vanish = object_vanish([(f, e) for f, e, _ in self.applied])
        return values, new, verify_render(objs, new.objects, roots, version, self.unstable, vanish)

    def prove(self, result: ChartResult, opts: FixOptions) -> None:
        self.unsafe = opts.unsafe  # completions that change how the app runs need it
        if not self.applied:
            return
        values, new, problems = self.attempt(self.applied)
        if problems:  # only then can a section named by the override be what changed it
            self.set_apart_blocked(result)
            if not self.applied:
                return
            values, new, problems = self.attempt(self.applied)
        if problems:  # keep the defaults a values map would replace
            self.materialize = True
            values, new, problems = self.attempt(self.applied)
        for narrow in (_isolate, _greedy):  # each suspect alone, then added one at a time
            if not problems:
                break
            suspects = _suspects(self.applied, problems)
            self.applied, rejected = narrow(self.applied, suspects, self.attempt)
            others = set(range(len(self.applied))) - suspects
            if narrow is _isolate and not rejected and 0 < len(others) <= MAX_ISOLATION_RENDERS:
                # every fix on the objects named verifies alone: the change comes from a
                # fix on another object whose values key also feeds them
                self.applied, rejected = narrow(self.applied, others, self.attempt)
            result.rejected.extend((f, self.explain(f, why)) for f, why in rejected)
            values, new, problems = self.attempt(self.applied) if self.applied else ({}, None, [])
        if problems or new is None:
            result.problems = problems
            result.rejected.extend((f, "verification failed") for f, *_ in self.applied)
            return
        after = check(new, self.settings)
        for _gate in range(MAX_GATE_ROUNDS):  # no fix may introduce a finding
            bad = self._introducing(after, new)
            if not bad:
                break
            result.withdrawn += [(self.applied[i][0], why) for i, why in bad.items()]
            self.applied = [item for i, item in enumerate(self.applied) if i not in bad]
            if not self.applied:
                return
            values, new, problems = self.attempt(self.applied)
            if problems:
                result.problems = problems
                result.rejected.extend((f, "verification failed") for f, *_ in self.applied)
                return
            after = check(new, self.settings)
        result.values, result.render, result.after = values, new, after
        result.applied = [f for f, *_ in self.applied]
        left = {finding_key(f) for f in after}
        result.removed = [f for f in result.applied if finding_key(f) not in left]

    def _introducing(self, after: list[Finding], new: Any) -> dict[int, str]:
        """The applied fixes that raise a rule's count, with the reason. A finding that the
        post-render set completes (a PodDisruptionBudget, an autoscaler) does not count,
        once the completed render is checked and rises no further."""
        rising = rises(self.before, after)
        objects = [o.data for o in new.objects]
        added = [o for _f, o in added_objects(_flat(rising), objects, self.unsafe)]
        if rising and added:  # what the set would add, checked as it will be
            completed = regroup(new, autoscaled(objects, added) + added)
            rising = rises(self.before, check(completed, self.settings))
        if not rising:
            return {}
        fixes = [(f, e) for f, e, _ve in self.applied]
        return culprits(self.group, self.before, fixes, rising, self.settings)

    def set_apart_blocked(self, result: ChartResult) -> None:
        """Fixes under a values section whose mere presence in a values file changes the
        render: no override there can verify, whatever it sets (Helm's coalescing keeps a
        subchart's null defaults once a user value names the subchart, helm/helm#32093)."""
        keep = []
        for item in self.applied:
            f, _edits, ve = item
            hit = next((s for s in _sections(ve) if self._section_problems(s)), None)
            if hit is None:
                keep.append(item)
                continue
            first = sorted(self._section_problems(hit))[0]
            result.blocked.append(
                (
                    f,
                    f"any values file that names `{hit}` changes the render before any fix "
                    f"({first}; Helm keeps the subchart's null defaults then, "
                    "helm/helm#32093): change the template instead",
                )
            )
        self.applied = keep

    def _section_problems(self, section: str) -> set[str]:
        """What an empty `section: {}` added to the user's values changes in the render
        (only a map section can be named that way without changing its value)."""
        if not isinstance(self.merged.get(section), dict):
            return set()
        if section not in self.sections:
            self.sections[section] = self._named_problems(section, [])
            compensate = self._fallbacks(section) if self.sections[section] else []
            if compensate and not self._named_problems(section, compensate):
                self.sections[section] = set()
                self.compensate[section] = compensate
        return self.sections[section]

    def _named_problems(self, section: str, edits: list[Edit]) -> set[str]:
        named = apply_values(deep_merge_copy(self.user, {section: {}}), edits)
        new = render_with(self.path, named, self.settings.helm)
        if new.errors:
            return {str(e) for e in new.errors}
        roots = {k: list(v) for k, v in self.noise.items()}
        version = self.settings.options.kube_version
        return set(verify_render(self.group.objects, new.objects, roots, version, self.unstable))

    def _fallbacks(self, section: str) -> list[Edit]:
        """The kept null defaults of `section` set to the global they fall back to when
        absent (`pluck "x" .Values.ingress .Values.global.ingress`, as gitlab does): the
        render is then the one without the section, which `_named_problems` checks."""
        from kubevet.model import get_path

        out = []
        for scope, rel in self.nulls.get(section, ()):
            value = get_path(self.merged, ("global", *rel), None)
            if value is not None and not isinstance(value, dict | list):
                out.append(Edit("set", (*scope, *rel), value))
        return out

    def explain(self, f: Finding, problem: str) -> str:
        """The verification problem of a refused fix, said from the user's side: which
        values keys it sets and what else setting them changes."""
        from kubevet.trace.keys import format_key

        own = next((ve for g, _e, ve in self.tried if g is f), [])
        keys = ", ".join(dict.fromkeys(format_key(e.path) for e in own)) or "its values keys"
        section = self._section_effect(own, problem)
        if section:
            return (
                f"{problem}: the chart renders this differently as soon as a values file "
                f"names `{section}`, even empty, so no override under it can verify"
            )
        obj = f"{f.object.kind} {f.object.name}"
        if " outside the fixed fields" in problem:
            where, _, what = problem.partition(": changed ")
            what = what.replace(" outside the fixed fields", "")
            where = "" if where == obj else f"{where} "
            return f"setting {keys} also changes {where}{what}, which no fix covers"
        for word, effect in (("new ", "add"), ("lost ", "drop"), ("duplicated ", "duplicate")):
            if problem.startswith(word):
                kind, ns, name = [*problem[len(word) :].split(" ", 2), "", ""][:3]
                ident = f"{ns}/{name}" if ns else name
                return f"setting {keys} makes the chart {effect} {kind} {ident}"
        if "failed to render" in problem:
            return f"the chart does not render with {keys} set: {problem.split(': ', 1)[-1]}"
        return f"setting {keys}: {problem}"

    def _section_effect(self, own: list[Edit], problem: str) -> str | None:
        """The top-level values section whose mere presence (`section: {}`) in a values
        file already causes `problem`."""
        for section in _sections(own):
            if problem in self._section_problems(section):
                return section
        return None

    def _values_edits(self, items: list[Any]) -> list[Edit]:
        """The values edits of `items`; once materializing, each values map a fix sets
        keeps the fields it shows in the object with the fixes of `items` applied (only
        those: a fix verified alone carries no other fix's fields). These defaults go
        first, so that they never overwrite what a fix sets at the same key."""
        if not self.materialize:
            return [e for *_, ve in items for e in ve]
        fixed = _fixed_objects(items)
        defaults: list[Edit] = []
        for f, _e, ve in items:
            kept = materialized(f, ve, fixed[_ident(f)])
            defaults += kept[: len(kept) - len(ve)]
        return defaults + [e for *_, ve in items for e in ve]


def _flat(rising: dict[str, list[Finding]]) -> list[Finding]:
    return [f for found in rising.values() for f in found]


def _sections(edits: list[Edit]) -> list[str]:
    """The top-level values sections `edits` touch, in order, each once."""
    return list(dict.fromkeys(str(e.path[0]) for e in edits if e.path))


def deep_merge_copy(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    from kubevet.sources.helm import deep_merge

    return deep_merge(copy.deepcopy(base), extra)


def _ident(f: Finding) -> Any:
    from kubevet.fix.verify import identity

    return identity(f.obj.data)


def _fixed_objects(applied: list[Any]) -> dict[Any, dict[str, Any]]:
    """Each object with all the given fixes on it applied."""
    from kubevet.fix.edits import apply_edits

    fixed: dict[Any, dict[str, Any]] = {}
    for f, edits, _ve in applied:
        fixed[_ident(f)] = apply_edits(fixed.get(_ident(f), f.obj.data), edits)
    return fixed


def _suspects(applied: list[Any], problems: list[str]) -> set[int]:
    """Fixes on the objects named in the problems (all of them when an object was lost)."""
    named = {p.split(":", 1)[0] for p in problems if ":" in p}
    hits = {i for i, (f, *_) in enumerate(applied) if f"{f.object.kind} {f.object.name}" in named}
    return hits if hits and len(named) == len(problems) else set(range(len(applied)))


def _isolate(
    applied: list[Any], suspects: set[int], attempt: Any
) -> tuple[list[Any], list[tuple[Finding, str]]]:
    """Keep the suspect fixes that verify on their own (one render each, bounded)."""
    keep, rejected = [], []
    for i, item in enumerate(applied):
        if i not in suspects:
            keep.append(item)
        elif len(rejected) + len(keep) >= MAX_ISOLATION_RENDERS + len(applied) - len(suspects):
            rejected.append((item[0], "not verified (too many fixes failed together)"))
        else:
            problems = attempt([item])[2]
            (rejected.append((item[0], problems[0])) if problems else keep.append(item))
    return keep, rejected


def _greedy(
    applied: list[Any], suspects: set[int], attempt: Any
) -> tuple[list[Any], list[tuple[Finding, str]]]:
    """Fixes that verify together: the suspects are added one by one (bounded)."""
    keep = [item for i, item in enumerate(applied) if i not in suspects]
    rejected = []
    for n, i in enumerate(sorted(suspects)):
        item = applied[i]
        problems = attempt([*keep, item])[2] if n < MAX_ISOLATION_RENDERS else ["not verified"]
        (rejected.append((item[0], problems[0])) if problems else keep.append(item))
    return keep, rejected
