"""Find the line of a field path in block-style YAML text, without parsing it again.

Written by hand because no maintained library answers "which line holds this path" short
of composing the whole document into nodes, which costs more than all the rules together
on a large render. Block style (what Helm prints and people write) is handled here; any
text this cannot read with certainty returns None and the caller composes it exactly.
Checked against composition on every corpus render: identical lines except inside
multi-line flow sequences, where it names the line of the sequence's key.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Iterator

from kubevet.model import Path

try:
    from kubevet.sources._locate import locate as _locate_in_c
except ImportError:  # not built (no C compiler at install): BlockText alone
    _locate_in_c = None

LEAF = -2  # column marker: the node has no children to descend into
_SHALLOW: dict[int, re.Pattern[str]] = {}


def locate_paths(text: str, paths: list[Path]) -> list[int | None]:
    """BlockText(text).locate of each path. The C module (_locate.c) walks ASCII text the
    same way, step for step; it answers None for what it does not read."""
    if _locate_in_c is not None:
        lines: list[int | None] | None = _locate_in_c(text, paths)
        if lines is not None:
            return lines
    block = BlockText(text)
    return [block.locate(path) for path in paths]


class BlockText:
    """A document's lines with their indentation, computed once per document."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.cols = _LazyCols(self.lines)
        # Offset where each line begins: the lengths before it plus one newline each,
        # summed by itertools at C speed (documents with findings can be megabytes).
        lengths = itertools.accumulate(map(len, self.lines), initial=0)
        self._starts = list(map(operator.add, lengths, itertools.count()))[:-1]
        self._mappings: dict[tuple[int, int], _Keys] = {}
        # Findings of one document share path prefixes (the same container, the same
        # pod spec): each step from a node is worked out once.
        self._steps: dict[tuple[int, int, str | int], tuple[int, int, int] | None] = {}
        self._first = self._first_node()

    def locate(self, path: Path) -> int | None:
        """0-based line of the deepest existing node along `path`, or None if unsure."""
        node = self._first
        if node is None:
            return None
        line, col = node
        found = line
        steps = self._steps
        for part in path:
            key = (line, col, part)
            if key in steps:
                nxt = steps[key]
            else:
                nxt = steps[key] = self._child(line, col, part)
            if nxt is None:
                return found
            if nxt[0] == -1:
                return None  # flow style or something unexpected: let the exact path decide
            found, (line, col) = nxt[0], (nxt[1], nxt[2])
        return found

    def _line_end(self, line: int) -> int:
        """Offset of the newline ending `line` (where the scan for the next line starts)."""
        return self._starts[line + 1] - 1 if line + 1 < len(self._starts) else len(self.text)

    def _first_node(self) -> tuple[int, int] | None:
        for i, col in enumerate(self.cols):
            if col < 0 or self.lines[i].startswith(("---", "%")):
                continue
            if self.lines[i][col] in "{[\"'":
                return None  # JSON or flow style
            return i, col
        return None

    def _next_content(self, i: int) -> int | None:
        for j in range(i + 1, len(self.lines)):
            if self.cols[j] >= 0:
                return j
        return None

    def _child(self, line: int, col: int, part: str | int) -> tuple[int, int, int] | None:
        """(line shown for the child, line of its content, column of its content)."""
        if col == LEAF:
            return None
        text = self.lines[line]
        if isinstance(part, int):
            if not text.startswith("- ", col) and text[col:] != "-":
                return None if _is_key_line(text, col) else (-1, -1, -1)
            return self._item(line, col, part)
        if text.startswith("- ", col):
            return None
        return self._key(line, col, part)

    def _key(self, line: int, col: int, key: str) -> tuple[int, int, int] | None:
        found = self._find_key(line, col, key)
        if found is None:
            return None
        i, key_len = found
        return (i, *self._value(i, col, key_len))

    def _find_key(self, line: int, col: int, key: str) -> tuple[int, int] | None:
        """(line, length of the key as written) of `key` in the mapping at (line, col).
        Each mapping is read once, and only as far as asked: a finding under `metadata`
        of a ConfigMap holding megabytes of dashboards stops at `metadata`, not at the end
        of the document. The first of duplicate keys is the one found, as before."""
        keys = self._mappings.get((line, col))
        if keys is None:
            keys = self._mappings[(line, col)] = self._start_keys(line, col)
        found = keys.found.get(key)
        if found is not None or keys.rest is None:
            return found
        lines, starts = self.lines, self._starts
        for m in keys.rest:  # resumes where the previous lookup in this mapping stopped
            if len(m.group(1)) < col:
                break
            i = bisect.bisect_right(starts, m.end()) - 1
            text = lines[i]
            if not text.startswith("- ", col):
                parsed = _key_at(text, col)
                if parsed is not None and parsed[0] not in keys.found:
                    keys.found[parsed[0]] = (i, parsed[1])
                    if parsed[0] == key:
                        return keys.found[key]
        keys.rest = None  # the mapping has been read to its end
        return None

    def _start_keys(self, line: int, col: int) -> _Keys:
        found: dict[str, tuple[int, int]] = {}
        first = _key_at(self.lines[line], col)
        if first is not None and not self.lines[line].startswith("- ", col):
            found[first[0]] = (line, first[1])
        # Jump from one line indented at most `col` to the next with a C-speed regex,
        # instead of stepping through every nested line in Python.
        pattern = _SHALLOW.get(col) or _SHALLOW.setdefault(
            col, re.compile(rf"\n( {{0,{col}}})(?=[^ \n\r#])")
        )
        return _Keys(found, pattern.finditer(self.text, self._line_end(line)))

    def _value(self, i: int, col: int, key_len: int) -> tuple[int, int]:
        text = self.lines[i]
        rest_at = col + key_len + 1
        rest = text[rest_at:].strip()
        if rest and not rest.startswith(("#", "&", "!")):
            return i, LEAF  # an inline scalar, block scalar or flow collection
        j = self._next_content(i)
        if j is None:
            return i, LEAF
        cj = self.cols[j]
        if cj > col or (cj == col and self.lines[j].startswith("- ", col)):
            return j, cj
        return i, LEAF

    def _item(self, line: int, col: int, index: int) -> tuple[int, int, int] | None:
        i: int | None = line
        n = 0
        while i is not None:
            c = self.cols[i] if i != line else col
            if c < col:
                return None
            text = self.lines[i]
            if c == col:
                if not text.startswith("- ", col) and text[col:] != "-":
                    return None  # the sequence ended (a sibling key at this column)
                if n == index:
                    inner = len(text) - len(text[col + 1 :].lstrip())
                    if inner < len(text) and text[inner] != "#":
                        return i, i, inner
                    j = self._next_content(i)
                    return (i, j, self.cols[j]) if j is not None and self.cols[j] > col else None
                n += 1
            i = self._next_content(i)
        return None


