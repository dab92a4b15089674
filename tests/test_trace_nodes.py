"""The cheaper walks and lookups of tracing give what the plain ones gave (kubevet.trace.nodes,
kubevet.trace.refs with `keep`)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import CORPUS_CHARTS, FIXTURES, need
from hypothesis import given
from hypothesis import strategies as st

from kubevet.model import get_path
from kubevet.trace import refs
from kubevet.trace.nodes import marked, missing_part, nodes_on, walk
from kubevet.trace.refs import template_refs

_SCALARS = st.one_of(
    st.sampled_from(["", "zqv1q", "a-zqv2q", "zq", "x"]), st.integers(-2, 2), st.booleans()
)
_KEYS = st.one_of(st.sampled_from(["a", "b", "zqk3q", "zqx"]), st.integers(0, 1))
_TREES = st.recursive(
    _SCALARS,
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(_KEYS, kids, max_size=3)),
    max_leaves=15,
)
_PATHS = st.lists(st.one_of(st.sampled_from(["a", "b", "zqk3q"]), st.integers(-2, 2)), max_size=4)


def _walk_reference(node: Any, prefix: tuple[Any, ...] = ()) -> Any:
    """The generator `walk` was."""
    yield prefix, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk_reference(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_reference(v, (*prefix, i))


@given(_TREES)
def test_walk_gives_every_node_in_the_order_of_the_generator(tree):
    assert walk(tree) == list(_walk_reference(tree))


def _is_marked(node: Any) -> bool:
    if isinstance(node, dict):
        return any(isinstance(k, str) and k[:3] == "zqk" for k in node)
    return isinstance(node, str) and "zqv" in node


@given(_TREES)
def test_marked_gives_the_walks_nodes_with_markers_in_its_order(tree):
    assert marked(tree) == [(p, n) for p, n in walk(tree) if _is_marked(n)]


@given(_TREES, _PATHS)
def test_nodes_on_a_path_are_get_path_of_each_prefix_up_to_the_first_missing(tree, path):
    missing = object()
    expected = []
    for cut in range(len(path) + 1):
        node = get_path(tree, tuple(path[:cut]), missing)
        if node is missing:
            break
        expected.append(node)
    got = nodes_on(tree, tuple(path))
    assert len(got) == len(expected) and all(a is b for a, b in zip(got, expected, strict=True))


@given(st.dictionaries(_KEYS, _TREES, max_size=3), _PATHS)
def test_the_missing_part_of_a_path_is_its_first_absent_step_under_a_map(values, path):
    expected = None
    node: Any = values
    for i, part in enumerate(path):
        if not isinstance(node, dict):
            break
        if part not in node:
            expected = tuple(path[: i + 1])
            break
        node = node[part]
    assert missing_part(values, tuple(path)) == expected


_CHARTS = [FIXTURES / "trace" / n for n in ("demo", "fragile", "lists", "unset")]
_CHARTS += [CORPUS_CHARTS / n for n in ("grafana", "gitlab", "kube-prometheus-stack")]


@pytest.mark.parametrize("chart", _CHARTS, ids=lambda c: c.name)
@pytest.mark.parametrize("step", ["", "context", "a", "labels", "s"])
def test_template_refs_with_keep_are_those_kept_of_all_in_their_order(chart, step):
    need(chart)

    def keep(ref: tuple[str, ...]) -> bool:
        return any(step in str(p).casefold() for p in ref)

    every = template_refs(str(chart), maps_only=True)
    assert template_refs(str(chart), True, keep) == [r for r in every if keep(r)]


_PIECES = st.sampled_from(
    [
        "{{ toYaml .Values.a.b | nindent 4 }}",
        "{{ .Values.a | quote }}",
        "{{ $x := .Values.c }}",
        "{{ with $x }}{{ . }}{{ end }}",
        '{{- define "h" -}}',
        '{{ include "h" (dict "v" .Values.c.d) }}',
        "{{ range .Values.a.b }}",
        "x: y\n",
    ]
)


@given(st.lists(_PIECES, max_size=8), st.sets(st.sampled_from([".a", ".a.b", ".c", ".c.d"])))
def test_map_refs_asked_about_some_mentions_find_each_of_those_found_without(pieces, only):
    text = "".join(pieces)

    def found(matches: list[re.Match[str]]) -> list[tuple[int, str]]:
        return [(m.start(), m.group(1)) for m in matches if m.group(1) in only]

    # offsets are inside each action, so compare the order of what each finds
    assert [g for _, g in found(refs._map_refs(text, only))] == [
        g for _, g in found(refs._map_refs(text))
    ]


@pytest.mark.parametrize("chart", _CHARTS, ids=lambda c: c.name)
def test_the_values_paths_blamed_on_templates_are_those_of_each_line(chart):
    from kubevet.trace import blame

    need(chart)
    names = [str(p.relative_to(chart.parent)) for p in chart.rglob("*") if "templates" in p.parts]
    for template in names:
        lines = blame.read_lines(blame.template_file(str(chart), template)) or ()
        scope = blame.scope_of(template)
        expected = {
            blame._normal((*scope, *blame._ref(m))) for t in lines for m in blame._REF.findall(t)
        }
        assert blame._file_refs(str(chart), {template}) == expected


_NAMES = st.text(alphabet="abAB\0-", max_size=5)


@given(st.lists(st.lists(_NAMES, max_size=3), max_size=3), _NAMES)
def test_a_name_is_named_like_a_step_when_one_is_inside_the_other(paths, name):
    from types import SimpleNamespace

    from kubevet.trace.wanted import Wanted

    wanted = Wanted((SimpleNamespace(data={}), tuple(p)) for p in paths)
    steps = {s.casefold() for p in paths for s in p if len(s) >= 3}
    folded = name.casefold()
    expected = bool(folded) and any(s in folded or folded in s for s in steps)
    assert wanted.named((name,)) == expected
