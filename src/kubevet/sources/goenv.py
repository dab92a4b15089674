"""The render worker's Go runtime settings, chosen for the run before the worker starts.

Kept apart from `renderworker` (which imports multiprocessing and pickle): every check
says whether it traces, and a check of plain manifests never starts a worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

# Go's collector at its default (GOGC=100) took about a sixth of a render's CPU (gitlab's
# marker renders); at 200 it runs half as often for ~10% more peak memory in the worker.
GO_GC = "200"
# A traced run renders a chart dozens of times (gitlab: 33 renders, 0.15-0.2 CPU s each):
# collecting half as often again saves about a tenth of the worker's CPU there, for about
# 100 MiB more peak memory in the worker on gitlab (still far below limits.render-memory).
GO_GC_TRACED = "400"
_TRACED: list[bool] = [False]  # whether this process's run traces charts (`tracing`)


def tracing(on: bool) -> None:
    """Say whether the renders to come are a traced run's: the worker's Go collector is
    set for it (a worker started with the other setting is replaced on its next call)."""
    _TRACED[0] = on


def gogc() -> str | None:
    """The GOGC the worker gets: None where the user set one (theirs is inherited)."""
    if "GOGC" in os.environ:
        return None
    return GO_GC_TRACED if _TRACED[0] else GO_GC


@contextmanager
def environment(value: str | None) -> Iterator[None]:
    """GOGC for the worker's Go runtime (None: the user's, untouched). Go reads its
    environment from the process's start, so it is set in this process while the worker
    is spawned."""
    if value is None:
        yield
        return
    os.environ["GOGC"] = value
    try:
        yield
    finally:
        os.environ.pop("GOGC", None)
