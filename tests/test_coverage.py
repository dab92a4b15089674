"""Every unified check of the seven-analyzer study has a rule; every PSS control too."""

from __future__ import annotations

from kubevet.rules.crossref import unified_table
from kubevet.rules.docs import unified_coverage
from kubevet.rules.registry import all_rules


def test_every_unified_check_has_a_rule():
    cover = unified_coverage(all_rules())
    assert len(unified_table()) == 69
    missing = [check for check, codes in cover.items() if not codes]
    assert not missing, f"unified checks without a rule: {missing}"


def test_rules_only_name_known_unified_checks():
    known = set(unified_table())
    for r in all_rules():
        assert set(r.unified) <= known, f"{r.code} names unknown checks {set(r.unified) - known}"
