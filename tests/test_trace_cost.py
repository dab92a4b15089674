"""What makes a marker render cheaper gives the renders it replaces (kubevet.trace.render,
sources.renderworker)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES
from hypothesis import given, settings
from test_trace_speed import _landings, _values_and_batch

from kubevet.sources import goenv, renderworker
from kubevet.sources.helm import HelmOptions, deep_merge
from kubevet.trace.markers import apply_mutations
from kubevet.trace.render import ChartRenderer, overlay, values_delta


@settings(max_examples=200, deadline=None)
@given(_values_and_batch())
def test_a_mutated_tree_is_its_base_with_the_delta_laid_over_it(case):
    values, batch = case
    mutated = apply_mutations(values, batch)
    delta = values_delta(mutated, values)
    assert delta is not None  # mutations add and replace, never drop a key
    assert deep_merge(copy.deepcopy(values), copy.deepcopy(delta)) == mutated
    before = copy.deepcopy(values)
    assert overlay(values, delta) == deep_merge(copy.deepcopy(values), copy.deepcopy(delta))
    assert values == before


def test_the_delta_holds_only_the_changed_paths_and_a_dropped_key_has_none():
    base = {"a": {"b": "x", "c": {"d": 1}}, "e": [1, 2], "big": {"k": list(range(100))}}
    new = dict(base, a=dict(base["a"], b="zqv1q"))
    assert values_delta(new, base) == {"a": {"b": "zqv1q"}}
    assert values_delta(base, base) == {}
    assert values_delta({"a": base["a"]}, base) is None
    assert overlay({"a": {"z": None}, "q": 1}, {"a": {"b": "v"}}) == {
        "a": {"z": None, "b": "v"},
        "q": 1,
    }


@pytest.mark.parametrize("chart", ["demo", "fragile"])  # each with a subchart template
def test_marker_renders_sent_as_a_delta_give_the_landings_of_the_whole_values(chart, monkeypatch):
    sent: list[dict[str, Any]] = []
    real = ChartRenderer._sent

    def recorded(self: ChartRenderer, values: dict[str, Any]) -> dict[str, Any]:
        sent.append(real(self, values))
        return sent[-1]

    monkeypatch.setattr(ChartRenderer, "_sent", recorded)
    small = _landings(FIXTURES / "trace" / chart)
    assert sent[0] == {}  # the plain render: the user's values (none), not the merged tree
    monkeypatch.setattr(ChartRenderer, "_sent", lambda self, values: values)
    assert _landings(FIXTURES / "trace" / chart) == small


def test_the_sent_values_are_the_users_with_the_changes_over_them():
    chart = FIXTURES / "trace" / "demo"
    user = {"web": {"user": "set"}}
    with ChartRenderer(str(chart), HelmOptions(), validate=False) as renderer:
        merged = renderer.merged_values(user)
        changed = dict(merged, image=dict(merged["image"], tag="zqv1q"))
        assert renderer._sent(changed) == {"web": {"user": "set"}, "image": {"tag": "zqv1q"}}
        assert renderer._sent({"only": 1}) == {"only": 1}  # not made from it: sent whole


def test_the_render_worker_starts_with_a_lighter_go_collector_unless_one_is_set(monkeypatch):
    monkeypatch.delenv("GOGC", raising=False)
    renderworker._stop()
    goenv.tracing(False)
    assert renderworker.call("x", os.getenv, "GOGC") == goenv.GO_GC
    assert "GOGC" not in os.environ  # set only while the worker is spawned
    monkeypatch.setenv("GOGC", "50")
    renderworker._stop()
    assert renderworker.call("x", os.getenv, "GOGC") == "50"
    renderworker._stop()


def test_a_traced_runs_worker_collects_less_often_and_is_replaced_when_that_changes(
    monkeypatch,
):
    monkeypatch.delenv("GOGC", raising=False)
    renderworker._stop()
    try:
        goenv.tracing(True)
        assert renderworker.call("x", os.getenv, "GOGC") == goenv.GO_GC_TRACED
        started = renderworker.generation()
        assert renderworker.call("x", os.getenv, "GOGC") == goenv.GO_GC_TRACED
        assert renderworker.generation() == started  # the same worker, kept
        goenv.tracing(False)
        assert renderworker.call("x", os.getenv, "GOGC") == goenv.GO_GC
        assert renderworker.generation() > started  # replaced
        monkeypatch.setenv("GOGC", "50")  # the user's, traced or not
        goenv.tracing(True)
        assert renderworker.call("x", os.getenv, "GOGC") == "50"
    finally:
        goenv.tracing(False)
        renderworker._stop()


def test_a_check_sets_the_collector_for_its_run(monkeypatch):
    from kubevet.runner import RunSettings, _run_one
    from kubevet.sources import discover

    seen: list[bool] = []
    monkeypatch.setattr(goenv, "tracing", seen.append)
    chart = str(FIXTURES / "trace" / "demo")
    (item,) = discover([chart], [], True, False)
    for trace in (True, False):
        _run_one(item, RunSettings(trace=trace))
    assert seen == [True, False]


@pytest.mark.parametrize("chart", ["demo", "fragile"])
def test_batches_rendered_together_give_the_landings_and_renders_of_one_by_one(chart, monkeypatch):
    from kubevet.trace import markers

    calls: list[int] = []
    real_many = ChartRenderer.render_many

    def counted(self: ChartRenderer, values: list[dict[str, Any]], cache: Any = None) -> Any:
        calls.append(len(values))
        return real_many(self, values, cache)

    monkeypatch.setattr(ChartRenderer, "render_many", counted)
    together, steps = _landings(FIXTURES / "trace" / chart), list(calls)
    real = markers._render_batches

    def one_by_one(renderer: Any, values: Any, batches: Any, failed: Any, *rest: Any) -> Any:
        for i, batch in enumerate(batches):
            for _, rendered in real(renderer, values, [batch], [failed[i]], *rest):
                yield i, rendered

    monkeypatch.setattr(markers, "_render_batches", one_by_one)
    calls.clear()
    assert _landings(FIXTURES / "trace" / chart) == together
    assert sum(steps) == sum(calls)  # the same renders
    assert len(steps) < len(calls) and max(steps) <= markers.RENDER_THREADS  # fewer calls


def _probed(tmp_path: Path, monkeypatch: Any, values: dict[str, Any], spec: str) -> Any:
    """The KV103 findings of a one-pod chart, traced, and the probe renders' flips."""
    import yaml

    from kubevet.context import Options
    from kubevet.engine import check_group
    from kubevet.rules.registry import select_rules
    from kubevet.sources.helm import load_chart
    from kubevet.trace import _Tracer, trace_chart

    chart = tmp_path / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text(yaml.safe_dump(values))
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n" + spec
    )
    probes: list[dict[Any, Any]] = []
    real = _Tracer._render_with
    monkeypatch.setattr(_Tracer, "_render_with", lambda t, f: probes.append(f) or real(t, f))
    group = load_chart(str(chart), HelmOptions())
    findings = check_group(group, select_rules(["KV103"]), Options())
    trace_chart(group, findings, HelmOptions())
    return findings, probes


