"""The cheaper paths of tracing give what the plain ones gave (kubevet.trace)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS_CHARTS, FIXTURES, need
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.context import Options
from kubevet.engine import check_group
from kubevet.rules.registry import select_rules
from kubevet.sources.helm import HelmOptions, load_chart
from kubevet.trace import markers, trace_chart
from kubevet.trace.markers import Mutation, apply_mutations, values_paths
from kubevet.trace.refs import template_refs
from kubevet.trace.render import ChartRenderer

_SCALARS = st.one_of(st.text(max_size=3), st.integers(), st.booleans(), st.none())
_KEYS = st.sampled_from(["a", "b", "enabled", "image", "tag"])
_TREES = st.recursive(
    _SCALARS,
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(_KEYS, kids, max_size=4)),
    max_leaves=20,
)


def _deep_copy_reference(values: dict[str, Any], batch: list[Mutation]) -> dict[str, Any]:
    """What `apply_mutations` gave when it deep-copied the whole values per render."""
    out = copy.deepcopy(values)
    for m in batch:
        node: Any = out
        if m.kind in ("list", "create"):
            for part in m.path[:-1]:
                node = node.setdefault(part, {}) if isinstance(node, dict) else None
                if node is None:
                    break
            if not isinstance(node, dict):
                continue
            if m.kind == "list":
                node[m.path[-1]] = [{"name": f"zql{m.n}q"}]
                continue
            if m.path[-1] in node:
                continue
            node[m.path[-1]] = {}
        else:
            for part in m.path[:-1]:
                node = node[part]
            if m.kind == "leaf":
                node[m.path[-1]] = f"zqv{m.n}q"
                continue
        target = node[m.path[-1]]
        target[f"zqk{m.n}q"] = f"zqi{m.n}q"
        if m.enable:
            target["enabled"] = True
    return out


@st.composite
def _values_and_batch(draw: Any) -> tuple[dict[str, Any], list[Mutation]]:
    values = draw(st.dictionaries(_KEYS, _TREES, min_size=1, max_size=4))
    nodes = list(values_paths(values))
    batch = []
    for n, (path, node) in enumerate(draw(st.lists(st.sampled_from(nodes), max_size=6))):
        if isinstance(node, dict):  # as `plan_mutations` marks them: maps and scalar leaves
            kind = draw(st.sampled_from(["inject", "create"]))
            enable = node.get("enabled") is False and draw(st.booleans())
            batch.append(Mutation(n, kind, path, enable=enable))
        elif not isinstance(node, list):
            batch.append(Mutation(n, "leaf", path))
    extra = draw(st.lists(st.tuples(_KEYS, _KEYS), max_size=2))  # paths that may be missing
    batch += [
        Mutation(100 + i, draw(st.sampled_from(["create", "list"])), p) for i, p in enumerate(extra)
    ]
    return values, batch


@settings(max_examples=200, deadline=None)
@given(_values_and_batch())
def test_mutations_copy_only_their_paths_and_give_the_deep_copy_result(case):
    values, batch = case
    before = copy.deepcopy(values)
    assert apply_mutations(values, batch) == _deep_copy_reference(values, batch)
    assert values == before  # the plain values are rendered again, unchanged


UNSET = FIXTURES / "trace" / "unset"


def test_only_keys_read_where_a_map_could_render_its_keys_count_as_map_refs():
    every = set(template_refs(str(UNSET)))
    assert {("nameOverride",), ("fullnameOverride",), ("tier",), ("replicas",)} <= every
    # `with`, `toYaml (default dict ...)`, `range`, a variable then used by `with`: a
    # made-up map could land there; not where it is printed, compared or truncated
    wanted = {("podSecurityContext",), ("containerSecurityContext",), ("limits",)}
    wanted.add(("podExtras",))
    assert set(template_refs(str(UNSET), maps_only=True)) == wanted


def test_unset_keys_read_as_text_are_not_marked_as_maps_and_the_traces_stay():
    group = load_chart(str(UNSET), HelmOptions())
    findings = check_group(group, select_rules(["KV101", "KV106"]), Options())
    stats = trace_chart(group, findings, HelmOptions())
    # as maps, `default ... | trunc` and `eq` broke on them: a warning about keys no one set
    assert stats.untraceable == [] and group.warnings == []
    kv106 = next(f for f in findings if f.code == "KV106")
    assert kv106.trace.status == "values"
    assert kv106.trace.values_keys == ("containerSecurityContext.allowPrivilegeEscalation",)


def _landings(chart: Path) -> tuple[Any, ...]:
    with ChartRenderer(str(chart), HelmOptions(), validate=False) as renderer:
        values = renderer.merged_values({})
        got = markers.collect(renderer, values, template_refs(str(chart), maps_only=True))
    maps = {k: m.path for k, m in got.maps.items()}
    return got.exact, got.texts, got.leaves, maps, sorted(m.path for m in got.failed)


@pytest.mark.parametrize("chart", ["demo", "fragile"])  # each with a subchart template
def test_templates_parsed_once_per_text_give_the_landings_of_parsing_every_render(
    chart, monkeypatch
):
    from kubevet.sources import yamldocs
    from kubevet.trace import render

    parses = []
    real_parse = yamldocs.parse_stream
    monkeypatch.setattr(yamldocs, "parse_stream", lambda *a: parses.append(a) or real_parse(*a))
    cached, with_cache = _landings(FIXTURES / "trace" / chart), len(parses)
    real = render.parse_render
    monkeypatch.setattr(render, "parse_render", lambda texts, cache=None: real(texts))
    parses.clear()
    assert _landings(FIXTURES / "trace" / chart) == cached
    assert with_cache < len(parses)  # the cache was used


_CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1}, {name: v2beta1}]
"""


