"""How the chart findings of the corpus are traced (`kubevet check --trace`).

    python bench/trace_coverage.py [CHARTS_DIR] [--jobs N] [--json OUT.json] [--write]

Runs `check --trace` over every chart (default values) and prints the share of findings
per trace status (values key / hard-coded in the template / not written by the template
and no values key reaches it / not traced), overall, by rule and by chart, plus the
values keys that could not be marked and the wall time. `--write` puts the overall table
into docs/trace-and-fix.md (between its `trace_coverage` markers).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from corpus_args import code_commit, parse, write_between

STATUSES = ("values", "hard-coded", "absent", "unknown")


def main(argv: list[str]) -> int:
    from kubevet.cli import build_parser
    from kubevet.commands._common import build_settings
    from kubevet.runner import run_check

    write = "--write" in argv
    charts_dir, jobs, json_out = parse([a for a in argv if a != "--write"])
    load = os.getloadavg()[0]
    args = build_parser().parse_args(["check", str(charts_dir), "--trace", "-j", str(jobs)])
    settings, _ = build_settings(args)
    settings.trace = True
    start = time.perf_counter()
    report = run_check([str(charts_dir)], settings)
    wall = time.perf_counter() - start
    found = [f for f in report.active if f.origin.rendered]
    total = Counter(f.trace.status if f.trace else "unknown" for f in found)
    n = len(found) or 1
    print(f"charts dir {charts_dir}; chart findings {len(found)}; wall {wall:.1f} s, -j{jobs}")
    for status in STATUSES:
        print(f"  {status:11s} {total[status]:5d}  {total[status] / n:6.1%}")
    strict = total["values"] + total["hard-coded"]
    print(f"  values key or hard-coded value: {strict}/{len(found)} = {strict / n:.1%}")
    print(f"  ... or template that omits it:  {strict + total['absent']}/{len(found)}", end="")
    print(f" = {(strict + total['absent']) / n:.1%}")
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    by_chart: dict[str, Counter[str]] = defaultdict(Counter)
    for f in found:
        status = f.trace.status if f.trace else "unknown"
        by_rule[f.code][status] += 1
        by_chart[f.origin.chart or "?"][status] += 1
    print("by rule (values/hard-coded/absent/unknown):")
    for code, c in sorted(by_rule.items()):
        print(f"  {code} " + "/".join(str(c[s]) for s in STATUSES))
    print("by chart:")
    for chart, c in sorted(by_chart.items()):
        print(f"  {chart:32s} " + "/".join(str(c[s]) for s in STATUSES))
    unmarked = [w for w in report.warnings if "could not be marked" in w]
    print(f"charts with values keys that could not be marked: {len(unmarked)}")
    if json_out:
        rows = {"total": dict(total), "by_rule": by_rule, "by_chart": by_chart, "wall": wall}
        Path(json_out).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    if write:
        table = status_md(total, len(found), len(unmarked), wall, jobs, load)
        write_between(ROOT / "docs" / "trace-and-fix.md", "trace_coverage", table)
    return 0


ROOT = Path(__file__).resolve().parent.parent
LABELS = {
    "values": "values key",
    "hard-coded": "hard-coded in the template",
    "absent": "not written by the template, no values key reaches it",
    "unknown": "not traced",
}


def status_md(
    total: Counter[str], found: int, unmarked: int, wall: float, jobs: int, load: float
) -> list[str]:
    """The overall table and its summary line, as docs/trace-and-fix.md shows them."""
    n = found or 1
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = [
        f"Run of {when} with the code of {code_commit()} (`python bench/trace_coverage.py --jobs "
        f"{jobs} --write`, load {load:.1f} at the start), wall {wall:.1f} s:",
        "",
        "| trace status | findings | share |",
        "|---|---:|---:|",
    ]
    out += [f"| {LABELS[s]} | {total[s]:,} | {total[s] / n:.1%} |" for s in STATUSES]
    out += [f"| all chart findings | {found:,} | |", ""]
    strict = total["values"] + total["hard-coded"]
    out.append(
        f"Values key or hard-coded value: {strict / n:.1%}; with the fields the template "
        f"omits: {(strict + total['absent']) / n:.1%}. {unmarked} charts still have values "
        "keys that could not be marked (each named in a warning of the run)."
    )
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
