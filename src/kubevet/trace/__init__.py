"""Trace chart findings to the template line and the values key that control them.

For each finding of a rendered chart, every field its fix edits (or, without a fix, the
finding's own path) gets an `EditTrace`:
- "values": a values key sets it (a leaf whose marker lands there, a bool/int leaf whose
  change was seen to change the field, or a values map rendered with `toYaml` at an
  ancestor of the field, so `map.<rest of path>` sets it even when it is absent);
- "hard-coded": the field is rendered but no values key changes it;
- "absent": the field is missing and no values map feeds any ancestor;
- "unknown": the markers that could tell broke the template.
The finding's `Trace` summarises them; `finding.edit_traces` keeps the detail for
`kubevet fix`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kubevet.chartinfo import ChartInfo
from kubevet.findings import Finding
from kubevet.model import K8sObject, Path, get_path
from kubevet.sources.renderworker import LimitError
from kubevet.trace.keys import format_key
from kubevet.trace.markers import Landings, canonical, collect, made_up_part, pattern_of
from kubevet.trace.nodes import nodes_on
from kubevet.trace.proof import Plain, plain_texts
from kubevet.trace.refs import template_refs
from kubevet.trace.render import ChartRenderer, ObjKey, RenderFailed
from kubevet.trace.valuelines import record_values_lines
from kubevet.trace.wanted import Wanted
from kubevet.traced import Trace

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.sources.helm import HelmOptions


@dataclass(frozen=True, slots=True)
class EditTrace:
    path: Path  # the field inside the rendered object
    status: str  # values / hard-coded / absent / unknown
    key: Path | None = None  # the values key that sets the field (settable)
    keys: tuple[Path, ...] = ()  # every values key seen feeding the field
    enable: Path | None = None  # a `...enabled` flag that must be true for `key` to render
    created: Path | None = None  # shallowest ancestor missing before (a new subtree)
    pattern: tuple[str | Path, ...] = ()  # literal text and leaves, when several leaves feed it
    anchor: Path | None = None  # the rendered map a values map (`map`) feeds, for `key`
    map: Path | None = None


@dataclass
class TraceStats:
    renders: int = 0
    untraceable: list[str] = field(default_factory=list)  # values keys whose markers broke


def trace_chart(
    group: InputGroup,
    findings: list[Finding],
    helm_opts: HelmOptions,
    renderer: ChartRenderer | None = None,
) -> TraceStats:
    """Fill `trace` on every finding of a chart group (whose objects are in `Finding.obj`)."""
    chart = group.chart or ChartInfo(None, None)
    if renderer is not None:
        return _trace_with(renderer, group, findings, chart)
    only = frozenset(f.origin.template for f in findings if f.origin.template)
    # The copy with the other templates emptied can fail where the chart renders: a kept
    # template may include an emptied one (`include (print .Template.BasePath ...)`).
    # Then the whole chart is traced instead, at the cost of slower marker renders.
    for attempt in (only, None):
        try:
            renderer = ChartRenderer(str(chart.path), helm_opts, False, attempt)
        except LimitError as exc:
            _untraced(findings)
            group.errors.append(exc.reword(NOT_TRACED))
            return TraceStats()
        except Exception as exc:  # an unloadable chart was already reported by the source
            _untraced(findings)
            return TraceStats(untraceable=[str(exc)])
        # the check's render as the copy renders it
        plain = plain_texts(chart.rendered, renderer.source_dir, attempt is not None)
        try:
            return _trace_with(renderer, group, findings, chart, attempt is not None, plain)
        except _EmptiedCopyFailed:
            continue
        finally:
            renderer.close()
    raise AssertionError("unreachable: the last attempt does not retry")


class _EmptiedCopyFailed(Exception):
    """The plain render of the copy with templates emptied failed (try the whole chart)."""


def _trace_with(
    renderer: ChartRenderer,
    group: InputGroup,
    findings: list[Finding],
    chart: ChartInfo,
    retry: bool = False,
    plain: Plain | None = None,
) -> TraceStats:
    stats = TraceStats()
    try:
        values = renderer.merged_values(chart.user_values or {})
        wanted = Wanted(
            (f.obj, p) for f in findings if isinstance(f.obj, K8sObject) for p in _edit_paths(f)
        )
        refs = template_refs(str(chart.path), True, _made_up_if_missing(values, wanted))
        keys = _object_keys(group.objects)
        reads = _map_reads(findings, keys)
        landings = collect(renderer, values, refs, wanted, plain, reads)
        tracer = _Tracer(renderer, values, landings, keys)
        tracer.probe_all(tracer.unexplained(findings))
        for f in findings:
            tracer.trace_finding(f)
        record_values_lines(findings, chart.path)
        stats.renders = renderer.count
        stats.untraceable = sorted({format_key(m.path) for m in landings.failed})
        if stats.untraceable:
            group.warnings.append(_untraced_warning(group.label, stats.untraceable))
    except RenderFailed as exc:  # the plain render failed: nothing to compare markers with
        if retry:
            raise _EmptiedCopyFailed() from exc
        _untraced(findings)
        group.warnings.append(f"{group.label}: not traced, the chart did not render: {exc}")
    except LimitError as exc:  # a marker render passed a bound the plain render kept
        _untraced(findings)
        group.errors.append(exc.reword(NOT_TRACED))
    return stats


NOT_TRACED = "findings not traced"


def _untraced(findings: list[Finding]) -> None:
    for f in findings:
        f.trace = Trace(f.origin.template, None, (), "unknown")


def _untraced_warning(label: str, keys: list[str]) -> str:
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    return f"{label}: trace: {len(keys)} values keys could not be marked (templates broke): {shown}"


def _object_keys(objects: list[K8sObject]) -> dict[int, ObjKey]:
    """The same (template, kind, ordinal) keys that `parse_render` gives marker renders."""
    seen: dict[tuple[str, str], int] = {}
    out: dict[int, ObjKey] = {}
    for obj in objects:
        template = obj.origin.template or ""
        n = seen.get((template, obj.kind), 0)
        seen[(template, obj.kind)] = n + 1
        out[id(obj)] = (template, obj.kind, n)
    return out


def _made_up_if_missing(values: dict[str, Any], wanted: Wanted) -> Callable[[Path], bool]:
    """The `.Values` paths `markers.collect` may make up a map for: the other paths of
    `template_refs` would only be dropped there."""
    return lambda ref: made_up_part(values, ref, wanted) is not None


def _map_reads(findings: list[Finding], keys: dict[int, ObjKey]) -> set[tuple[ObjKey, Path]]:
    """Every (object, rendered map) whose map landing `_Tracer._fed_by_map` may look up:
    the strict ancestors of each field a finding edits, as canonical paths."""
    out: set[tuple[ObjKey, Path]] = set()
    for f in findings:
        obj = f.obj
        if not isinstance(obj, K8sObject) or id(obj) not in keys:
            continue
        okey = keys[id(obj)]
        for path in _edit_paths(f):
            cpath = canonical(obj.data, path)
            out.update((okey, cpath[:cut]) for cut in range(len(path)))
    return out


class _Tracer:
    def __init__(
        self,
        renderer: ChartRenderer,
        values: dict[str, Any],
        landings: Landings,
        keys: dict[int, ObjKey],
    ) -> None:
        self.renderer = renderer
        self.values = values
        self.landings = landings
        self.keys = keys
        self.probed: dict[tuple[ObjKey, Path], Path] = {}

    @functools.cached_property
    def leaves(self) -> dict[str, list[tuple[Path, Any]]]:
        """The scalar leaves by key name, for the probes' candidates (most charts probe
        no bool or number field: 41 of the corpus's 59)."""
        return _scalar_leaves(self.values)

    def unexplained(self, findings: list[Finding]) -> list[tuple[ObjKey, Path, Any]]:
        """Rendered scalar fields that no marker explains: the ones to probe."""
        out = []
        for f in findings:
            obj = f.obj
            if not isinstance(obj, K8sObject) or id(obj) not in self.keys:
                continue
            okey = self.keys[id(obj)]
            for path in _edit_paths(f):
                value = get_path(obj.data, path, _MISSING)
                cpath = canonical(obj.data, path)
                if value is _MISSING or (okey, cpath) in self.landings.exact:
                    continue
                if self._fed_by_map(okey, path, cpath) is None:
                    out.append((okey, path, value))
        return out

    def trace_finding(self, f: Finding) -> None:
        from kubevet.trace.lines import template_line

        obj = f.obj
        if not isinstance(obj, K8sObject) or id(obj) not in self.keys:
            f.trace = Trace(f.origin.template, None, (), "unknown")
            return
        traces = [self.trace_field(obj, p) for p in _edit_paths(f)]
        f.edit_traces = traces
        status = _overall(traces)
        keys = tuple(dict.fromkeys(format_key(k) for t in traces for k in t.keys))
        line = template_line(obj, traces[0], self.renderer.source_dir)
        f.trace = Trace(f.origin.template, line, keys, status)  # type: ignore[arg-type]

    def trace_field(self, obj: K8sObject, path: Path) -> EditTrace:
        okey = self.keys[id(obj)]
        value = get_path(obj.data, path, _MISSING)
        created = _created(obj.data, path)
        cpath = canonical(obj.data, path)
        fed = self._fed_by_map(okey, path, cpath)
        if value is not _MISSING:
            exact = self.landings.exact.get((okey, cpath))
            if exact is not None:
                return EditTrace(path, "values", exact, (exact,))
            if fed is not None:
                return fed
            probed = self._probe(okey, path, value)
            if probed is not None:
                return EditTrace(path, "values", probed, (probed,))
            text = self.landings.texts.get((okey, cpath))
            if text is not None:
                pattern = tuple(pattern_of(text, self.landings.leaf_paths))
                keys = tuple(p for p in pattern if isinstance(p, tuple))
                return EditTrace(path, "values", None, keys, pattern=pattern)
            if self._broken(value):
                return EditTrace(path, "unknown")
            return EditTrace(path, "hard-coded")
        exact = self.landings.exact.get((okey, cpath))  # empty-string leaves land here
        if exact is not None:
            return EditTrace(path, "values", exact, (exact,), created=created)
        if fed is not None:
            return replace(fed, created=created)
        return EditTrace(path, "absent", created=created)

    def _broken(self, value: Any) -> bool:
        """A leaf holding this very value whose marker broke the template: can't tell."""
        for m in self.landings.failed:
            if m.kind == "leaf" and get_path(self.values, m.path, _MISSING) == value:
                return True
        return False

    def _fed_by_map(self, okey: ObjKey, path: Path, cpath: Path) -> EditTrace | None:
        """The deepest ancestor of `path` that a values map renders into, if any."""
        for cut in range(len(path) - 1, -1, -1):
            m = self.landings.maps.get((okey, cpath[:cut]))
            if m is None:
                continue
            rest = path[cut:]
            if any(isinstance(p, int) for p in rest):
                return None  # a list item below the map: not settable by a key
            key = (*m.path, *rest)
            enable = (*m.path, "enabled") if m.enable else None
            return EditTrace(path, "values", key, (key,), enable, anchor=path[:cut], map=m.path)
        return None

    def _probe(self, okey: ObjKey, path: Path, value: Any) -> Path | None:
        return self.probed.get((okey, path))

    def probe_all(self, fields: list[tuple[ObjKey, Path, Any]]) -> None:
        """Confirm bool/number leaves behind rendered fields, a few fields per render.

        Candidates are leaves named like the field (any number leaf with the same value,
        for numbers) holding the rendered value; round r flips each field's r-th
        candidate (a number field: every candidate, each to a value of its own, so one
        round decides it), and a field that follows its candidate (and no other flipped
        one) is fed by it. Rounds after the first are for bool fields only: a number
        field that followed none of its candidates flipped at once followed none again
        in the corpus's later rounds (gitlab, rancher: a render each for nothing).
        """
        pending = {(k, p): self._candidates(p, v) for k, p, v in fields}
        pending = {f: c for f, c in pending.items() if c}
        for r in range(MAX_PROBE_ROUNDS):
            flips: dict[Path, Any] = {}
            for cands in pending.values():
                for leaf_path, leaf in cands[r : r + 1] if _is_bool(cands) else cands:
                    flips.setdefault(leaf_path, _other_value(leaf, len(flips)))
            if not flips:
                return
            rendered = self._render_with(flips)
            if rendered is None:
                return
            for (okey, path), cands in list(pending.items()):
                obj = rendered.objects.get(okey)
                new = get_path(obj, path, _MISSING) if obj is not None else _MISSING
                hits = [lp for lp, _ in cands if lp in flips and flips[lp] == new]
                if len(hits) == 1 and type(new) is type(flips[hits[0]]):
                    self.probed[(okey, path)] = hits[0]
                    del pending[(okey, path)]
            pending = {f: c for f, c in pending.items() if _is_bool(c)}  # numbers: decided

    def _candidates(self, path: Path, value: Any) -> list[tuple[Path, Any]]:
        if isinstance(value, dict | list | str) or value is None or not path:
            return []
        name = path[-1]
        if isinstance(value, bool):
            return [(p, v) for p, v in self.leaves.get(str(name), ()) if v is value]
        return [
            (p, v)
            for leaves in self.leaves.values()
            for p, v in leaves
            if type(v) is type(value) and v == value
        ][:MAX_NUMBER_CANDIDATES]

    def _render_with(self, flips: dict[Path, Any]) -> Any:
        from kubevet.trace.markers import writable

        values = dict(self.values)
        owned: set[Path] = {()}
        for leaf_path, new in flips.items():
            writable(values, leaf_path[:-1], owned)[leaf_path[-1]] = new
        try:
            return self.renderer.render(values)
        except RenderFailed:
            return None


