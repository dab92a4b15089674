"""`--statistics`: findings per rule, and per unified check of the seven-tool study."""

from __future__ import annotations

from collections import Counter

from kubevet.result import Report


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
    for row in compliance(report):
        if row["control"] == "":
            lines.append(f"compliance: {row['title']}")
            continue
        status = row["status"].upper()
        lines.append(f"  {row['control']:10} {status:11} {row['findings']:5}  {row['title']}")
    return "\n".join(lines)


def compliance(report: Report) -> list[dict[str, object]]:
    """Per-control rows of each framework the run selected, each framework headed by a row
    with an empty control id (for the text listing)."""
    from kubevet.frameworks import framework_of, summary

    ran = {r.code for r in report.rules}
    rows: list[dict[str, object]] = []
    for name in report.frameworks:
        fw = framework_of(name)
        if fw is None:
            continue
        controls = summary(fw, report.findings, ran)
        failed = sum(r["status"] == "fail" for r in controls)
        head = f"{fw.title} ({fw.source}): {failed} of {len(controls)} controls fail"
        rows.append({"framework": fw.name, "control": "", "title": head})
        rows.extend(controls)
    return rows
