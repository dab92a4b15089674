"""Malformed: a field of the wrong type that kubevet.shapes takes out of an object. Made only
where an input has one, so only imported then: a frozen dataclass's six generated methods
are compiled when its class is built, on every run that imports it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubevet.model import Path


@dataclass(frozen=True)
class Malformed:
    """A field of the wrong type, taken out of the object rules see."""

    path: Path
    problem: str  # "expected a list, got a string"