MAX_PROBE_ROUNDS = 3
MAX_NUMBER_CANDIDATES = 200


def _is_bool(cands: list[tuple[Path, Any]]) -> bool:
    return isinstance(cands[0][1], bool)


_MISSING = object()


def _other_value(value: Any, n: int) -> Any:
    if isinstance(value, bool):
        return not value
    return value + 7001 + n  # distinct per flipped leaf, so the landing names it


def _created(data: dict[str, Any], path: Path) -> Path | None:
    """The shortest prefix of `path` missing from `data`, if any."""
    present = len(nodes_on(data, path))  # the root and each prefix found
    return path[:present] if present <= len(path) else None


def _scalar_leaves(values: dict[str, Any]) -> dict[str, list[tuple[Path, Any]]]:
    from kubevet.trace.markers import values_paths

    out: dict[str, list[tuple[Path, Any]]] = {}
    for path, node in values_paths(values):
        if isinstance(path[-1], str) and not isinstance(node, dict | list):
            out.setdefault(path[-1], []).append((path, node))
    return out


def _edit_paths(f: Finding) -> list[Path]:
    paths = [e.path for e in f.fix.edits] if f.fix and f.fix.edits else [f.path]
    return list(dict.fromkeys(paths))


def _overall(traces: list[EditTrace]) -> str:
    for status in ("unknown", "absent", "hard-coded"):
        if any(t.status == status for t in traces):
            return status
    return "values"
