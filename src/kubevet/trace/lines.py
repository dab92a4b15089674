"""The template line behind a rendered field, found by matching the template source.

Helm does not keep a map from output to template lines, so the line is found by what the
template says: the `.Values` reference of the traced key (`.Values.a.b.c`, or a suffix of
it under `with`/`include`), else a `field: value` line for a hard-coded field, else the
line of the nearest existing ancestor key (where an absent field would go).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from kubevet.model import K8sObject, Path

if TYPE_CHECKING:
    from kubevet.traced import Trace


def template_line(obj: K8sObject, trace: Trace, source_dir: str | None = None) -> int | None:
    """`source_dir`: an expanded copy of the chart, for templates inside archives (a chart
    `.tgz`, or a subchart shipped as one) that have no file of their own on disk."""
    from kubevet.trace.blame import template_file

    lines = _source(obj.origin.file) if not obj.origin.file.count("!") else None
    if not lines and source_dir and obj.origin.template:
        lines = _source(template_file(source_dir, obj.origin.template))
    if not lines:
        return None
    if trace.key:
        found = _values_ref(lines, _in_scope(trace.key, obj.origin.template or ""))
        if found:
            return found
    fields = [p for p in trace.path if isinstance(p, str)]
    if trace.status == "hard-coded" and fields:
        value = obj.get(trace.path)
        found = _field_line(lines, fields[-1], value, _start(lines, fields[:-1]))
        if found:
            return found
    present = [p for p in (trace.created[:-1] if trace.created else trace.path)]
    names = [p for p in present if isinstance(p, str)]
    for cut in range(len(names), 0, -1):
        found = _field_line(lines, names[cut - 1], None, _start(lines, names[: cut - 1]))
        if found:
            return found
    return None


def _start(lines: Source, ancestors: list[str]) -> int:
    """Where the field's ancestors appear in order (`readinessProbe:` then `httpGet:`), so
    that a `host:` is looked for under the right probe; ancestors written elsewhere (in a
    helper) are skipped."""
    start = 0
    for name in ancestors:
        found = _field_line(lines, name, None, start)
        start = found if found else start
    return start


def _in_scope(key: Path, template: str) -> Path:
    """`db.securityContext.x` as the subchart `db`'s templates say it: `securityContext.x`."""
    from kubevet.trace.blame import scope_of

    scope = scope_of(template)
    return key[len(scope) :] if scope and key[: len(scope)] == scope else key


def _values_ref(lines: Source, key: Path) -> int | None:
    names = [str(p) for p in key if isinstance(p, str)]
    for start in range(len(names)):  # the full reference first, then shorter suffixes
        found = _first_line(lines, "." + ".".join(names[start:]))
        if found:
            return found
        if len(names) - start <= 1:
            break
    # An absent key under a map the template inserts whole (`toYaml .Values.a.b`): the line
    # that references the longest prefix of the key.
    for end in range(len(names) - 1, 0, -1):
        found = _first_line(lines, ".Values." + ".".join(names[:end]), ".")
        if found:
            return found
    return None


def _first_line(lines: Source, needle: str, stops: str = "") -> int | None:
    """The first line holding `needle` not followed by a word character or one of
    `stops`, searched in the whole text at once (a line loop in Python, for every suffix of
    every key, was the largest part of tracing's own Python time; a pattern compiled per
    needle cost more than the search). No line holds a line break."""
    text = lines.text
    at = text.find(needle) if lines and "\n" not in needle else -1
    while at >= 0:
        follow = text[at + len(needle) : at + len(needle) + 1]
        if not (follow.isalnum() or follow == "_" or (follow and follow in stops)):
            return lines.line_of(at) + 1
        at = text.find(needle, at + 1)
    return None


def _field_line(lines: Source, name: str, value: Any, start: int = 0) -> int | None:
    """The first `name:` line after line `start` (holding `value` if one does). Only the
    lines holding `name` are tried, found in the whole text."""
    if "\n" in name:
        return None
    pattern = _field_pattern(name)
    first = None
    for i in lines.holding(name, start):
        m = pattern.match(lines[i])
        if not m:
            continue
        if value is None or _same(m.group(1), value):
            return i + 1
        first = first or i + 1
    return first


@functools.lru_cache(maxsize=1024)
def _field_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*(?:-\s+)?{re.escape(name)}\s*:(.*)$")


def _same(text: str, value: Any) -> bool:
    raw = text.split("#", 1)[0].strip().strip("\"'")
    if isinstance(value, bool):
        return raw.lower() == str(value).lower()
    return raw == str(value)


class Source(tuple[str, ...]):
    """A template's lines, with their text joined and where each line starts in it."""

    text: str
    starts: list[int]

    def __new__(cls, lines: Iterable[str]) -> Source:
        self = super().__new__(cls, lines)
        self.text = "\n".join(self)
        self.starts = list(itertools.accumulate((len(t) + 1 for t in self[:-1]), initial=0))
        return self

    def line_of(self, offset: int) -> int:
        """The index of the line holding `offset` of `text`."""
        return bisect.bisect_right(self.starts, offset) - 1

    def holding(self, needle: str, start: int = 0) -> Iterator[int]:
        """The index of each line from `start` on that holds `needle`, in order."""
        at = self.starts[start] if start < len(self) else len(self.text) + 1
        while (found := self.text.find(needle, at)) >= 0:
            i = self.line_of(found)
            yield i
            if i + 1 >= len(self):
                return
            at = self.starts[i + 1]


@functools.lru_cache(maxsize=512)
def _source(path: str) -> Source | None:
    """`read_lines(path)` (None when it cannot be read), as a `Source`."""
    from kubevet.trace.blame import read_lines

    lines = read_lines(path)
    return None if lines is None else Source(lines)
