"""The end of a `kubevet` process without the interpreter's teardown where it has nothing
left to do.

At exit, Python frees every module and every object still alive one by one: on the
pre-rendered corpus, the rules, the findings and the parsed input were about a tenth of the
whole run's CPU, spent on memory the operating system takes back at once anyway. So when
the teardown would do nothing else that can be seen (no atexit callback, no other thread
to wait for, no warnings asked for), the process flushes its standard streams and ends
with os._exit. Otherwise, or where any of this cannot be told, it exits as usual.

In such a process (`ends_here`), what a check built for its last input and its report need
not be freed either: `keep` holds them until the end, where they cost nothing.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

_ending_pid: int | None = None  # the process that ends through exit_now (see ends_here)
_kept: dict[str, object] = {}


def ends_here() -> None:
    """This process ends through exit_now once its command returns (the console entry)."""
    global _ending_pid
    _ending_pid = os.getpid()


def keep(slot: str, value: object) -> bool:
    """In the process that ends through exit_now, hold `value` in `slot` until the end
    instead of letting it be freed now; what the slot held before is freed (so a run over
    many inputs holds one input's objects at a time, as before). False elsewhere (a library
    call, a worker): the caller's reference is the last, as usual."""
    if _ending_pid != os.getpid():
        return False
    if value is None:
        _kept.pop(slot, None)
    else:
        _kept[slot] = value
    return True


def holds() -> bool:
    """Whether anything is kept (the caller then freezes it out of the cycle collector's
    walks: it lives to the end)."""
    return bool(_kept)


def exit_now(code: int) -> NoReturn:
    """End the process with `code`: at once where the teardown has nothing to do, else by
    SystemExit (the interpreter's usual exit)."""
    if not teardown_needed():
        try:
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: Python's exit reports it
            raise SystemExit(code) from None
        os._exit(code)
    raise SystemExit(code)


def teardown_needed() -> bool:
    """Whether Python's own exit could do more than free memory: run atexit callbacks
    (multiprocessing's finalizers, temporary copies of charts, coverage), wait for a thread
    that is not a daemon, or show the warnings of its teardown (-W, -X dev: unclosed files)."""
    import atexit

    count = getattr(atexit, "_ncallbacks", None)  # CPython's; elsewhere, exit as usual
    if count is None or count() or sys.warnoptions or sys.flags.dev_mode:
        return True
    threading = sys.modules.get("threading")
    if threading is None:
        return False
    if getattr(threading, "_threading_atexits", None):  # concurrent.futures' pools
        return True
    main = threading.main_thread()
    return any(t is not main and not t.daemon for t in threading.enumerate())
