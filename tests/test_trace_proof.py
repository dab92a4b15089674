"""The check's own render stands in for the marker copy's plain render (kubevet.trace.proof):
one render less per chart, the same traces; a copy that fails, or renders other objects,
or whose first render could switch subcharts otherwise, still gets its plain render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES

from kubevet.context import Options
from kubevet.engine import check_group
from kubevet.rules.registry import select_rules
from kubevet.sources.helm import HelmOptions, load_chart
from kubevet.trace import markers, proof, trace_chart
from kubevet.trace.markers import Mutation
from kubevet.trace.render import ChartRenderer


def _traced(chart: Path, reuse: bool) -> tuple[list[Any], int]:
    """Each finding's trace, and the renders the trace made (every copy's)."""
    group = load_chart(str(chart), HelmOptions())
    assert group.chart is not None and group.chart.rendered is not None
    if not reuse:
        group.chart.rendered = None
    findings = check_group(group, select_rules(), Options())
    renders: list[int] = []
    real = ChartRenderer.render_many

    def counted(self: ChartRenderer, values: list[Any], cache: Any = None) -> Any:
        renders.append(len(values))
        return real(self, values, cache)

    ChartRenderer.render_many = counted  # type: ignore[method-assign]
    try:
        trace_chart(group, findings, HelmOptions())
    finally:
        ChartRenderer.render_many = real  # type: ignore[method-assign]
    return [(f.code, f.path, f.trace, f.edit_traces) for f in findings], sum(renders)


@pytest.mark.parametrize("chart", ["demo", "fragile"])
def test_the_checks_render_saves_the_copys_plain_render_and_traces_the_same(chart):
    traces, renders = _traced(FIXTURES / "trace" / chart, reuse=True)
    assert traces
    assert (traces, renders + 1) == _traced(FIXTURES / "trace" / chart, reuse=False)


def _fails_when_emptied(root: Path, setter: str = "$v := .Values }}{{- $_ := set $v") -> Path:
    """A chart whose template without findings sets a value another one reads: emptied in
    the marker copy, the other one fails there (gitea's `set .Values...` in config.yaml;
    Helm runs templates in reverse order of name). A write into `.Values` itself keeps the
    template whole; one through a variable is not seen."""
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: setter\nversion: 1.0.0\n")
    (root / "values.yaml").write_text(yaml.safe_dump({"image": "nginx:1.25", "port": 80}))
    (root / "templates" / "z-config.yaml").write_text(
        f'{{{{- {setter} "made" (dict "name" "cfg") }}}}\n'
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.made.name }}\n"
    )
    (root / "templates" / "a-pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.made.name }}-web\nspec:\n"
        "  containers:\n  - name: app\n    image: {{ .Values.image }}\n"
        "    ports:\n    - containerPort: {{ .Values.port }}\n"
    )
    return root


def test_a_copy_that_fails_where_the_chart_renders_is_still_traced_whole(tmp_path: Path):
    chart = _fails_when_emptied(tmp_path / "setter")
    traces, renders = _traced(chart, reuse=True)
    before, renders_before = _traced(chart, reuse=False)
    assert traces == before
    assert any(t.status == "values" for _, _, t, _ in traces)  # traced, on the whole chart
    # before: the emptied copy's plain render failed, then the whole chart's plain render
    # and its one batch. Now the emptied copy's batch fails, its plain render shows the
    # copy at fault, then the whole chart's batch (its plain render is the check's).
    assert (renders_before, renders) == (3, 3)


def test_a_template_that_writes_into_the_values_stays_whole_in_the_copy(tmp_path: Path):
    chart = _fails_when_emptied(tmp_path / "setter", "$_ := set .Values")
    traces, renders = _traced(chart, reuse=True)
    before, _ = _traced(chart, reuse=False)
    assert traces == before
    assert any(t.status == "values" for _, _, t, _ in traces)
    assert renders == 1  # the copy's one batch, proving the copy too (was 3, as above)


def test_a_copy_whose_objects_differ_is_traced_from_its_own_plain_render():
    chart = str(FIXTURES / "trace" / "demo")
    group = load_chart(chart, HelmOptions())
    assert group.chart is not None and group.chart.rendered is not None
    texts, names = group.chart.rendered
    with ChartRenderer(chart, HelmOptions(), validate=False) as renderer:
        own = markers.collect(renderer, renderer.merged_values({}))
        alone = renderer.count
    # the check's render said one object more: every marker render "loses" it, none
    # proves the copy; the copy's plain render then differs and decides
    extra = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"
    more = dict(texts, **{"demo/templates/extra.yaml": extra})
    with ChartRenderer(chart, HelmOptions(), validate=False) as renderer:
        got = markers.collect(renderer, renderer.merged_values({}), plain=(more, names))
        assert got == own
        assert renderer.count > alone  # the renders before the plain one were wasted


class _Counting:
    def __init__(self) -> None:
        self.count = 0
        self.templates: frozenset[str] = frozenset()

    def render(self, values: dict[str, Any], cache: Any = None) -> Any:
        self.count += 1
        return type("R", (), {"objects": {("t", "Pod", 0): {}}})()


@pytest.mark.parametrize(
    ("first", "plain_first"),
    [
        ([Mutation(1, "leaf", ("image",)), Mutation(2, "inject", ("labels",))], False),
        ([Mutation(1, "leaf", ("port",))], False),  # a number: never a condition
        ([Mutation(1, "leaf", ("sub", "enabled"))], True),  # a boolean: could be one
        ([Mutation(1, "inject", ("sub",), enable=True)], True),
        ([Mutation(1, "create", ("made",))], True),
    ],
)
def test_a_first_render_that_could_switch_subcharts_otherwise_comes_after_the_plain_one(
    first: list[Mutation], plain_first: bool
):
    values = {"image": "x", "port": 80, "labels": {}, "sub": {"enabled": True}}
    renderer = _Counting()
    texts = {"t": "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"}
    check = proof.Proof(renderer, values, (texts, frozenset({"t"})), {})  # type: ignore[arg-type]
    assert renderer.templates == {"t"}
    check.before(first)
    assert renderer.count == int(plain_first)
    check.after(kept=True)  # a marker render kept every object: nothing more to render
    check.settle()
    assert renderer.count == int(plain_first)


def test_the_plain_render_is_made_when_no_marker_render_proved_the_copy():
    renderer = _Counting()
    texts = {"t": "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"}
    check = proof.Proof(renderer, {}, (texts, frozenset({"t"})), {})  # type: ignore[arg-type]
    check.settle()  # no marker render at all
    assert renderer.count == 1
    check.after(kept=False)
    assert renderer.count == 1  # proven once
    other = proof.Proof(renderer, {}, ({}, frozenset({"t"})), {})  # type: ignore[arg-type]
    with pytest.raises(proof.Differs):
        other.after(kept=False)  # all failed: the copy's plain render has another object


def test_the_copys_plain_texts_leave_out_what_it_emptied_and_its_top_notes(tmp_path: Path):
    copy = tmp_path / "chart"
    (copy / "templates").mkdir(parents=True)
    (copy / "templates" / "kept.yaml").write_text("kind: Pod\n")
    (copy / "templates" / "emptied.yaml").write_text("")
    rendered = (
        {"c/templates/kept.yaml": "kind: Pod", "c/templates/emptied.yaml": "kind: Pod"},
        frozenset({"c/templates/kept.yaml", "c/templates/emptied.yaml", "c/templates/NOTES.txt"}),
    )
    texts, names = proof.plain_texts(rendered, str(copy), True) or ({}, frozenset())
    assert texts == {"c/templates/kept.yaml": "kind: Pod"}
    assert names == {"c/templates/kept.yaml", "c/templates/emptied.yaml"}
    whole = proof.plain_texts(rendered, str(copy), False)
    assert whole is not None and len(whole[0]) == 2
    assert proof.plain_texts(({"c/templates/gone.yaml": "x"}, frozenset()), str(copy), True) is None
    assert proof.plain_texts(None, str(copy), True) is None


def test_the_twin_is_settled_only_once_a_render_has_told_what_one_costs(monkeypatch):
    import shutil

    from kubevet.trace import render

    monkeypatch.setattr(render, "TWIN_SECONDS", 0.0)  # any chart is worth a twin here
    local = render.LocalRenderer(str(FIXTURES / "trace" / "demo"), HelmOptions(), False)
    workdirs, key = list(local.workdirs), id(local)
    render._OPEN[key] = local
    try:
        # no render yet (the check's render stood in for the plain one): asked again
        assert render.twin_local(key) is False and local._twin is None
        local.render_texts({})
        assert render.twin_local(key) is True and local._twin is not None
    finally:
        render.close_local(key)
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)
