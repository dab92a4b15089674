"""The tree walk (sources.treewalk, the C module _treewalk): Python objects read straight from
rapidyaml's tree must be the objects the JSON path gives (and so PyYAML's), or none at all
(NotImplemented: the JSON path decides). It reads the tree's memory at one rapidyaml layout,
so it must also switch itself off wherever that layout is not what it reads."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_yaml11 import block, reference, typed

from kubevet.signals import Terminated
from kubevet.sources import treewalk, yamlfast

pytestmark = [
    pytest.mark.skipif(
        treewalk._treewalk is None or yamlfast.ryml is None,
        reason="kubevet.sources._treewalk not built here (no C compiler at install)",
    ),
    pytest.mark.skipif(
        yamlfast.ryml is not None
        and treewalk.release(yamlfast.ryml) not in treewalk.KNOWN_RELEASES,
        reason="this rapidyaml's tree layout is not one _treewalk reads (KNOWN_RELEASES)",
    ),
]


def tree_of(text: str) -> tuple[Any, int]:
    tree = yamlfast._new_tree()
    yamlfast._parse_csubstr(text.encode("utf-8"), tree)
    node = yamlfast._T.root_id(tree)
    if yamlfast._T.is_stream(tree, node):
        node = yamlfast._T.first_child(tree, node)
    return tree, node


def walked(text: str) -> Any:
    tree, node = tree_of(text)
    return treewalk._treewalk.build(tree, node, yamlfast._plain_scalar, yamlfast._STR)


def through_json(text: str) -> Any:
    """The data of the one document of `text` by the JSON path (None: it gave up too)."""
    built = yamlfast._build
    yamlfast._build = None
    try:
        docs, _ = yamlfast._parse_fast(text, 1)
    finally:
        yamlfast._build = built
    return None if docs is None else docs[0].data


def test_the_tree_walk_is_on_where_it_was_built_for_this_rapidyaml():
    assert yamlfast._build is not None


def test_another_rapidyaml_release_is_not_read(monkeypatch):
    monkeypatch.setattr(yamlfast.ryml, "__version__", "0.99.0")
    args = (yamlfast.ryml, yamlfast._RAW, yamlfast._plain_scalar, yamlfast._STR)
    assert treewalk.load(*args) is None
    monkeypatch.delattr(yamlfast.ryml, "__version__")
    assert treewalk.load(*args) is None


def test_a_tree_head_read_otherwise_than_the_binding_switches_the_walk_off(monkeypatch):
    monkeypatch.setattr(treewalk._treewalk, "head", lambda tree: (0, 0))
    args = (yamlfast.ryml, yamlfast._RAW, yamlfast._plain_scalar, yamlfast._STR)
    assert treewalk.load(*args) is None


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, 'y', \"z\", -7, 0, 0755, 0x1F, 1_000, 1:30, 1.5, .inf, -.5, +5, 1e3]\n",
        "on: off\nno: YES\n~: Null\n80: port\n0x51: hex\n'1': quoted\n",
        "c: |\n  literal\n  text\nd: >-\n  folded\n  text\ne:\nf: ''\ng: \"\\t\\u00e9\"\n",
        "- - - deep\n  - [1, {k: v}]\n- {}\n- []\n- \n- =\n- <\n- '<<'\n- ~x\n",
        "spec:\n  containers:\n    - name: app\n      securityContext: {privileged: True}\n",
        "a: plain multi\n  line\nb: 10m\nc: 2001-12-14\nd: 1.0\ne: '0755'\n",
    ],
)
def test_walked_objects_are_the_json_paths_and_pyyamls(text):
    got = walked(text)
    assert got is not NotImplemented
    assert typed(got) == typed(reference(text)[0])
    json = through_json(text)  # (None where the JSON path leaves the chunk to PyYAML)
    assert json is None or typed(json) == typed(got)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchors and aliases
        "a: !!str 1\n",  # tags
        "a: 1\na: 2\n",  # a repeated key
        "yes: 1\nTrue: 2\n",  # keys equal under YAML 1.1
        "base: &b {x: 1}\nm:\n  <<: *b\n",  # a merge key
        "m:\n  <<: {x: 1}\n",
        "a: 0b_\n",  # resolved as an int, which PyYAML cannot build
        "a: " + "[" * 70 + "]" * 70 + "\n",  # deeper than rapidyaml's JSON emitter goes
    ],
)
def test_the_walk_gives_up_where_the_json_path_decides(text):
    assert walked(text) is NotImplemented


def test_a_resolver_that_fails_makes_the_walk_give_up():
    def broken(text: str) -> Any:
        raise ValueError(text)

    tree, node = tree_of("a: 0755\n")
    assert treewalk._treewalk.build(tree, node, broken, yamlfast._STR) is NotImplemented


@pytest.mark.parametrize("stop", [KeyboardInterrupt, Terminated])
def test_ctrl_c_or_sigterm_while_resolving_stops_the_walk_and_is_not_lost(stop):
    """Python runs a signal's handler between bytecodes, so Ctrl-C (or kubevet's SIGTERM)
    can be raised inside `resolve`: that must reach the caller, not be taken for a scalar
    the walk gives up on (the run would go on as if no signal had come)."""

    def interrupted(text: str) -> Any:
        raise stop()

    tree, node = tree_of("a:\n  b: [x, 0755]\n")
    with pytest.raises(stop):
        treewalk._treewalk.build(tree, node, interrupted, yamlfast._STR)


def test_a_scalar_is_not_walked():
    tree, node = tree_of("just text\n")
    assert treewalk._treewalk.build(tree, node, yamlfast._plain_scalar, yamlfast._STR) is (
        NotImplemented
    )


def test_not_a_tree_is_a_type_error():
    with pytest.raises(TypeError):
        treewalk._treewalk.build(object(), 0, yamlfast._plain_scalar, yamlfast._STR)


def test_a_layout_read_otherwise_than_the_binding_switches_the_walk_off(monkeypatch):
    real = treewalk._treewalk.node

    def shifted(tree: Any, i: int) -> tuple[Any, ...]:
        kind, key, val, parent, first, following = real(tree, i)
        return kind, val, key, parent, first, following  # key and value swapped

    monkeypatch.setattr(treewalk._treewalk, "node", shifted)
    args = (yamlfast.ryml, yamlfast._RAW, yamlfast._plain_scalar, yamlfast._STR)
    assert treewalk.load(*args) is None


def test_a_sample_built_otherwise_than_expected_switches_the_walk_off(monkeypatch):
    monkeypatch.setattr(treewalk, "_SAMPLES", [(b"a: 1\n", {"a": "1"})])
    args = (yamlfast.ryml, yamlfast._RAW, yamlfast._plain_scalar, yamlfast._STR)
    assert treewalk.load(*args) is None
    monkeypatch.setattr(treewalk, "_SAMPLES", [(b"a: 1\n", {"a": 1})])
    assert treewalk.load(*args) is not None


def test_without_the_binding_there_is_no_walk():
    assert treewalk.load(None, None, yamlfast._plain_scalar, yamlfast._STR) is None


# -- generated documents -------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block())
def test_generated_documents_walk_to_the_json_paths_objects(body):
    text = "apiVersion: v1\nkind: Pod\nspec:\n" + body + "\n"
    try:
        tree, node = tree_of(text)
    except Exception:  # rapidyaml raises its own SWIG types: nothing to walk
        return
    got = treewalk._treewalk.build(tree, node, yamlfast._plain_scalar, yamlfast._STR)
    json = through_json(text)
    if got is not NotImplemented and json is not None:
        assert typed(got) == typed(json)


KEY_CHARS = string.ascii_letters + string.digits + "-_./"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(KEY_CHARS, min_size=1, max_size=40), min_size=1, max_size=60, unique=True))
def test_many_keys_keep_their_own_text(keys):
    """Keys are kept in a table by their bytes (see the C file): different keys that share
    a slot, long and short ones, must each come back as themselves."""
    text = "".join(f"'{k}': {i}\n" for i, k in enumerate(keys))
    got = walked(text)
    assert got == {k: i for i, k in enumerate(keys)}
    assert [type(k) for k in got] == [str] * len(keys)


YAMLISH = st.text(
    st.sampled_from(list(": -\n\n  []{},'\"#&*!|>~?<=.0123456789abcxyzTFNYon_\\té\t")),
    max_size=80,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAMLISH)
def test_any_text_rapidyaml_reads_walks_to_the_json_paths_objects_or_gives_up(text):
    """Whatever rapidyaml makes a tree of (broken YAML too), the walk reads it without
    crashing and builds the JSON path's objects, or gives up."""
    try:
        tree, node = tree_of(text)
    except Exception:  # rapidyaml raises its own SWIG types: no tree
        return
    got = treewalk._treewalk.build(tree, node, yamlfast._plain_scalar, yamlfast._STR)
    if got is NotImplemented:
        return
    json = through_json(text)
    if json is not None:
        assert typed(got) == typed(json)
