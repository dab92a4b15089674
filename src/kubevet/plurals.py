"""Counts as people write them: `1 finding`, `2 findings`, `0 findings`."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str = "") -> str:
    """`n` and the noun, in the plural unless `n` is 1 (`plural`, or the noun and an `s`)."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"
