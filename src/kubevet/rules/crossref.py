"""Equivalent ids in other tools, read from the unified check table (data, not code)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from kubevet.rules.registry import TOOLS, Rule


@cache
def unified_table() -> dict[str, dict[str, str]]:
    """check id -> row (description and each tool's `|`-separated native ids)."""
    text = resources.files("kubevet.data").joinpath("mycharts-check-map.csv").read_text("utf-8")
    return {row["unified_id"]: row for row in csv.DictReader(text.splitlines())}


def equivalents(r: Rule) -> dict[str, tuple[str, ...]]:
    """The rule's own equivalents plus those of its unified checks, per tool."""
    table = unified_table()
    out: dict[str, list[str]] = {t: list(r.equivalents.get(t, ())) for t in TOOLS}
    for check in r.unified:
        row = table.get(check, {})
        for tool in TOOLS:
            for native in filter(None, (row.get(tool) or "").split("|")):
                if native not in out[tool]:
                    out[tool].append(native)
    extra = {k: list(v) for k, v in r.equivalents.items() if k not in TOOLS}
    return {k: tuple(v) for k, v in {**out, **extra}.items() if v}
