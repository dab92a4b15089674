"""A small Python API, used by the tests and by anyone embedding kubevet."""

from __future__ import annotations

from collections.abc import Iterable

from kubevet.context import InputGroup, Options
from kubevet.engine import check_group
from kubevet.findings import Finding
from kubevet.rules.registry import select_rules
from kubevet.runner import locate_lines
from kubevet.sources.manifests import add_text


def load_yaml(text: str, name: str = "<string>") -> InputGroup:
    group = InputGroup(label=name, source="manifests")
    add_text(group, text, name)
    return group


def check_yaml(
    text: str,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    options: Options | None = None,
    name: str = "<string>",
) -> list[Finding]:
    """Findings (suppressed ones included, marked) for the objects in a YAML string."""
    group = load_yaml(text, name)
    if group.errors:
        raise ValueError("; ".join(str(e) for e in group.errors))
    rules = select_rules(select, ignore, include_disabled=bool(select))
    findings = check_group(group, rules, options or Options())
    locate_lines(findings)
    return findings
