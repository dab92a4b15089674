"""Reporters: each module has `render(report, color=False) -> str`."""

from __future__ import annotations

import importlib
from typing import Any

FORMATS = ("text", "json", "sarif", "junit", "github")


def render(fmt: str, report: Any, color: bool = False) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    module = importlib.import_module(f"kubevet.report.{fmt}_report")
    return module.render(report, color=color)
