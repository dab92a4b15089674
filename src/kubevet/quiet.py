"""Silence file descriptor 2 around native calls that print what kubevet reports itself."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

_DEVNULL_FD = os.open(os.devnull, os.O_WRONLY)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Native libraries (rapidyaml's C++ handler, Helm's Go logger) write to fd 2 directly,
    so `sys.stderr` redirection does not reach them; this swaps the descriptor itself."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        os.dup2(_DEVNULL_FD, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
