"""The `fix` pipeline: load, check, choose the fixes, apply them, prove them."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubevet.findings import Edit, Finding
from kubevet.fix.chart import (
    ChartResult,
    apply_values,
    materialized,
    noise_roots,
    null_defaults,
    object_roots,
    object_vanish,
    override_delta,
    render_with,
    unstable_names,
    values_edits,
    values_file,
    values_text,
    verify_render,
)
from kubevet.fix.manifests import FileResult, fix_file
from kubevet.fix.profile import Profile
from kubevet.model import Path

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.runner import RunSettings

MAX_ISOLATION_RENDERS = 60


@dataclass
class FixOptions:
    unsafe: bool = False
    diff_only: bool = False
    output: str | None = None  # values override path (charts)
    profile: Profile | None = None


@dataclass
class FixReport:
    files: list[FileResult] = field(default_factory=list)
    charts: list[ChartResult] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


Chosen = list[tuple[Finding, tuple[Edit, ...]]]


def choose(findings: list[Finding], opts: FixOptions, report: FixReport) -> Chosen:
    """Findings whose fix may be applied, with their (profile-adjusted) edits."""
    from kubevet.rules.registry import get_rule

    chosen: Chosen = []
    for f in findings:
        if f.suppressed is not None or not f.fix or not f.fix.edits:
            continue
        if f.fix.applicability not in ("safe", "unsafe"):
            report.skipped.append((f, "display-only fix"))
            continue
        if f.fix.applicability == "unsafe" and not opts.unsafe:
            report.skipped.append((f, "unsafe fix (use --unsafe-fixes)"))
            continue
        edits = f.fix.edits
        if opts.profile:
            rule = get_rule(f.code)
            obj = f.obj.data
            why = opts.profile.conflict(f, rule.unified if rule else (), obj)
            if why:
                report.skipped.append((f, why))
                continue
            edits = opts.profile.adjust(f, edits)
        chosen.append((f, edits))
    return chosen


def run_fix(paths: list[str], settings: RunSettings, opts: FixOptions) -> FixReport:
    from kubevet.sources import discover

    report = FixReport()
    for item in discover(paths, settings.exclude, settings.gitignore, settings.lenient):
        if item.kind == "chart":
            report.charts.append(fix_chart(item.label, settings, opts, report, paths))
        elif item.kind == "manifests":
            _fix_manifests(item.label, item.files, settings, opts, report, paths)
        elif item.kind == "error" and item.error:
            report.errors.append(str(item.error))
        else:
            report.errors.append(f"{item.label}: only manifests and charts can be fixed")
    return report


def _check(group: InputGroup, settings: RunSettings) -> list[Finding]:
    from kubevet.engine import check_group

    rules = settings.rules()
    return [f for f in check_group(group, rules, settings.options) if f.suppressed is None]


# Check -> fix rounds per manifest input. A fix can make another one applicable (KV106
# offers `allowPrivilegeEscalation: false` only once KV105 has dropped `privileged: true`,
# which the API server requires), so one round is not the fixed point; each round only
# tries findings not tried before, so the rounds end once nothing new is fixable.
MAX_ROUNDS = 5


def _fix_manifests(
    label: str,
    files: list[str],
    settings: RunSettings,
    opts: FixOptions,
    report: FixReport,
    roots: list[str],
) -> None:
    from kubevet.safewrite import WriteError, check_target
    from kubevet.sources.manifests import load_manifest_files

    group = load_manifest_files(label, files)
    report.errors.extend(str(e) for e in group.errors)
    writable = []
    for path in files:
        try:
            check_target(path, roots)
            writable.append(path)
        except WriteError as exc:  # a link out of the tree the user named: never written
            report.errors.append(str(exc))
    results = _fix_rounds(group, writable, settings, opts, report)
    for result in results:
        report.files.append(result)
        if result.new != result.old and not opts.diff_only:
            _write(result, roots, report)


def _fix_rounds(
    group: InputGroup, files: list[str], settings: RunSettings, opts: FixOptions, report: FixReport
) -> list[FileResult]:
    """Fix `files` (of `group`) in memory, round after round, up to the fixed point."""
    from kubevet.sources.manifests import read_text

    version = settings.options.kube_version
    results: dict[str, FileResult] = {}
    tried: set[tuple[Any, ...]] = set()
    for _round in range(MAX_ROUNDS):
        scratch = FixReport()
        chosen = choose(_check(group, settings), opts, scratch)
        _merge_skipped(report, scratch, tried)
        chosen = [(f, e) for f, e in chosen if _key(f) not in tried]
        tried.update(_key(f) for f, _e in chosen)
        changed = []
        for path in files:
            mine = [(f, e) for f, e in chosen if f.obj.origin.file == path]
            if not mine:
                continue
            before = results.get(path)
            text = before.new if before else read_text(path)
            step = fix_file(path, text, mine, version)
            results[path] = _merged(before, step)
            if step.new != text:
                changed.append(path)
        if not changed:
            break
        group = _reloaded(group, changed, results)
    return [results[p] for p in files if p in results]


def _merge_skipped(report: FixReport, scratch: FixReport, tried: set[tuple[Any, ...]]) -> None:
    """Skipped fixes of a later round that were not reported (or tried) before."""
    seen = {_key(f) for f, _why in report.skipped} | tried
    report.skipped.extend((f, why) for f, why in scratch.skipped if _key(f) not in seen)


def _merged(before: FileResult | None, step: FileResult) -> FileResult:
    if before is None:
        return step
    before.new = step.new
    before.applied += step.applied
    before.rejected += step.rejected
    before.reformatted |= step.reformatted
    return before


def _reloaded(group: InputGroup, changed: list[str], results: dict[str, FileResult]) -> InputGroup:
    """`group` with the objects of the changed files read again from their new text."""
    from kubevet.context import InputGroup
    from kubevet.sources.manifests import add_text

    fresh = InputGroup(label=group.label, source=group.source)
    done: set[str] = set()
    for obj in group.objects:
        path = obj.origin.file
        if path not in changed:
            fresh.objects.append(obj)
        elif path not in done:
            done.add(path)
            add_text(fresh, results[path].new, path)
    return fresh


def _write(result: FileResult, roots: list[str], report: FixReport) -> None:
    """Write a fixed file; on failure it stays as it was, and is reported as not fixed."""
    from kubevet.safewrite import WriteError, has_bom, write_text

    try:
        write_text(result.path, result.new, roots, bom=has_bom(result.path))
    except WriteError as exc:
        report.errors.append(str(exc))
        report.files.remove(result)


def fix_chart(
    path: str, settings: RunSettings, opts: FixOptions, report: FixReport, roots: Sequence[str] = ()
) -> ChartResult:
    """Fix a chart through a values override, round after round (a fix can make another
    one applicable, as for manifests); each round starts from the previous round's proven
    override and proves its own fixes against that render. The override is written once,
    never through a link leaving the chart or the paths named (`roots`)."""
    output = opts.output or os.path.join(path, "kubevet.values.yaml")
    result = ChartResult(path, output)
    if not opts.output and not os.path.isdir(path):
        result.errors = [
            f"{path}: a chart archive has no directory for kubevet.values.yaml; "
            "give --output FILE for the values override"
        ]
        return result
    tried: set[tuple[Any, ...]] = set()
    values: dict[str, Any] | None = None
    for n in range(MAX_ROUNDS):
        with _with_values(settings, values) as round_settings:
            step = _chart_round(path, round_settings, opts, report, tried)
        _merge_round(result, step, first=n == 0)
        if not step.applied or not _more_to_fix(step.after, opts, tried):
            break
        values = step.values
    if result.values and not result.errors and not opts.diff_only:
        _write_override(result, opts, path, roots)
    return result


@contextmanager
def _with_values(settings: RunSettings, values: dict[str, Any] | None) -> Iterator[RunSettings]:
    """`settings` rendering with exactly `values` (the previous round's override)."""
    from dataclasses import replace

    if values is None:
        yield settings
        return
    with values_file(values, settings.helm) as helm:
        yield replace(settings, helm=helm)


def _merge_round(result: ChartResult, step: ChartResult, first: bool) -> None:
    if first:
        result.findings, result.errors = step.findings, step.errors
    else:  # a later round's render problems only cost that round's fixes
        result.rejected += [(f, "; ".join(step.errors)) for f in step.chosen] if step.errors else []
    if step.values:
        result.values = step.values
    result.applied += step.applied
    result.removed += step.removed
    result.template += step.template
    result.rejected += step.rejected
    result.blocked += step.blocked
    result.problems += step.problems


def _more_to_fix(findings: list[Finding], opts: FixOptions, tried: set[tuple[Any, ...]]) -> bool:
    """Do the findings left after a round hold a fix not tried yet?"""
    return any(_key(f) not in tried for f, _e in choose(findings, opts, FixReport()))


def _write_override(
    result: ChartResult, opts: FixOptions, chart: str, roots: Sequence[str]
) -> None:
    """Write the override; one kubevet places in the chart stays inside the chart, and
    inside the paths named (a chart found in a walk may be a linked directory)."""
    from kubevet.safewrite import WriteError, check_target, write_text

    try:
        if not opts.output:
            check_target(result.output, roots)
        write_text(result.output, values_text(result.values), () if opts.output else [chart])
    except WriteError as exc:
        result.errors.append(str(exc))


def _chart_round(
    path: str,
    settings: RunSettings,
    opts: FixOptions,
    report: FixReport,
    tried: set[tuple[Any, ...]],
) -> ChartResult:
    from kubevet.fix.patch import suggest_patch
    from kubevet.sources.helm import load_chart
    from kubevet.trace import trace_chart
    from kubevet.trace.render import ChartRenderer

    result = ChartResult(path, "")
    group = load_chart(path, settings.helm)
    if group.errors:
        result.errors = [str(e) for e in group.errors]
        return result
    findings = result.findings = _check(group, settings)
    scratch = FixReport()
    chosen = choose(findings, opts, scratch)
    _merge_skipped(report, scratch, tried)
    chosen = [(f, e) for f, e in chosen if _key(f) not in tried]
    tried.update(_key(f) for f, _e in chosen)
    result.chosen = [f for f, _e in chosen]
    if not chosen:
        return result
    user = (group.chart or {}).get("user_values") or {}
    with ChartRenderer(path, settings.helm, validate=False) as renderer:
        trace_chart(group, findings, settings.helm, renderer)
        merged = renderer.merged_values(copy.deepcopy(user))
        nulls = null_defaults(renderer.source_dir)
    applied: list[tuple[Finding, tuple[Edit, ...], list[Edit]]] = []
    for f, edits in chosen:
        ve = values_edits(f, edits, merged)
        if ve is None:
            result.template.append((f, suggest_patch(f, edits)))
        else:
            applied.append((f, edits, ve))
    if applied:
        _Prover(path, settings, group, user, merged, applied, nulls).prove(result, opts)
    return result


class _Prover:
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
    ) -> None:
        self.path, self.settings, self.group = path, settings, group
        self.user, self.merged, self.applied = user, merged, applied
        self.nulls = nulls or {}
        self.compensate: dict[str, list[Edit]] = {}  # per section, see `_section_problems`
        again = render_with(path, user, settings.helm)  # what varies between renders anyway
        self.noise = noise_roots(group.objects, again.objects)
        self.unstable = unstable_names(group.objects, again.objects)
        self.materialize = False  # keep the defaults of the values maps the fixes set
        self.sections: dict[str, set[str]] = {}  # problems an empty `section: {}` causes
        self.tried = list(applied)

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
        result.values = values
        result.applied = [f for f, *_ in self.applied]
        result.after = _check(new, self.settings)
        after = {_key(f) for f in result.after}
        result.removed = [f for f in result.applied if _key(f) not in after]

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


def _key(f: Finding) -> tuple[Any, ...]:
    ref = f.object
    return (ref.kind, ref.namespace, ref.name, f.code, f.path, f.container)
