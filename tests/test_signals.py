"""Stopped from outside (Ctrl-C to the process group, SIGTERM from a CI runner or `kill`),
kubevet exits with the shell's code for the signal and no traceback, from any of its
processes; the chart render worker leaves Ctrl-C to the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from kubevet.sources import renderworker


def _blocked_on_stdin() -> subprocess.Popen[str]:
    """`kubevet check -` with stdin held open: it waits there until signalled."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubevet", "check", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job is
    )
    deadline = time.monotonic() + 60
    while not _catches_sigterm(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # start-up: kubevet sets its SIGTERM handler as its run begins
    return proc


def _catches_sigterm(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            caught = next(int(ln.split()[1], 16) for ln in fh if ln.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc (Linux)")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signalled_run_exits_with_the_signals_code_and_no_traceback(signum, code):
    proc = _blocked_on_stdin()
    os.killpg(proc.pid, signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in out + err


def test_the_render_worker_ignores_ctrl_c_and_keeps_serving():
    first = renderworker.call("test", os.getpid)
    generation = renderworker.generation()
    os.kill(first, signal.SIGINT)  # as the terminal sends it to the whole group
    time.sleep(0.5)
    assert renderworker.call("test", os.getpid) == first
    assert renderworker.generation() == generation
