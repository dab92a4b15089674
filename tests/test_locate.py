"""The fast line finder (BlockText) agrees with composition, or declines to answer."""

from __future__ import annotations

import pytest
import yaml

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
