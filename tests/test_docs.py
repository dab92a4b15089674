"""docs/rules.md is generated from the rule metadata and must match the registry."""

from __future__ import annotations

import re

from conftest import ROOT

from kubevet.rules.docs import heading_anchor, rules_markdown
from kubevet.rules.registry import all_rules

RULES_MD = ROOT / "docs" / "rules.md"
REGENERATE = "kubevet rules --format markdown > docs/rules.md"


def test_rules_md_is_up_to_date():
    assert RULES_MD.is_file(), f"docs/rules.md is missing; generate it with `{REGENERATE}`"
    expected = rules_markdown(all_rules())
    actual = RULES_MD.read_text(encoding="utf-8")
    assert actual == expected, (
        f"docs/rules.md is out of date with the rule registry; regenerate it with `{REGENERATE}`"
    )


def test_cli_prints_exactly_the_generated_markdown(capsys):
    from kubevet.cli import main

    assert main(["rules", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == rules_markdown(all_rules())


def test_every_rule_is_documented_and_linked():
    text = rules_markdown(all_rules())
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    anchors = {heading_anchor(h) for h in headings}
    links = re.findall(r"^\| \[(KV\d+)\]\(#([^)]+)\)", text, re.MULTILINE)
    assert [code for code, _ in links] == [r.code for r in all_rules()]
    rule_headings = [h.split()[0] for h in headings if h.startswith("KV")]
    assert rule_headings == [r.code for r in all_rules()]
    broken = [(code, anchor) for code, anchor in links if anchor not in anchors]
    assert not broken, f"index links with no matching heading: {broken}"


def test_heading_anchor_follows_github():
    assert heading_anchor("KV101 run-as-non-root: Container may run as root") == (
        "kv101-run-as-non-root-container-may-run-as-root"
    )
    assert heading_anchor("KV9 x: Uses `hostPath` (node files)") == "kv9-x-uses-hostpath-node-files"
