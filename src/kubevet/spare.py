"""Whether a core is left over from a parallel run's inputs, for work that could use it.

A chart whose marker renders are slow renders two at a time in its render worker (a second
load of the chart, `trace.render`). That pays only on a core no other input of the run
wants: with `-j 2` on two cores, while another input is still to be checked, the second
load and the contention of two renders at once only add CPU time. The pool's processes
share the count of inputs not yet done; a process outside a pool has the machine's cores
to itself.
"""

from __future__ import annotations

import os
from typing import Any

_SHARED: list[Any] = [None, 1]  # the count of inputs not done (a shared int), pool workers


def share(left: Any, workers: int) -> None:
    """In each pool process: `left` counts the run's inputs not yet done."""
    _SHARED[0], _SHARED[1] = left, workers


def done() -> None:
    """An input of the pool's run is done."""
    left = _SHARED[0]
    if left is not None:
        with left.get_lock():
            left.value -= 1


def spare_core() -> bool:
    """Whether fewer inputs are being checked than the machine has cores."""
    left = _SHARED[0]
    if left is None:
        return True
    return min(left.value, _SHARED[1]) < _cores()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity on this platform
        return os.cpu_count() or 1
