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
