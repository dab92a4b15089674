"""Stopped from outside (Ctrl-C to the process group, SIGTERM from a CI runner or `kill`),
kubevet exits with the shell's code for the signal and no traceback, from any of its
processes; the chart render worker leaves Ctrl-C to the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
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


# --- stopped while Helm renders -------------------------------------------------------
# A render in Go cannot be interrupted: the run must not wait for it (up to the render
# time bound, a minute by default), and no worker may outlive the run. loop-chart renders
# for about half a minute; slow-trace-chart renders at once, then its trace renders loop.

INPUT = ROOT / "tests" / "fixtures" / "input"
LINUX = os.path.exists("/proc/self/stat")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        out += kids
        todo += kids
    return out


def _live(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start(tmp_path, *argv: str) -> subprocess.Popen[str]:
    """kubevet with its own temp dir (its chart copies land there), once its render
    workers run and have had a second to load Helm and begin."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [KUBEVET, "check", *argv, "-o", os.devnull],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    workers = 2 if "2" in argv else 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tree = _tree(proc.pid)
        renderers = [p for p in tree if b"spawn_main" in _cmdline(p)]
        if len(renderers) >= workers:
            break
        time.sleep(0.1)
    time.sleep(2.0)
    return proc


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _copies(tmp_path) -> list[str]:
    return [p.name for p in tmp_path.iterdir() if p.name.startswith("kubevet-chart-")]


def _gone(pids: list[int], within: float) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(_live(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _live(p)]


@pytest.mark.skipif(not LINUX, reason="reads /proc (Linux)")
@pytest.mark.skipif(not os.path.exists(KUBEVET), reason="no kubevet command beside this Python")
@pytest.mark.parametrize(
    ("jobs", "signum", "group"),
    [("1", signal.SIGINT, True), ("1", signal.SIGTERM, False), ("2", signal.SIGTERM, True)],
)
def test_a_run_stopped_mid_render_ends_now_leaving_no_worker_and_no_copy(
    tmp_path, jobs, signum, group
):
    proc = _start(tmp_path, str(INPUT / "loop-chart"), str(INPUT / "slow-trace-chart"), "-j", jobs)
    try:
        tree = _tree(proc.pid)
        (os.killpg if group else os.kill)(proc.pid, signum)
        _, err = proc.communicate(timeout=20)  # the renders under way take far longer
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum and "Traceback" not in err, err
    assert _gone(tree, 10) == []
    assert _copies(tmp_path) == []


@pytest.mark.skipif(not LINUX, reason="PR_SET_PDEATHSIG (Linux)")
@pytest.mark.skipif(not os.path.exists(KUBEVET), reason="no kubevet command beside this Python")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_workers_end_when_the_run_is_killed_outright(tmp_path, jobs):
    """SIGKILL (the OOM killer, a runner's last resort) gives the run no chance to stop
    its workers: pool workers blocked on their queue and a render looping in Go would
    live on; the kernel ends them with it, and pool workers still remove their copies."""
    proc = _start(tmp_path, str(INPUT / "loop-chart"), str(INPUT / "slow-trace-chart"), "-j", jobs)
    tree = _tree(proc.pid)
    proc.kill()
    proc.communicate(timeout=20)
    assert _gone(tree, 10) == []
    if jobs == "2":
        assert _copies(tmp_path) == []


def test_a_stopped_worker_is_a_new_generation_and_its_copies_go(tmp_path, monkeypatch):
    from kubevet import tempdirs

    pid = renderworker.call("test", os.getpid)
    own = tmp_path / f"{tempdirs.PREFIX}{pid}-abcd1234"
    other = tmp_path / f"{tempdirs.PREFIX}{pid + 1}-abcd1234"
    for directory in (own, other):
        (directory / "chart").mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    generation = renderworker.generation()
    renderworker.stop_now()
    assert renderworker.generation() > generation
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name]
    assert renderworker.call("test", os.getpid) != pid  # a new worker serves
