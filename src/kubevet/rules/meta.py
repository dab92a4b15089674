"""Rules about kubevet's own annotations. The engine emits these (see kubevet.suppress)."""

from __future__ import annotations

from collections.abc import Iterator

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.rules.registry import rule


@rule(
    code="KV001",
    slug="unused-suppression",
    title="Suppression matches no finding",
    category="meta",
    severity="low",
    scope="group",
    what="A `kubevet.io/ignore` entry names a rule that reports nothing on this object.",
    why="Stale suppressions hide future regressions and mislead readers about the object.",
    how_to_fix="Delete the entry (or the whole annotation) from the object.",
    example_bad="""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    kubevet.io/ignore: "KV101: legacy image runs as root"
""",
    example_good="""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
""",
    references=("Ruff RUF100 (unused noqa)",),
)
def unused_suppression(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    """Reported by the engine after suppressions are applied."""
    return iter(())


@rule(
    code="KV002",
    slug="invalid-suppression",
    title="Suppression without a reason or with an unknown rule",
    category="meta",
    severity="medium",
    scope="group",
    what="A `kubevet.io/ignore` entry lacks the required `CODE: reason` form or names no rule.",
    why="A suppression must say why, so reviewers can judge it; a typo silently suppresses "
    "nothing.",
    how_to_fix="Write entries as `KV101: why this is acceptable` (code or slug, then a reason).",
    example_bad="""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    kubevet.io/ignore: "KV101"
""",
    example_good="""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
""",
)
def invalid_suppression(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    """Reported by the engine while reading suppressions."""
    return iter(())