class _Keys:
    """The keys of one block mapping read so far, and the scan that reads the rest (None
    once it reached the mapping's end)."""

    __slots__ = ("found", "rest")

    def __init__(self, found: dict[str, tuple[int, int]], rest: Iterator[re.Match[str]]) -> None:
        self.found = found
        self.rest: Iterator[re.Match[str]] | None = rest


class _LazyCols:
    """Content columns computed per line on first use: documents with a finding can be
    large (a ConfigMap holding dashboards), and a lookup touches few of their lines."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._cols: list[int | None] = [None] * len(lines)

    def __getitem__(self, i: int) -> int:
        col = self._cols[i]
        if col is None:
            col = self._cols[i] = _content_col(self._lines[i])
        return col

    def __len__(self) -> int:
        return len(self._lines)


def _content_col(line: str) -> int:
    """Column of the first content character, or -1 for blank and comment lines."""
    stripped = line.lstrip(" ")
    if not stripped or stripped.startswith("#") or stripped == "\r":
        return -1
    return len(line) - len(stripped)


def _key_at(text: str, col: int) -> tuple[str, int] | None:
    """(key, length as written) of a `key: value` line whose key starts at `col`."""
    quote = text[col : col + 1]
    if quote in ("'", '"'):
        end = text.find(quote, col + 1)
        if end < 0 or text[end + 1 : end + 2] != ":":
            return None
        after = text[end + 2 : end + 3]
        return (text[col + 1 : end], end + 1 - col) if after in ("", " ", "\r", "\t") else None
    at = col
    while True:
        at = text.find(":", at)
        if at < 0:
            return None
        if text[at + 1 : at + 2] in ("", " ", "\r", "\t"):
            return text[col:at], at - col
        at += 1


def _is_key_line(text: str, col: int) -> bool:
    colon = text.find(":", col)
    return colon > col and text[colon + 1 : colon + 2] in ("", " ")
