"""`--statistics`: findings per rule, and per unified check of the seven-tool study."""

from __future__ import annotations

from collections import Counter

from kubevet.runner import Report


def statistics(report: Report) -> str:
    per_rule = Counter(f.code for f in report.active)
    rules = {r.code: r for r in report.rules}
    lines = ["findings per rule:"]
    for code, count in sorted(per_rule.items()):
        r = rules.get(code)
        lines.append(f"  {code:7} {count:6}  {r.slug if r else ''}")
    per_check: Counter[str] = Counter()
    for code, count in per_rule.items():
        r = rules.get(code)
        for check in r.unified if r else ():
            per_check[check] += count
    lines.append("findings per unified check (../shared/data/mycharts-check-map.csv):")
    for check in sorted(per_check, key=lambda c: int(c.split("_")[1])):
        lines.append(f"  {check:9} {per_check[check]:6}")
    return "\n".join(lines)