def test_crd_apis_are_read_as_manifests_are_once_per_set_of_files(monkeypatch):
    from kubevet.sources import helm, yamldocs

    # a plain `=` is YAML 1.1's value tag, which PyYAML's safe constructor rejects; Helm
    # reads it as a string and installs the CRD, so its APIs are served: read as kubevet
    # reads manifests, the file counts (PyYAML left the whole file out)
    valued = _CRD.replace("widgets.example.com", "gadgets.example.com") + "  x: =\n"
    texts = [_CRD, valued.replace("example.com", "other.io")]
    widget = ["example.com/v1", "example.com/v1/Widget"]
    assert helm.crd_api_versions(iter(texts)) == [
        *widget,
        "example.com/v2beta1",
        "example.com/v2beta1/Widget",
        "other.io/v1",
        "other.io/v1/Widget",
        "other.io/v2beta1",
        "other.io/v2beta1/Widget",
    ]
    broken = [_CRD, "kind: [unclosed\n"]  # a document that does not parse is left out
    assert helm.crd_api_versions(broken)[:2] == widget
    monkeypatch.setattr(yamldocs, "parse_stream", lambda *a, **k: pytest.fail("parsed again"))
    assert helm.crd_api_versions(texts)[:2] == widget  # the trace's copy: read once


_CRD_PIECES = st.sampled_from(
    [_CRD, "---\n", "kind: [\n", "spec: {group: 1}\n", "\tx: y\n", "&a x: *a\n", "- 1\n", "~\n"]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(_CRD_PIECES, st.text(max_size=40)), max_size=6))
def test_crd_apis_of_any_text_are_strings_and_never_an_exception(pieces: list[str]):
    from kubevet.sources import helm

    apis = helm.crd_api_versions(["".join(pieces)])
    assert all(isinstance(a, str) and a.count("/") in (1, 2) for a in apis)


@settings(max_examples=60, deadline=None)
@given(st.lists(_CRD_PIECES, max_size=6))
def test_a_broken_document_beside_a_crd_loses_nothing_of_it(pieces: list[str]):
    from kubevet.sources import helm

    apis = helm.crd_api_versions(["\n---\n".join(pieces)])
    assert apis.count("example.com/v1/Widget") == pieces.count(_CRD)


def _traces(chart: Path) -> list[tuple[Any, ...]]:
    group = load_chart(str(chart), HelmOptions())
    findings = check_group(group, select_rules(), Options())
    trace_chart(group, findings, HelmOptions())
    return sorted(
        (f.code, f.origin.template, str(f.path), f.trace.status, f.trace.values_keys)
        for f in findings
    )


@pytest.mark.parametrize("name", ["grafana", "gitea", "oauth2-proxy"])
def test_corpus_traces_are_those_of_marking_every_missing_key_as_a_map(name, monkeypatch):
    import kubevet.trace

    chart = need(CORPUS_CHARTS / name)
    fewer = _traces(chart)
    every = kubevet.trace.template_refs
    monkeypatch.setattr(kubevet.trace, "template_refs", lambda path, *_: every(path))
    assert _traces(chart) == fewer


_PIECES = st.sampled_from(
    [
        "{{ toYaml .Values.a.b | nindent 4 }}",
        "{{ .Values.c | quote }}",
        "{{ .Values.d }}",
        "{{ $x := .Values.e }}",
        "{{ $y := .Values.f | toString }}",
        "{{ with $x }}",
        "{{ range $y }}",
        '{{ include "h" (dict "v" .Values.g) }}',
        "{{ .Values.h | default dict | toYaml }}",
        "{{ xtoYaml .Values.i }}",
        '{{ coalesce .Values.j (include "h" .) }}',
        '{{- define "h" }}',
        "{{- end }}",
        "\nkind: Pod\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12))
def test_map_refs_skip_plain_prints_and_find_what_every_action_checked_finds(pieces):
    from kubevet.trace import refs

    text = "".join(pieces)
    expected = []  # every action with a reference checked, reference by reference
    for block in refs._DEFINE.split(text):
        actions = refs._ACTION.findall(block)
        used = {v for x in actions if refs._MAP_USE.search(x) for v in refs._VAR.findall(x)}
        for a in actions:
            held = "=" in a and not refs._SCALAR.search(a)
            held = held and any(v in used for v in refs._VAR.findall(a))
            for m in refs._REF.finditer(a):
                if held or refs._handed_on(a, m.start(), m.end()):
                    expected.append((a, m.span()))
    assert [(m.string, m.span()) for m in refs._map_refs(text)] == expected
