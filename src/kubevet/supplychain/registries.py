"""Frozen and retired image registries: the packaged data table (data/frozen_registries.yaml)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from kubevet.sources.yamldocs import load_one


@cache
def frozen_registries() -> list[dict[str, Any]]:
    """The data table of frozen or retired registries (data/frozen_registries.yaml)."""
    text = resources.files("kubevet.data").joinpath("frozen_registries.yaml").read_text("utf-8")
    return list(load_one(text)["registries"])
