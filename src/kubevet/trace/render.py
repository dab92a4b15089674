"""A chart loaded once and rendered many times with different values.

Tracing and fixing render the same chart a few dozen times; loading it once keeps each
render at Helm's own cost (about 10-60 ms on the corpus). Nothing touches the network.
The chart is loaded and rendered in the render worker (`sources.renderworker`), under the
same time and memory bounds as the main render: `ChartRenderer` is this process's handle
on a `LocalRenderer` there. A render past a bound raises the worker's LimitError.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, cast

from kubevet.sources import renderworker
from kubevet.sources.helm import HelmOptions
from kubevet.spare import spare_core

ObjKey = tuple[str, str, int]  # (template, kind, ordinal of that kind in the template)


class RenderFailed(Exception):
    """The chart did not render with the given values (`detail`: Helm's whole message)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message

    def __reduce__(self) -> tuple[Any, ...]:  # it crosses from the render worker
        return (type(self), (str(self), self.detail))


@dataclass
class Rendered:
    """One render, parsed: objects keyed by where they come from, not by (mutable) name."""

    objects: dict[ObjKey, dict[str, Any]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    errors: int = 0  # documents that did not parse (a marker pasted into YAML structure)
    error_templates: set[str] = field(default_factory=set)  # where those documents came from
    near_errors: set[int] = field(default_factory=set)  # markers just above where they broke
    nearest_errors: set[int] = field(default_factory=set)  # each alone closest to its error


class ChartRenderer:
    """A chart loaded in the render worker; `render(values)` returns the parsed manifests.
    Every call runs under the render bounds; once one trips (LimitError), the chart's
    state in the worker is gone and every later call raises the same error."""

    def __init__(
        self,
        path: str,
        opts: HelmOptions,
        validate: bool = True,
        only: frozenset[str] | None = None,
    ) -> None:
        """`only` (with validate=False): the templates whose objects matter; the others
        render empty (see `_copy_for_markers`)."""
        self.path, self.opts, self.validate, self.only = path, opts, validate, only
        self.count = 0  # renders done, for the cost figures
        self.templates: frozenset[str] = frozenset()  # every template name, from a render
        self._workdirs: list[str] = []  # copies made for the worker, removed here too
        self._tripped: Exception | None = None
        self._base: tuple[dict[str, Any], dict[str, Any]] | None = None  # (merged, user)
        self._open()

    def _open(self) -> None:
        key, self.crd_apis, self.source_dir, workdirs = self._call(open_local, *self._how())
        self._key, self._generation = key, renderworker.generation()
        self._twinned = False  # the worker settled the twin (`LocalRenderer.twin`)
        self._workdirs += workdirs

    def _how(self) -> tuple[Any, ...]:
        return self.path, self.opts, self.validate, self.only

    def _call(self, op: Callable[..., Any], *args: Any) -> Any:
        if self._tripped is not None:
            raise self._tripped
        try:
            return renderworker.call(self.path, op, *args)
        except renderworker.LimitError as exc:
            self._tripped = exc
            raise

    def _live(self) -> None:
        """Load the chart again if the worker was replaced since (another chart tripped)."""
        if self._generation != renderworker.generation():
            self._open()

    def close(self) -> None:
        if self._tripped is None and self._generation == renderworker.generation():
            with suppress(renderworker.LimitError):  # the worker is then gone, chart and all
                self._call(close_local, self._key)
        for workdir in self._workdirs:  # the copies, removed here (not timed in the worker)
            shutil.rmtree(workdir, ignore_errors=True)

    def __enter__(self) -> ChartRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def merged_values(self, user: dict[str, Any]) -> dict[str, Any]:
        """Chart defaults (subcharts included) coalesced with the user's values."""
        self._live()
        merged = cast(dict[str, Any], self._call(merge_local, self._key, user))
        self._base = (merged, user)
        return merged

    def render_many(
        self, values: list[dict[str, Any]], cache: ParseCache | None = None
    ) -> list[Rendered | RenderFailed]:
        """One render per values set, two at a time in the worker (Helm's engine runs
        without the GIL there) where the chart has a twin, made only while a core is spare
        (`spare`); a set the chart fails on gives its RenderFailed. `cache`: see
        `parse_render`."""
        if not values:
            return []
        self._live()
        if len(values) > 1 and not self._twinned and spare_core():  # its own call and bound
            self._twinned = self._call(twin_local, self._key)
        self.count += len(values)
        texts, templates = self._call(texts_local, self._key, [self._sent(v) for v in values])
        self.templates = self.templates or templates
        return [t if isinstance(t, RenderFailed) else parse_render(t, cache) for t in texts]

    def _sent(self, values: dict[str, Any]) -> dict[str, Any]:
        """What Helm is given for `values`: the user's values with only what differs from
        the last `merged_values` laid over them. Helm coalesces the chart's defaults again
        either way; the full merged tree (gitlab: 260 KB of JSON) cost it about a sixth
        of each render, decoded, copied and coalesced three times. Values made from the
        merged ones by copying the changed paths (`markers.writable`) give a small delta;
        a key dropped from the merged tree cannot be said over it: sent whole."""
        if self._base is None:
            return values
        merged, user = self._base
        delta = values_delta(values, merged)
        return values if delta is None else overlay(user, delta)

    def render(self, values: dict[str, Any], cache: ParseCache | None = None) -> Rendered:
        (result,) = self.render_many([values], cache)
        if isinstance(result, RenderFailed):
            raise result
        return result


_GONE = object()


def values_delta(new: dict[str, Any], base: dict[str, Any]) -> dict[str, Any] | None:
    """The nodes of `new` that are not those of `base` (compared by identity: `new` shares
    every unchanged subtree with `base`), or None when a key of `base` is missing."""
    if any(key not in new for key in base):
        return None  # a key of `base` is gone: not something an overlay can say
    out: dict[str, Any] = {}
    for key, node in new.items():
        old = base.get(key, _GONE)
        if node is old:
            continue
        if isinstance(node, dict) and isinstance(old, dict):
            sub = values_delta(node, old)
            if sub is None:
                return None
            if sub:
                out[key] = sub
        else:
            out[key] = node
    return out


def overlay(user: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """`delta` laid over `user` (maps merged, anything else replaced), `user` untouched."""
    out = dict(user)
    for key, node in delta.items():
        below = out.get(key)
        merge = isinstance(node, dict) and isinstance(below, dict)
        out[key] = overlay(below, node) if merge else node
    return out


# The worker's side: the charts loaded there, by key, and the operations on them.
_OPEN: dict[int, LocalRenderer] = {}


def open_local(
    path: str, opts: HelmOptions, validate: bool, only: frozenset[str] | None = None
) -> tuple[int, list[str], str | None, list[str]]:
    local = LocalRenderer(path, opts, validate, only)
    _OPEN[id(local)] = local
    return id(local), local.crd_apis, local.source_dir, local.workdirs


def twin_local(key: int) -> bool:
    """Whether the chart's twin is settled: made, or not worth it (asked again while no
    render has told what a render of the chart costs)."""
    local = _OPEN[key]
    return local.twin() is not None or local._first is not None


def merge_local(key: int, user: dict[str, Any]) -> dict[str, Any]:
    return _OPEN[key].merged_values(user)


def texts_local(
    key: int, values: list[dict[str, Any]]
) -> tuple[list[dict[str, str] | RenderFailed], frozenset[str]]:
    from concurrent.futures import ThreadPoolExecutor

    local = _OPEN[key]

    def run(job: tuple[Any, list[dict[str, Any]]]) -> list[dict[str, str] | RenderFailed]:
        out: list[dict[str, str] | RenderFailed] = []
        for vals in job[1]:
            try:
                out.append(local.render_texts(vals, job[0]))
            except RenderFailed as exc:
                out.append(exc)
        return out

    twin = local._twin if len(values) > 1 else None  # made by `twin_local`
    if twin is None:  # one after another, on the one loaded chart
        return run((None, values)), local.templates
    with ThreadPoolExecutor(max_workers=2) as pool:  # each loaded chart in one thread
        first, second = pool.map(run, [(None, values[0::2]), (twin, values[1::2])])
    out = [r for pair in zip(first, second, strict=False) for r in pair] + first[len(second) :]
    return out, local.templates


def close_local(key: int) -> None:
    local = _OPEN.pop(key, None)
    if local is not None:
        local.workdirs = []  # the caller removes them
        local.close()


class LocalRenderer:
    """Holds the loaded chart (in the render worker); `render_texts(values)` renders it."""

    def __init__(
        self,
        path: str,
        opts: HelmOptions,
        validate: bool = True,
        only: frozenset[str] | None = None,
    ) -> None:
        """`validate=False` (tracing) renders a copy without values.schema.json files
        (markers are strings where a schema wants numbers or enums) and without NOTES.txt
        (it renders no object, and its configuration checks fail on markers); with `only`,
        the copy's other manifest templates are emptied."""
        from kubevet.sources import helm
        from kubevet.trace.chartcopy import copy_for_markers

        self.path = path
        self.opts = opts
        self.count = 0  # renders done, for the cost figures
        self._twin: Any = None  # a second load of the chart, rendered in another thread
        self._first: tuple[dict[str, Any], float] | None = None  # its values, CPU seconds
        self.templates: frozenset[str] = frozenset()  # every template name, from a render
        if not validate:  # the copy leaves out links that lead out of the chart too
            workdir, local = copy_for_markers(path, only)
            self.workdirs = [workdir]
            try:
                chart = helm._load(local, path)  # made without links leading out
            except Exception:
                shutil.rmtree(workdir, ignore_errors=True)
                raise
            self._ready(chart, local, path, local)
            return
        workdir, source = helm.loadable(path)  # without links that lead out of the chart
        self.workdirs = [workdir] if workdir else []
        local = None if source == path else source  # the copy rendered instead, if any
        chart = helm._load(source, path)
        if helm._has_remote_schema(chart):
            chart.close()
            workdir, local = helm._copy_without_remote_schema(source)
            self.workdirs.append(workdir)
            chart, source = helm._load(local), local
        self._ready(chart, local, path, source)

    def _ready(self, chart: Any, local: str | None, path: str, loaded: str) -> None:
        from kubevet.sources import helm

        self._chart, self._loaded = chart, loaded
        self.crd_apis = helm.crd_api_versions(c["data"] for c in chart.crds)
        self.source_dir = local or (path if os.path.isdir(path) else None)  # template sources

    def close(self) -> None:
        self._chart.close()
        if self._twin is not None:
            self._twin.close()
        for workdir in self.workdirs:
            shutil.rmtree(workdir, ignore_errors=True)

    def merged_values(self, user: dict[str, Any]) -> dict[str, Any]:
        """Chart defaults (subcharts included) coalesced with the user's values."""
        from kubevet.quiet import quiet_stderr

        with quiet_stderr():  # the plain render already reported Helm's warnings
            return self._chart.merge_values(user)

    def twin(self) -> Any:
        """The chart loaded again, for a second render at once, or None (renders then
        go one after another). A render changes its loaded chart: Helm drops the
        subcharts it disables (for good: a later render cannot enable them again) and two
        renders at once of one loaded chart raced on that (gitlab, now and then, lost
        objects in every render up to MAX_RENDERS). The twin first renders the first
        render's values, so that it drops what the first one dropped; only for charts
        whose render is slow enough for that render and load to pay off in wall time."""
        if self._twin is None and self._first is not None and self._first[1] >= TWIN_SECONDS:
            from kubevet.sources import helm

            twin = helm._load(self._loaded, self.path)  # loaded once already
            with suppress(RenderFailed):  # failed, it still dropped what the first dropped
                self.render_texts(self._first[0], twin)
            self._twin = twin
        return self._twin

    def render_texts(self, values: dict[str, Any], chart: Any = None) -> dict[str, str]:
        """`chart`: the loaded chart to render (default: the first load)."""
        import time

        import helm_python
        from helm_python import _native

        from kubevet.quiet import quiet_stderr
        from kubevet.sources import helm

        opts = helm.render_options(self.opts, self.crd_apis)
        self.count += 1
        start = time.thread_time()  # Go runs the render on this thread
        try:
            with quiet_stderr():  # Helm's warnings here are about kubevet's markers
                raw = _native.call_string(
                    "helm_render",
                    (chart or self._chart)._raw(),
                    json.dumps(values),
                    json.dumps(opts),
                )
        except helm_python.HelmError as exc:
            raise RenderFailed(helm._first_line(exc), str(exc)) from None
        finally:
            if self._first is None:
                self._first = (values, time.thread_time() - start)
        out = json.loads(raw)
        if not self.templates:
            self.templates = frozenset(out)
        return {k: v for k, v in out.items() if helm._is_manifest_template(k) and v.strip()}


TWIN_SECONDS = 0.05  # a first render of this much CPU: a twin renders beside the chart

# (template, its rendered text) -> (documents that did not parse, [(kind, object)])
ParseCache = dict[tuple[str, str], tuple[int, list[tuple[str, dict[str, Any]]]]]


def parse_render(texts: dict[str, str], cache: ParseCache | None = None) -> Rendered:
    """The objects of a render. With `cache`, a template's text seen before is not parsed
    again: a marker render changes only the templates its markers reach, and parsing the
    rest again was most of the Python time of gitlab's renders. Only texts without markers
    are kept (the others rarely come back); the objects are shared, read-only."""
    from kubevet.sources.yamldocs import parse_stream
    from kubevet.trace.yamlerrors import markers_near

    result = Rendered(texts=texts)
    for template, text in sorted(texts.items()):
        parsed = cache.get((template, text)) if cache is not None else None
        if parsed is None:
            docs, errors = parse_stream(text, template)
            if errors and "zq" in text:
                near, alone = markers_near(text, errors)
                result.near_errors |= near
                result.nearest_errors |= alone
            objects = [
                (d.data["kind"], d.data)
                for d in docs
                if isinstance(d.data, dict) and isinstance(d.data.get("kind"), str)
            ]
            parsed = (len(errors), objects)
            if cache is not None and "zq" not in text:
                cache[(template, text)] = parsed
        result.errors += parsed[0]
        if parsed[0]:
            result.error_templates.add(template)
        ordinal: dict[str, int] = {}
        for kind, data in parsed[1]:
            n = ordinal.get(kind, 0)
            ordinal[kind] = n + 1
            result.objects[(template, kind, n)] = data
    return result


def object_key(rendered: Rendered, template: str, data: dict[str, Any]) -> ObjKey | None:
    """The key of `data` (an object of a previous parse of the same render) in `rendered`."""
    for key, obj in rendered.objects.items():
        if key[0] == template and obj == data:
            return key
    return None
