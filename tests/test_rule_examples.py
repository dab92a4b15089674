"""Every rule's documented examples are its failing and passing fixtures."""

from __future__ import annotations

import pytest

from kubevet.api import check_yaml
from kubevet.rules.registry import all_rules

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_bad_example_fails(rule):
    findings = check_yaml(rule.example_bad, select=["ALL"])
    assert rule.code in {f.code for f in findings}, f"{rule.code} did not fire on its bad example"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_good_example_passes(rule):
    findings = check_yaml(rule.example_good, select=["ALL"])
    hits = [f for f in findings if f.code == rule.code]
    assert not hits, f"{rule.code} fired on its good example: {[f.message for f in hits]}"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_metadata_complete(rule):
    for field in ("what", "why", "how_to_fix", "title"):
        assert getattr(rule, field).strip(), f"{rule.code} has no {field}"
    assert rule.code[:2] == "KV" and rule.code[2:].isdigit()
    assert rule.slug == rule.slug.lower() and " " not in rule.slug
