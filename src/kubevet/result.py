"""The result of a check run: findings, input errors and what was read. Reporters read it
without importing the pipeline that produced it (runner, sources, Helm)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubevet.findings import Finding, InputError
from kubevet.spool import ActiveFindings, FindingSpool

if TYPE_CHECKING:
    from kubevet.rules.registry import Rule


@dataclass
class GroupSummary:
    """One input of a run: its label, source kind, object count and what it skipped."""

    label: str
    source: str
    objects: int
    chart: str | None = None  # "name version"
    skipped: list[tuple[str, str]] = field(default_factory=list)  # walked files left out, why
    seconds: float = 0.0  # wall time to load and check the input (for -v)


# What checking one input gives: its summary, findings, input errors and warnings.
InputResult = tuple[GroupSummary, list[Finding], list[InputError], list[str]]


@dataclass
class Report:
    """Everything a run found, for the reporters: findings, errors, inputs and rules."""

    findings: list[Finding] | FindingSpool = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    groups: list[GroupSummary] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)  # the rules that ran
    frameworks: list[str] = field(default_factory=list)  # compliance frameworks selected

    @property
    def active(self) -> list[Finding] | ActiveFindings:
        if isinstance(self.findings, FindingSpool):
            return self.findings.active()  # read through, not held
        return [f for f in self.findings if f.suppressed is None]

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """Files a directory walk left out as not Kubernetes YAML, and why."""
        return [s for g in self.groups for s in g.skipped]
