"""Whether the marker copy of a chart renders as the chart did, and which objects every
marker render must keep (`base`).

The copy's own render with the user's values used to say both, one render per chart (about
a seventh of the corpus's marker renders). The check has just rendered the chart with the
same values: its texts of the templates the copy keeps stand in for that render. What the
plain render proved is then proven by the first marker render that keeps every object; if
the first renders all fail, or no marker render is made, the plain render is made after
all: a copy that fails there (a kept template includes an emptied one) raises RenderFailed
as before, one whose objects are not the check's raises `Differs` (start again with the
copy's own render). A copy with more objects than the check's render (a kept template
that renders an object only when an emptied one renders nothing) is not told apart: its
marker renders are held to the check's objects. Checked on the corpus: every chart's
objects and template names are the check's (gitea's copy failed before templates
that write into `.Values` were kept whole: `chartcopy._mutates`).

A render changes its loaded chart: Helm drops the subcharts it disables, for good. So the
first render of the copy is either the plain one or one that switches no subchart on or off
otherwise (markers in strings and numbers, marker keys added to maps); a first render that
could (booleans marked or flipped, `enabled: true`, made-up maps) gets the plain render
before it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from kubevet.model import get_path
from kubevet.trace.blame import template_file
from kubevet.trace.render import ChartRenderer, ParseCache, parse_render

Plain = tuple[dict[str, str], frozenset[str]]  # manifest texts by template, every name


class Differs(Exception):
    """The copy's plain render has other objects than the check's render of the chart."""


class Proof:
    def __init__(
        self,
        renderer: ChartRenderer,
        values: dict[str, Any],
        plain: Plain | None,
        parsed: ParseCache,
    ) -> None:
        self.renderer, self.values, self.parsed = renderer, values, parsed
        self.proven = plain is None
        if plain is None:
            self.base = renderer.render(values, parsed).objects.keys()
        else:
            texts, renderer.templates = plain
            self.base = parse_render(texts, parsed).objects.keys()

    def before(self, first: Iterable[Any]) -> None:
        """Before a step whose first render has these mutations."""
        if self.proven or self.renderer.count:
            return
        if not all(_keeps_subcharts(m, self.values) for m in first):
            self.prove()

    def after(self, kept: bool) -> None:
        """After a step: `kept`, some render of it kept every object."""
        if not self.proven:
            if kept:
                self.proven = True
            else:
                self.prove()

    def settle(self) -> None:
        """Once the marker renders are done."""
        if not self.proven:
            self.prove()

    def prove(self) -> None:
        self.proven = True
        if self.renderer.render(self.values, self.parsed).objects.keys() != self.base:
            raise Differs()


def _keeps_subcharts(m: Any, values: dict[str, Any]) -> bool:
    """A mutation that cannot switch a subchart on or off: Helm reads conditions and tags
    only where they are booleans, and a marker turns a string or a number into a string,
    a marker key switches nothing on. A boolean turned into a marker could (a condition
    ignored leaves the tags to decide)."""
    if m.kind == "leaf":
        return not isinstance(get_path(values, m.path, None), bool)
    return m.kind == "inject" and not m.enable


def plain_texts(rendered: Plain | None, copy: str | None, emptied: bool) -> Plain | None:
    """The check's render as the marker copy in `copy` renders it: without the templates
    the copy emptied (its file there is empty), and every template name but the top
    NOTES.txt files it leaves out. None where that cannot be told."""
    if rendered is None or copy is None:
        return None
    texts, names = rendered
    kept: dict[str, str] = {}
    for template, text in texts.items():
        if not text.strip():
            continue
        try:
            if emptied and not os.path.getsize(template_file(copy, template)):
                continue
        except OSError:  # not where the name says: let the copy's own render tell
            return None
        kept[template] = text
    return kept, frozenset(n for n in names if n.split("/")[-2:] != ["templates", "NOTES.txt"])
