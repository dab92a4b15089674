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
from conftest import ROOT

from kubevet.sources import renderworker

# The installed command, as users run it (`python -m kubevet` goes through runpy, whose
# start-up differs in ways this test does not need to cover).
KUBEVET = os.path.join(os.path.dirname(sys.executable), "kubevet")


def _blocked_on_stdin() -> subprocess.Popen[str]:
    """`kubevet check -` with stdin held open: it waits there until signalled."""
    proc = subprocess.Popen(
        [KUBEVET, "check", "-"],
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
@pytest.mark.skipif(not os.path.exists(KUBEVET), reason="no kubevet command beside this Python")
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


def test_stopping_the_workers_ends_a_pool_with_work_running_and_queued():
    # Two inputs running for a minute and large ones queued behind them (the queue's pipe
    # full): stopping must end it all at once, quietly, and the process must exit.
    code = (
        "import multiprocessing, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from kubevet.runner import _stop_workers\n"
        "from kubevet.signals import pool_worker\n"
        "ctx = multiprocessing.get_context('fork')\n"
        "with ProcessPoolExecutor(2, mp_context=ctx, initializer=pool_worker) as pool:\n"
        "    running = [pool.submit(time.sleep, 60) for _ in range(2)]\n"
        "    queued = [pool.submit(len, 'x' * 2**20) for _ in range(20)]\n"
        "    time.sleep(1)\n"
        "    _stop_workers(pool)\n"
        "from concurrent.futures import wait\n"
        "done, _ = wait(running + queued, timeout=30)  # failed or cancelled, none run\n"
        "ran = [f for f in done if not f.cancelled() and f.exception() is None]\n"
        "print('stopped', len(done), len(ran))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.split() == ["stopped", "22", "0"]


def test_signals_held_over_a_block_arrive_after_it():
    import threading

    from kubevet.signals import held

    idle = threading.Event()
    other = threading.Thread(target=idle.wait)  # a second thread could take the signal
    other.start()
    got = []
    try:
        with pytest.raises(KeyboardInterrupt), held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            got.append("the block ran to its end")
    finally:
        idle.set()
        other.join()
    assert got == ["the block ran to its end"]


def test_an_interrupt_python_wrapped_in_a_class_set_up_is_still_an_interrupt(monkeypatch, capsys):
    # Python 3.11 turns a KeyboardInterrupt raised in __set_name__ (a dataclass being made
    # while a module imports) into a RuntimeError: not an internal error of kubevet.
    from kubevet import cli
    from kubevet.commands import check

    def interrupted(args: object) -> int:
        raise RuntimeError("Error calling __set_name__") from KeyboardInterrupt()

    monkeypatch.setattr(check, "run", interrupted)
    monkeypatch.setattr("kubevet.signals._quitting", False)  # back after the test
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert cli.main(["check", "-"]) == 130
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert "internal error" not in capsys.readouterr().err


def test_a_program_calling_main_keeps_its_signal_handlers(capsys):
    from kubevet import cli

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    cli.main(["check", str(ROOT / "examples" / "manifests"), "--format", "json"])
    assert {s: signal.getsignal(s) for s in before} == before
