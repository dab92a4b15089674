"""Frozen and retired image registries: the packaged data table (data/frozen_registries.yaml)."""

from __future__ import annotations

from functools import cache
from typing import Any

from kubevet.data import read_text
from kubevet.sources.yamldocs import load_one


@cache
def frozen_registries() -> list[dict[str, Any]]:
    """The data table of frozen or retired registries (data/frozen_registries.yaml)."""
    text = read_text("frozen_registries.yaml")
    return list(load_one(text)["registries"])
