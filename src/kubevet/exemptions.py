"""Exemptions in `.kubevet.yaml`: for charts and objects you cannot annotate.

    exemptions:
      - rules: [KV101, KV111]          # codes or slugs (required)
        chart: "redis*"                # chart name glob; also chart-version, release,
        namespace: "cache-*"           # namespace, kind, name, container (all globs)
        reason: "vendor chart, ticket OPS-12"   # required
        expires: 2027-03-31            # optional: from that day on it stops applying

A finding matching every given field of an entry is suppressed with the entry's reason.
An expired entry applies no more and says so; an entry that matched nothing is reported,
like an unused annotation (KV001), so the list only holds what is still needed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from kubevet.findings import Finding

MATCH_FIELDS = ("chart", "chart-version", "release", "namespace", "kind", "name", "container")


@dataclass
class Exemption:
    index: int  # 1-based position in the config list, to name it in messages
    rules: tuple[str, ...]
    reason: str
    match: dict[str, str]
    expires: dt.date | None = None
    used: int = field(default=0)

    def describe(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self.match.items())
        return f"exemption #{self.index} ({', '.join(self.rules)}{'; ' + fields if fields else ''})"

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today >= self.expires


def parse(raw: Any) -> tuple[list[Exemption], list[str]]:
    """Entries from the config value, and the problems found (for a usage error)."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], ["exemptions: expected a list of entries"]
    out: list[Exemption] = []
    problems: list[str] = []
    for i, item in enumerate(raw, 1):
        where = f"exemptions[{i - 1}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        entry, errs = _entry(i, {str(k).replace("_", "-"): v for k, v in item.items()}, where)
        problems += errs
        if entry:
            out.append(entry)
    return out, problems


def _entry(i: int, item: dict[str, Any], where: str) -> tuple[Exemption | None, list[str]]:
    from kubevet.rules.registry import get_rule

    problems = [
        f"{where}: unknown key {k!r}"
        for k in item
        if k not in (*MATCH_FIELDS, "rules", "reason", "expires")
    ]
    rules = item.get("rules")
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list) or not rules:
        problems.append(f"{where}: 'rules' is required (a list of rule codes or slugs)")
        rules = []
    codes = []
    for name in rules:
        found = get_rule(str(name))
        if found is None:
            problems.append(f"{where}: unknown rule {name!r}")
        else:
            codes.append(found.code)
    reason = item.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.append(f"{where}: 'reason' is required: say why the rule does not apply")
    expires = _date(item.get("expires"), where, problems)
    match = {k: str(item[k]) for k in MATCH_FIELDS if item.get(k) is not None}
    if problems:
        return None, problems
    return Exemption(i, tuple(codes), str(reason).strip(), match, expires), []


def _date(value: Any, where: str, problems: list[str]) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: expires {value!r} is not a date like 2027-03-31")
        return None


def apply(
    findings: Iterable[Finding],
    entries: list[Exemption],
    release: str | None,
    today: dt.date | None = None,
) -> list[str]:
    """Suppress what the live entries match; return warnings (expired, unused entries)."""
    today = today or dt.date.today()
    live = [e for e in entries if not e.expired(today)]
    for f in findings:
        if f.suppressed is not None:
            continue
        facts = _facts(f, release)
        for e in live:
            if f.code in e.rules and all(_glob(facts.get(k), v) for k, v in e.match.items()):
                f.suppressed = f"exempted: {e.reason}"
                e.used += 1
                break
    warnings = [
        f"{e.describe()} expired on {e.expires}: it no longer applies"
        for e in entries
        if e.expired(today)
    ]
    warnings += [f"unused {e.describe()}: it matched no finding" for e in live if not e.used]
    return warnings


def _facts(f: Finding, release: str | None) -> dict[str, str | None]:
    return {
        "chart": f.origin.chart,
        "chart-version": f.origin.chart_version,
        "release": release if f.origin.chart else None,
        "namespace": f.object.namespace,
        "kind": f.object.kind,
        "name": f.object.name,
        "container": f.container,
    }


def _glob(value: str | None, pattern: str) -> bool:
    return value is not None and fnmatchcase(value, pattern)
