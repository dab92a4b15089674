"""`[CHARTS_DIR] [--jobs N] [--json OUT.json]`: the arguments the corpus benchmarks share."""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_CHARTS = Path(__file__).resolve().parent.parent.parent / "shared/corpus/mycharts/charts"


def parse(argv: list[str]) -> tuple[Path, int, str | None]:
    """(charts dir, jobs, JSON output path or None); exits when the corpus is missing."""
    charts_dir, jobs, json_out = DEFAULT_CHARTS, 2, None
    it = iter(argv)
    for a in it:
        if a == "--jobs":
            jobs = int(next(it))
        elif a == "--json":
            json_out = next(it)
        else:
            charts_dir = Path(a)
    if not charts_dir.is_dir():
        sys.exit(f"no chart corpus at {charts_dir}")
    return charts_dir, jobs, json_out
