"""How much of the chart corpus `kubevet fix --unsafe-fixes` (override mode) fixes.

    python bench/fix_rate.py [CHARTS_DIR] [--jobs N] [--json OUT.json]

Each chart is fixed as `kubevet fix CHART --unsafe-fixes --output /tmp/...` would (default
values); overrides are written under a temporary directory, never into the corpus. Prints
the findings that have a fix, how many the override removed, how many need a template
change and how many verification refused, by rule and by reason.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from corpus_args import parse


def fix_one(chart: str, outdir: str) -> dict:
    from kubevet.cli import build_parser
    from kubevet.commands._common import build_settings
    from kubevet.fix.run import FixOptions, run_fix

    out = str(Path(outdir) / (Path(chart).name.replace(" ", "_") + ".values.yaml"))
    args = build_parser().parse_args(["fix", chart, "--unsafe-fixes", "--output", out])
    settings, _ = build_settings(args)
    report = run_fix([chart], settings, FixOptions(unsafe=True, output=out))
    row: dict = {"chart": Path(chart).name, "applied": 0, "removed": 0, "template": 0}
    row["blocked"] = []
    row["rejected"], row["problems"], row["errors"] = [], [], list(report.errors)
    row["not_removed"] = []
    for cr in report.charts:
        row["applied"] += len(cr.applied)
        row["removed"] += len(cr.removed)
        row["template"] += len(cr.template)
        row["errors"] += cr.errors
        row["problems"] += cr.problems
        row["rejected"] += [
            {"code": f.code, "object": str(f.object), "path": f.path_text, "why": why}
            for f, why in cr.rejected
        ]
        row["blocked"] += [
            {"code": f.code, "object": str(f.object), "path": f.path_text, "why": why}
            for f, why in cr.blocked
        ]
        gone = {id(f) for f in cr.removed}
        row["not_removed"] += [
            {"code": f.code, "object": str(f.object), "path": f.path_text}
            for f in cr.applied
            if id(f) not in gone
        ]
    return row


def reason(why: str) -> str:
    """A rejection message without object names and values, to group by."""
    why = re.sub(r"^\S+ \S+: ", "", why)
    why = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", why)
    return re.sub(r"\d+", "N", why)[:110]


def main(argv: list[str]) -> int:
    charts_dir, jobs, json_out = parse(argv)
    charts = sorted(str(p) for p in charts_dir.iterdir() if (p / "Chart.yaml").exists())
    with (
        tempfile.TemporaryDirectory(prefix="kubevet-fixrate-") as outdir,
        ProcessPoolExecutor(max_workers=jobs) as pool,
    ):
        rows = list(pool.map(fix_one, charts, [outdir] * len(charts)))
    applied = sum(r["applied"] for r in rows)
    removed = sum(r["removed"] for r in rows)
    template = sum(r["template"] for r in rows)
    rejected = [x | {"chart": r["chart"]} for r in rows for x in r["rejected"]]
    blocked = [x | {"chart": r["chart"]} for r in rows for x in r["blocked"]]
    total = applied + template + len(rejected) + len(blocked)
    print(f"charts {len(rows)}; findings with a fix {total}")
    print(f"  override applied {applied}, removed {removed}")
    print(f"  template change {template}; refused by verification {len(rejected)}")
    print(f"  no override can verify (the section alone changes the render) {len(blocked)}")
    tried = applied + len(rejected)
    print(f"  removed / (applied + refused) = {removed}/{tried} = {removed / (tried or 1):.1%}")
    worst = tried + len(blocked)
    print(f"  counting those as refused too: {removed}/{worst} = {removed / (worst or 1):.1%}")
    print(f"  charts with errors {sum(1 for r in rows if r['errors'])}")
    print(f"  verification problems left {sum(len(r['problems']) for r in rows)}")
    print(
        "no override by chart: "
        + ", ".join(f"{k} {v}" for k, v in Counter(x["chart"] for x in blocked).most_common())
    )
    by_rule = Counter(x["code"] for x in rejected)
    by_reason = Counter(reason(x["why"]) for x in rejected)
    print("refused by rule: " + ", ".join(f"{k} {v}" for k, v in by_rule.most_common()))
    print("refused by reason:")
    for k, v in by_reason.most_common():
        print(f"  {v:4d}  {k}")
    kept = Counter(x["code"] for r in rows for x in r["not_removed"])
    if kept:
        print("applied, not removed: " + ", ".join(f"{k} {v}" for k, v in kept.most_common()))
    if json_out:
        Path(json_out).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