def test_a_probe_round_that_would_render_the_last_rounds_flips_again_is_skipped(
    tmp_path: Path, monkeypatch
):
    # runAsUser is computed (no marker lands there) and equals `other`, which does not
    # feed it: every probe round flips `other` alone, to the same number
    findings, probes = _probed(
        tmp_path,
        monkeypatch,
        {"uid": 999, "other": 1000},
        "  securityContext:\n    runAsUser: {{ add .Values.uid 1 }}\n"
        "  containers:\n  - name: app\n    image: nginx:1.25\n",
    )
    assert [f.trace.status for f in findings] == ["hard-coded"]
    assert probes == [{("other",): 8001}]  # was: the same render three times


def test_number_fields_are_decided_by_one_probe_render(tmp_path: Path, monkeypatch):
    # the pod's runAsUser is computed and equals `other`, which does not feed it; the
    # container's follows `cuid` (its marker is lost to `int`): the first render decides
    # both, the pod's field pending alone again was one more render of `other` alone
    findings, probes = _probed(
        tmp_path,
        monkeypatch,
        {"uid": 899, "other": 900, "cuid": 500},
        "  securityContext:\n    runAsUser: {{ add .Values.uid 1 }}\n"
        "  containers:\n  - name: app\n    image: nginx:1.25\n"
        "    securityContext:\n      runAsUser: {{ .Values.cuid | int }}\n"
        "  - name: side\n    image: nginx:1.25\n",
    )
    traces = sorted((f.trace.status, f.trace.values_keys) for f in findings)
    assert traces == [("hard-coded", ()), ("values", ("cuid",))]
    assert len(probes) == 1 and set(probes[0]) == {("other",), ("cuid",)}


def _with_optional_sub(root: Path) -> Path:
    """A chart whose subchart is off by default (`condition: sub.enabled`)."""
    for chart, text in ((root, "name: parent"), (root / "charts" / "sub", "name: sub")):
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(f"apiVersion: v2\n{text}\nversion: 1.0.0\n")
        (chart / "templates" / "cm.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {chart.name}}}\n"
        )
    with (root / "Chart.yaml").open("a") as fh:
        fh.write("dependencies:\n- {name: sub, version: 1.0.0, condition: sub.enabled}\n")
    (root / "values.yaml").write_text("sub: {enabled: false}\n")
    return root


@pytest.mark.parametrize("twin_seconds", [0.0, 1e9])  # a twin at once, or none
def test_renders_in_pairs_give_what_one_loaded_chart_gives_one_after_another(
    tmp_path: Path, monkeypatch, twin_seconds
):
    import shutil

    from kubevet.trace import render

    monkeypatch.setattr(render, "TWIN_SECONDS", twin_seconds)
    chart = _with_optional_sub(tmp_path / "parent")
    key, _apis, _source, workdirs = render.open_local(str(chart), HelmOptions(), False)
    try:
        (plain,), _ = render.texts_local(key, [{}])
        render.twin_local(key)  # asked by the first pair, in a call of its own
        on = {"sub": {"enabled": True}}
        pair, _ = render.texts_local(key, [on, dict(on, x=1), on])
        assert (render._OPEN[key]._twin is None) == (twin_seconds > 0)
        # Helm dropped `sub` from the loaded chart in the first render, for good: every
        # later render, in either loaded chart, renders without it
        assert [sorted(texts) for texts in pair] == [sorted(plain)] * 3
        assert sorted(plain) == ["parent/templates/cm.yaml"]
    finally:
        render.close_local(key)
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)
