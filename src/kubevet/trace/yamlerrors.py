"""Which markers of a marker render stand where its YAML stopped parsing.

A map's injected key (`zqk<n>q: zqi<n>q`) or a list probe adds YAML structure; a leaf's
marker is a plain scalar wherever its value stood, so it is not suspected here, unless it
stands alone on its line: a string (empty) printed where YAML wants keys.
"""

from __future__ import annotations

import re
from typing import Any

_STRUCTURE = re.compile(r"zq[kil](\d+)q")
_ALONE = re.compile(r"\s*zqv(\d+)q\s*")
NEAR = 3  # lines above a YAML error where the marker that broke it usually stands


def markers_near(text: str, errors: list[Any]) -> tuple[set[int], set[int]]:
    """(near, alone): the markers on each error's line and the NEAR lines above it (a map
    pasted where YAML wants a list item breaks the parse there, and naming it saves
    halving all the template's markers: gitlab 10 renders -> 4); and the marker of each
    error whose closest marked line holds it alone, the one that broke it (prometheus's
    `sidecarContainers` two lines above its error, an innocent map's key above that)."""
    rows = text.splitlines()
    near: set[int] = set()
    alone: set[int] = set()
    for e in errors:
        closest: set[int] = set()
        for line in filter(None, _error_lines(e)):
            window = rows[max(0, line - 1 - NEAR) : line]
            for row in window:
                near |= _on(row)
            closest |= next(filter(None, map(_on, reversed(window))), set())
        if len(closest) == 1:
            alone |= closest
    return near, alone


def _error_lines(e: Any) -> list[int | None]:
    """Where an error stands, and for a duplicate key the line below it too: a map
    injected where the template writes its key again (`labels:` then `labels: {{ toYaml
    .Values.x.labels | nindent }}`) puts its marker key on the next line (wordpress,
    mariadb: the marker was found by halving, 11 renders)."""
    if e.line and "duplicate key" in e.message:
        return [e.line, e.line + 1]
    return [e.line]


def _on(row: str) -> set[int]:
    out = {int(n) for n in _STRUCTURE.findall(row)}
    alone = _ALONE.fullmatch(row)
    if alone:  # kube-prometheus-stack's grafana: 9 renders of halving -> 3
        out.add(int(alone.group(1)))
    return out
