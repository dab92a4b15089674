"""`[CHARTS_DIR] [--jobs N] [--json OUT.json]`: the arguments the corpus benchmarks share,
the commit they name as the code measured, and how they write their tables into docs/."""

from __future__ import annotations

import os
import subprocess
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


def code_commit() -> str:
    """The commit measured: the checkout's, or BENCH_COMMIT for an exported snapshot (run
    outside the work tree so that edits made while it waits for the lock do not count)."""
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent,
    )
    return out.stdout.strip() or os.environ.get("BENCH_COMMIT", "unknown")


def write_between(doc: Path, name: str, lines: list[str]) -> None:
    """Replace what stands in `doc` between the markers of the script `name` (`<!-- name
    --write: from here -->` and `<!-- name: to here -->`) with `lines`."""
    begin, end = f"<!-- {name} --write: from here -->", f"<!-- {name}: to here -->"
    text = doc.read_text(encoding="utf-8")
    start, stop = text.index(begin) + len(begin), text.index(end)
    doc.write_text(text[:start] + "\n" + "\n".join(lines) + "\n" + text[stop:], encoding="utf-8")
