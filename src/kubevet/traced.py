"""Trace: where a rendered chart field comes from, as kubevet.trace records it on a finding
(`Finding.trace`) and reporters print it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(slots=True)
class Trace:
    """Where a rendered chart field comes from (filled by kubevet.trace)."""

    template: str | None = None
    template_line: int | None = None
    values_keys: tuple[str, ...] = ()
    status: Literal["values", "hard-coded", "absent", "unknown"] = "unknown"
    # The chart's values.yaml and the line of each of `values_keys` in it (None: not set
    # there, it came from -f or --set), recorded by kubevet.trace for reporters.
    values_file: str | None = None
    values_lines: tuple[int | None, ...] = ()

    @property
    def answer(self) -> str:
        """Where to change it, in words (the same in every report)."""
        if self.status == "values":
            return "set by values: " + ", ".join(self.values_keys)
        if self.status == "hard-coded":
            return "hard-coded in the template; no values key changes it"
        if self.status == "absent":
            return "the template does not write it and no values key can: change the template"
        return "not traced: marking the values keys that could tell broke the template"
