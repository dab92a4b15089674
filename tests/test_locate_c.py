"""The C field-line finder (sources/_locate.c) walks a document as BlockText does: for any
text and any paths, in any order, the same line or the same None; it declines (None for
the whole call) what it does not read, and locate_paths then asks BlockText."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.sources import locate
from kubevet.sources.locate import BlockText, locate_paths

needs_c = pytest.mark.skipif(
    locate._locate_in_c is None,
    reason="kubevet.sources._locate is not built (pip install -e . builds it with a C compiler)",
)

# Lines near block YAML and near what could trip the walk: keys quoted or not, list items
# with and without content, comments, CR line ends, tabs, flow nodes, block scalars, a key
# with no space after its colon, document markers and directives, stray quotes.
_CONTENT = st.sampled_from(
    [
        "a: 1",
        "b:",
        "c: x",
        "a:",
        "spec:",
        "name: n",
        '"a": 1',
        "'b':",
        '"a":x',
        "'c': 'q'",
        "- a: 1",
        "- b:",
        "- x",
        "-",
        "- ",
        "-  c: 2",
        "-\tx",
        "# a: 1",
        "a: # c",
        "b: &x",
        "c: !t",
        "a: |",
        "  text",
        "[1, 2]",
        "{a: 1}",
        "a: [1,",
        "b:c",
        "a:\t1",
        "a:\r",
        "---",
        "--- a: 1",
        "%YAML 1.1",
        "'",
        '"',
        "a b: 1",
        ":",
        "a::",
        "\t- a: 1",
        "x",
        "é: 1",  # non-ASCII text: the C module declines it
    ]
)
_LINE = st.tuples(st.integers(0, 6), _CONTENT, st.sampled_from(["", "\r", " ", " # c"])).map(
    lambda t: " " * t[0] + t[1] + t[2]
)
_TEXT = st.lists(_LINE | st.sampled_from(["", "  ", "\r"]), max_size=25).map("\n".join)
_PART = st.sampled_from(["a", "b", "c", "spec", "name", "a b", "", "x", "é"]) | st.integers(-1, 3)
_PATHS = st.lists(st.lists(_PART, max_size=5).map(tuple), max_size=12)


class _Str(str):
    pass


def _python(text: str, paths: list[tuple]) -> list[int | None]:
    return [BlockText(text).locate(path) for path in paths]


@needs_c
@settings(max_examples=1500, deadline=None)
@given(text=_TEXT, paths=_PATHS)
def test_the_c_walk_gives_blocktexts_lines(text: str, paths: list[tuple]) -> None:
    got = locate._locate_in_c(text, paths)
    if not text.isascii():
        assert got is None
    else:
        assert got == _python(text, paths)
    assert locate_paths(text, paths) == _python(text, paths)


@needs_c
@settings(max_examples=500, deadline=None)
@given(text=st.text(st.characters(max_codepoint=127)), paths=_PATHS)
def test_any_ascii_text_is_safe_and_agrees(text: str, paths: list[tuple]) -> None:
    assert locate._locate_in_c(text, paths) == _python(text, paths)


@needs_c
def test_paths_sharing_a_prefix_resume_where_they_part() -> None:
    text = "a:\n  b:\n  - x: 1\n    y: 2\n  - z: 3\n  c: 4\n"
    paths = [("a", "b", 0, "y"), ("a", "b", 1, "z"), ("a", "c"), ("a", "b", 0, "x"), ("q",)]
    assert locate._locate_in_c(text, paths) == [3, 4, 5, 2, 0] == _python(text, paths)


@needs_c
@pytest.mark.parametrize(
    ("text", "paths"),
    [
        ("é: 1\n", [("é",)]),  # non-ASCII text
        ("a: 1\n", [("a", 1.5)]),  # a part neither str nor int
        ("a: 1\n", [("a", _Str("a"))]),  # a subclass: its __eq__ could run anything
        ("a: 1\n", [["a"]]),  # a path that is not a tuple
    ],
)
def test_what_the_c_walk_does_not_read_goes_to_blocktext(text: str, paths: list) -> None:
    assert locate._locate_in_c(text, paths) is None
    assert locate_paths(text, [tuple(p) for p in paths]) == _python(text, [tuple(p) for p in paths])


@needs_c
def test_huge_and_negative_indexes_and_odd_keys_are_never_found() -> None:
    text = "a:\n- 1\n- 2\n"
    paths = [("a", 10**30), ("a", -1), ("a", True), ("\ud800",), ("a", 1)]
    assert locate._locate_in_c(text, paths) == _python(text, paths) == [0, 0, 2, 0, 2]
