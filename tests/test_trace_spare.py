"""Renders tracing leaves out: list probes no trace reads, a twin no core is left for."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
from conftest import FIXTURES
from hypothesis import given
from hypothesis import strategies as st

import kubevet.trace as trace
from kubevet import runner, spare
from kubevet.context import Options
from kubevet.engine import check_group
from kubevet.rules.registry import select_rules
from kubevet.sources.helm import HelmOptions, load_chart
from kubevet.trace import markers, render, trace_chart
from kubevet.trace.refs import template_refs
from kubevet.trace.render import ChartRenderer

LISTS = FIXTURES / "trace" / "lists"
DEPLOYMENT = ("lists/templates/deployment.yaml", "Deployment", 0)
CONTAINER = ("spec", "template", "spec", "containers", "#name=app")
POD = ("spec", "template", "spec")


def _collect(reads: set[Any] | None) -> tuple[dict[Any, Any], int]:
    with ChartRenderer(str(LISTS), HelmOptions(), validate=False) as renderer:
        values = renderer.merged_values({})
        refs = template_refs(str(LISTS), maps_only=True)
        got = markers.collect(renderer, values, refs, reads=reads)
        return {at: m.path for at, m in got.maps.items()}, renderer.count


def test_list_probes_are_rendered_only_where_a_trace_reads_a_made_up_maps_landing():
    every, renders = _collect(None)
    # `volumeMounts` rendered as a list where the template writes it: its map landing
    # beside the list (in the container) went; `podExtras` is a map
    assert every == {(DEPLOYMENT, POD): ("podExtras",)}
    for read in (CONTAINER, POD):  # a landing read: the same landing there, no more renders
        got, count = _collect({(DEPLOYMENT, read)})
        assert got.get((DEPLOYMENT, read)) == every.get((DEPLOYMENT, read))
        assert count <= renders
    unread, fewer = _collect(set())
    assert fewer < renders
    # what differs is only where no trace looks
    assert {at: p for at, p in unread.items() if at not in every} == {
        (DEPLOYMENT, CONTAINER): ("volumeMounts",)
    }
    assert all(unread[at] == p for at, p in every.items())


def test_a_made_up_map_that_landed_where_no_list_or_null_stands_is_not_probed():
    from kubevet.trace.markers import Landings, Mutation

    at = (DEPLOYMENT, (*CONTAINER, "securityContext"))  # a map of scalars only
    out = Landings(maps={at: Mutation(1, "create", ("extraSecurity",))})
    # no render (there is no renderer to render with): the map landing stays
    markers._drop_lists(None, {}, out, None, None, {}, {at})  # type: ignore[arg-type]
    assert out.maps == {at: Mutation(1, "create", ("extraSecurity",))}
    out.listed.add(at)  # beside a list or a null: probed
    with pytest.raises(AttributeError):
        markers._drop_lists(None, {}, out, None, None, {}, {at})  # type: ignore[arg-type]


def _traces(chart: str, monkeypatch: pytest.MonkeyPatch, reads: bool) -> list[Any]:
    if not reads:  # every list probe rendered, as before `reads`
        monkeypatch.setattr(trace, "_map_reads", lambda findings, keys: None)
    group = load_chart(str(FIXTURES / "trace" / chart), HelmOptions())
    findings = check_group(group, select_rules([]), Options())
    trace_chart(group, findings, HelmOptions())
    monkeypatch.undo()
    return [(f.code, f.path, f.trace, f.edit_traces) for f in findings]


@pytest.mark.parametrize("chart", ["demo", "fragile", "unset", "lists"])
def test_traces_are_those_of_rendering_every_list_probe(chart, monkeypatch):
    assert _traces(chart, monkeypatch, True) == _traces(chart, monkeypatch, False)


def test_outside_a_pool_a_core_is_spare():
    assert spare._SHARED[0] is None and spare.spare_core()


@given(st.integers(0, 9), st.integers(1, 8), st.integers(1, 8))
def test_a_core_is_spare_while_fewer_inputs_are_checked_than_there_are_cores(
    left: int, workers: int, cores: int
):
    counter = multiprocessing.get_context("spawn").Value("i", left)
    saved, real = list(spare._SHARED), spare._cores
    spare._cores = lambda: cores  # type: ignore[assignment]
    try:
        spare.share(counter, workers)
        assert spare.spare_core() == (min(left, workers) < cores)
        spare.done()
        assert counter.value == left - 1
    finally:
        spare._SHARED[:], spare._cores = saved, real  # type: ignore[assignment]


def test_an_input_counts_done_in_its_pool_process_even_when_it_fails(monkeypatch):
    counter = multiprocessing.get_context("spawn").Value("i", 2)
    monkeypatch.setattr(spare, "_SHARED", [counter, 2])

    def fails(item: Any, settings: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "_run_one", fails)
    with pytest.raises(RuntimeError):
        runner._run_counted(None, None)  # type: ignore[arg-type]
    assert counter.value == 1


def test_no_twin_is_loaded_while_no_core_is_spare_and_renders_stay_the_same(monkeypatch):
    monkeypatch.setattr(render, "TWIN_SECONDS", 0.0)  # any chart is worth a twin here
    monkeypatch.setattr(render, "spare_core", lambda: False)
    chart = FIXTURES / "trace" / "demo"
    with ChartRenderer(str(chart), HelmOptions(), validate=False) as renderer:
        asked: list[str] = []
        real = renderer._call
        monkeypatch.setattr(
            renderer, "_call", lambda op, *a: asked.append(op.__name__) or real(op, *a)
        )
        values = renderer.merged_values({})
        texts = [r.texts for r in renderer.render_many([values, values, values])]
        assert "twin_local" not in asked and texts[0] == texts[1] == texts[2]
        monkeypatch.setattr(render, "spare_core", lambda: True)  # the other inputs are done
        renderer.render_many([values, values])
        assert asked.count("twin_local") == 1
