"""Schedule: a workload's off-hours scale-down (footprint.workloads.off_hours_schedule).
Imported where one is found: few inputs have one, and a frozen dataclass's six generated
methods are compiled when its class is built, on every run that imports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    """The part of the week a workload runs at full size, and its size the rest of the time."""

    up_share: float  # 0..1 of the week
    down_replicas: float | None  # None: the autoscaler's minimum
    source: str  # what set it, for the report
