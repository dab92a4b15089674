"""Resource bounds on input: file sizes and chart renders (config key `limits`).

    limits:
      max-file-size: 64Mi      # largest file read (manifests, values, chart files)
      render-timeout: 60       # seconds one chart render may take
      render-memory: 2Gi       # memory one chart render may use
      archive-size: 100Mi      # what a chart archive may inflate to (Helm's own bound)
      archive-members: 10000   # files and directories in a chart archive

The bounds are process-wide because files are read from many places (sources, trace,
fix); `use()` sets them in each process that reads inputs, workers included.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on what one run reads and renders (file sizes, render time and memory, archives)."""

    max_file_size: int = 64 * MiB
    render_timeout: float = 60.0
    render_memory: int = 2048 * MiB
    archive_size: int = 100 * MiB
    archive_members: int = 10000


_CURRENT = [Limits()]


def current() -> Limits:
    return _CURRENT[0]


def use(limits: Limits) -> None:
    _CURRENT[0] = limits


def from_config(data: Any, where: str = "limits") -> Limits:
    """`limits` config table -> Limits; raises ValueError naming the bad key."""
    if data is None:
        return Limits()
    if not isinstance(data, dict):
        raise ValueError(f"'{where}' must be a mapping of limit names to values")
    known = {f.name.replace("_", "-"): f.name for f in fields(Limits)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = known.get(str(key).replace("_", "-"))
        if name is None:
            raise ValueError(f"unknown key '{where}.{key}' (known: {', '.join(sorted(known))})")
        label = f"{where}.{name.replace('_', '-')}"
        if name == "render_timeout":
            values[name] = _seconds(value, label)
        elif name == "archive_members":
            values[name] = _count(value, label)
        else:
            values[name] = _bytes(value, label)
    return Limits(**values)


def _bytes(value: Any, label: str) -> int:
    from kubevet.quantity import QuantityError, parse_quantity

    try:
        amount = parse_quantity(value)
    except QuantityError:
        raise ValueError(f"'{label}': {value!r} is not a size (expected like 64Mi)") from None
    if amount < 1:
        raise ValueError(f"'{label}' must be at least 1 byte")
    return int(amount)


def _seconds(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"'{label}': {value!r} is not a positive number of seconds")
    return float(value)


def _count(value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"'{label}': {value!r} is not a positive whole number")
    return value


def describe_size(n: int) -> str:
    """Bytes for messages: `64 MiB` when exact, else the byte count."""
    for unit, size in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", 1024)):
        if n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"
