"""Reporters: each module has `render(report, color=False) -> str`."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubevet.result import Report

FORMATS = ("text", "json", "jsonl", "sarif", "junit", "github", "gitlab", "html", "policyreport")


def render(fmt: str, report: Report, color: bool = False) -> str:
    return "".join(render_chunks(fmt, report, color))


def render_chunks(
    fmt: str, report: Report, color: bool = False, console: bool = False
) -> Iterator[str]:
    """The report in pieces, for writing as it is produced (reporters that can stream
    define `iter_render`; the others render one string). `console`: the text report
    leaves out errors and warnings, which the command printed on stderr already."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    module = importlib.import_module(f"kubevet.report.{fmt}_report")
    if hasattr(module, "iter_render"):
        return module.iter_render(report)
    if fmt == "text":
        return iter((module.render(report, color=color, diagnostics=not console),))
    return iter((module.render(report, color=color),))
