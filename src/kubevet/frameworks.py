"""Compliance frameworks (data/frameworks.yaml): which rules check each control, and a
pass/fail summary per control for a run that selected the framework."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from kubevet.data import read_text
from kubevet.findings import Finding


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Framework:
    name: str
    title: str
    source: str
    controls: tuple[Control, ...]

    @property
    def rules(self) -> frozenset[str]:
        return frozenset(code for c in self.controls for code in c.rules)


@cache
def frameworks() -> dict[str, Framework]:
    text = read_text("frameworks.yaml")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out = {}
    for name, fw in data["frameworks"].items():
        controls = tuple(
            Control(name, str(c["id"]), c["title"], tuple(c["rules"])) for c in fw["controls"]
        )
        out[name] = Framework(name, fw["title"], fw["source"], controls)
    return out


def framework_of(selector: str) -> Framework | None:
    return frameworks().get(selector.strip().lower())


def controls_for(code: str) -> list[Control]:
    """The framework controls a rule checks, for its documentation."""
    return [c for fw in frameworks().values() for c in fw.controls if code in c.rules]


def summary(fw: Framework, findings: list[Finding], ran: set[str]) -> list[dict[str, Any]]:
    """Per control: the rules that ran, the active findings, and pass / fail."""
    counts: dict[str, int] = {}
    for f in findings:
        if f.suppressed is None:
            counts[f.code] = counts.get(f.code, 0) + 1
    rows = []
    for c in fw.controls:
        checked = [r for r in c.rules if r in ran]
        failed = sum(counts.get(r, 0) for r in checked)
        status = "not checked" if not checked else ("fail" if failed else "pass")
        rows.append(
            {
                "framework": fw.name,
                "control": c.id,
                "title": c.title,
                "rules": checked,
                "findings": failed,
                "status": status,
            }
        )
    return rows
