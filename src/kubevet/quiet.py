"""Silence file descriptor 2 around native calls that print what kubevet reports itself."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

_DEVNULL_FD = os.open(os.devnull, os.O_WRONLY)


_LOCK = threading.Lock()
_QUIET = {"depth": 0, "saved": -1}


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Native libraries (rapidyaml's C++ handler, Helm's Go logger) write to fd 2 directly,
    so `sys.stderr` redirection does not reach them; this swaps the descriptor itself.
    Counted, so that threads rendering at once restore it only when the last one leaves."""
    with _LOCK:
        if _QUIET["depth"] == 0:
            try:
                _QUIET["saved"] = os.dup(2)
                os.dup2(_DEVNULL_FD, 2)
            except OSError:
                _QUIET["saved"] = -1
        _QUIET["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _QUIET["depth"] -= 1
            if _QUIET["depth"] == 0 and _QUIET["saved"] >= 0:
                os.dup2(_QUIET["saved"], 2)
                os.close(_QUIET["saved"])
                _QUIET["saved"] = -1


@contextlib.contextmanager
def captured_stderr(lines: list[str]) -> Iterator[None]:
    """fd 2 into a temporary file for the duration; what was written is added to `lines`
    (Helm's Go logger reports chart problems, such as values it skipped, only there)."""
    import tempfile

    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        try:
            os.dup2(tmp.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode("utf-8", "replace").splitlines())
