"""The fast line finder (BlockText) agrees with composition, or declines to answer."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.sources.locate import BlockText
from kubevet.sources.yamldocs import _line, _Loader, locate_many

CASES = [
    ("a:\n  b: 1\n  c:\n  - x\n  - y\n", ("a", "c", 1)),
    ("a:\n  b: 1\n", ("a", "b")),
    ("a:\n  b: 1\n", ("a", "missing", "deeper")),
    # A flow sequence on the line after its key: the finder cannot step into it.
    ("kind: Pod\nargs:\n  [x, y]\n", ("args", 0)),
    ("kind: Pod\nargs:\n  [x, y]\n", ("args", 1, "z")),
    ('kind: Pod\nname:\n  "quoted"\nafter: 1\n', ("name", 0)),
]


@pytest.mark.parametrize(("text", "path"), CASES)
def test_fast_line_is_the_composed_line_or_none(text: str, path: tuple) -> None:
    fast = BlockText(text).locate(path)
    composed = _line(yaml.compose(text, Loader=_Loader), path)
    assert fast is None or fast == composed


@pytest.mark.parametrize(("text", "path"), CASES)
def test_locate_many_gives_the_composed_line(text: str, path: tuple) -> None:
    composed = _line(yaml.compose(text, Loader=_Loader), path)
    assert locate_many(text, 10, 0, [path]) == [composed + 10]


def test_an_unreadable_step_is_no_answer_not_line_minus_one() -> None:
    # `_child` answers (-1, -1, -1) for a list index into something not a block list.
    assert BlockText("kind: Pod\nargs:\n  [x, y]\n").locate(("args", 0)) is None


# Documents of nested block mappings and lists (as Helm prints them), and paths into them:
# keys that exist, keys that do not, list indexes in and out of range.
_KEYS = st.sampled_from(["a", "b", "c", "spec", "metadata", "name"])
_DOCS = st.recursive(
    st.integers(0, 9) | st.sampled_from(["x", "y z"]),
    lambda inner: (
        st.dictionaries(_KEYS, inner, min_size=1, max_size=4)
        | st.lists(inner, min_size=1, max_size=3)
    ),
    max_leaves=25,
).filter(lambda d: isinstance(d, dict))
_PATHS = st.lists(
    st.lists(_KEYS | st.integers(0, 3), min_size=1, max_size=4).map(tuple), max_size=8
)


@settings(max_examples=300, deadline=None)
@given(doc=_DOCS, paths=_PATHS)
def test_lookups_in_any_order_give_the_lines_of_fresh_lookups(doc: dict, paths: list) -> None:
    # A mapping's keys are read only as far as a lookup needs and resumed by the next one:
    # the line of a path must not depend on which paths were looked up before it.
    text = yaml.dump(doc, sort_keys=False)
    shared = BlockText(text)
    node = yaml.compose(text, Loader=_Loader)
    for path in paths:
        line = shared.locate(path)
        assert line == BlockText(text).locate(path)
        assert line is None or line == _line(node, path)


def test_the_first_of_duplicate_keys_is_found_whatever_was_asked_before() -> None:
    text = "a: 1\nb:\n  c: 2\na: 3\nd: 4\n"
    block = BlockText(text)
    assert block.locate(("missing",)) == 0  # read to the end: the deepest node is the root
    assert block.locate(("a",)) == 0
    block = BlockText(text)
    assert block.locate(("b", "c")) == 2
    assert block.locate(("d",)) == 4
    assert block.locate(("a",)) == 0
