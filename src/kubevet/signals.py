"""How kubevet stops when it is told to: Ctrl-C (SIGINT, sent to the whole process group)
and SIGTERM (a CI job cancelled or timed out, `kill`). The main process unwinds as on
Ctrl-C, so what a run holds is released (chart copies, render workers) and nothing half
written is left; worker processes leave Ctrl-C to it; a second signal quits at once.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main process is, as Ctrl-C raises KeyboardInterrupt
    (Python's default would end the process on the spot, skipping every clean-up)."""


_quitting = False  # the run was stopped: the process is ending, its handlers stay


@contextmanager
def sigterm_stops() -> Iterator[None]:
    """While a command runs in the main process: SIGTERM raises Terminated (unless an
    embedding program set its own handler). After the block the default is back, unless
    the run was stopped (quit_on_next_signal), so a program that called kubevet's main is
    left as it was."""

    def stop(signum: int, frame: object) -> NoReturn:
        raise Terminated()

    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        if not _quitting:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stopped(interrupt: KeyboardInterrupt) -> int:
    """The exit code of a run stopped by `interrupt` (as a shell reports a process a
    signal ended: 128 + SIGTERM or SIGINT); a second signal now quits at once."""
    quit_on_next_signal()
    return 143 if isinstance(interrupt, Terminated) else 130


def quit_on_next_signal() -> None:
    """While a stopped run winds down (workers ended, copies removed), a second Ctrl-C or
    SIGTERM quits at once, quietly: a later run sweeps what is left (tempdirs)."""
    global _quitting

    def quit_now(signum: int, frame: object) -> NoReturn:
        os._exit(128 + signum)

    _quitting = True
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, quit_now)


def die_with(parent: int, signum: int) -> None:
    """On Linux, have the kernel send `signum` to this process when `parent` (the process
    that started it, from its main thread) ends, however it ends: a worker blocked on its
    work queue, or running a render, would otherwise outlive a killed run for ever.
    Elsewhere nothing changes: a worker ends when it finds its parent gone."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signum), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before the request took hold
        os._exit(128 + int(signum))


def pool_worker(parent: int | None = None) -> None:
    """In each process of a worker pool: Ctrl-C is the main process's to handle, and
    SIGTERM (the main process stopping the pool) ends the worker at once (a worker
    interrupted inside the executor's own queue code could leave the pool waiting for
    ever), its render worker with it: a render in Go runs on, unbounded once no one
    times it, unless it is killed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end_pool_worker)
    if parent is not None:  # the main process killed outright: SIGTERM, as when it stops us
        die_with(parent, signal.SIGTERM)


def _end_pool_worker(signum: int, frame: object) -> NoReturn:
    import sys

    # One SIGTERM comes from the main process stopping the pool, and another from a kill of
    # the whole process group: a second one must not cut this handler short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    renderworker = sys.modules.get("kubevet.sources.renderworker")
    if renderworker is not None:  # a render worker may be running: kill it, remove copies
        renderworker.stop_now()
    os._exit(128 + signum)


@contextmanager
def held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back for the block and delivered after it: orjson's module
    set-up crashes the process (SIGSEGV) when a KeyboardInterrupt is raised inside it.
    Python runs signal handlers in the main thread only, so that is the one place they
    need holding; they are held by handlers that note them (blocking them in this thread
    would not do: the kernel hands a process's signal to any thread not blocking it)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    old: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if handler is not None:  # None: set outside Python, left as it is
            old[signum] = signal.signal(signum, lambda n, frame: noted.append(n))
    try:
        yield
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
        for signum in noted:
            signal.raise_signal(signum)  # now, to the handler it had
