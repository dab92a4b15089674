"""How the chart findings of the corpus are traced (`kubevet check --trace`).

    python bench/trace_coverage.py [CHARTS_DIR] [--jobs N] [--json OUT.json]

Runs `check --trace` over every chart (default values) and prints the share of findings
per trace status (values key / hard-coded in the template / not written by the template
and no values key reaches it / not traced), overall, by rule and by chart, plus the
values keys that could not be marked and the wall time.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from corpus_args import parse

STATUSES = ("values", "hard-coded", "absent", "unknown")


def main(argv: list[str]) -> int:
    from kubevet.cli import build_parser
    from kubevet.commands._common import build_settings
    from kubevet.runner import run_check

    charts_dir, jobs, json_out = parse(argv)
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
