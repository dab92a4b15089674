"""Chart renders under a time and a memory bound, in a worker process.

A template can loop for ever (`until 100000000`, nested `range`) or build gigabytes, and a
render inside Helm's Go runtime cannot be interrupted. So every render kubevet makes (the
main one, `--trace` marker renders, `fix` proof renders) runs in a worker process whose
address space is bounded (RLIMIT_AS, set once Helm is loaded) and which is killed when a
request overruns its time. The worker is spawned, never forked: a fork of a process
running Go has none of its threads and deadlocks. It is started once per process and
reused, so the normal path pays one start (~0.3 s), not one per chart.

A request is a module-level function and its arguments (the worker imports the function
by name, so this module depends on no renderer): helm's renderer for the main render,
`trace.render`'s operations on the charts it keeps loaded there for traces and proofs.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable
from typing import Any, NoReturn

from kubevet import limits
from kubevet.findings import InputError
from kubevet.sources import goenv

_START_TIMEOUT = 300.0  # seconds to start Python and load Helm, on a loaded machine
_WORKER: dict[str, Any] = {}  # "proc", "conn", "memory", "gogc", "generation": the live worker
_LOCK = threading.Lock()  # one request at a time (trace renders come from two threads)
# A renderer: (chart path, values, options, warnings out) -> its result.
Engine = Callable[[str, dict[str, Any], Any, list[str]], Any]
NOT_CHECKED = "not checked"


class LimitError(InputError):
    """A render passed `limits.render-timeout` or `limits.render-memory`; the message
    ends with what that cost ("; not checked"), which `reword` replaces."""

    def reword(self, consequence: str) -> LimitError:
        base = self.message.rsplit("; ", 1)[0]
        return LimitError(self.file, f"{base}; {consequence}", self.line)


def render(
    engine: Engine, path: str, values: dict[str, Any], opts: Any, warnings: list[str]
) -> Any:
    """`engine(path, values, opts, warnings)` in the worker, under `limits.current()`; an
    overrun is a LimitError naming the chart and the bound it passed (the worker is then
    replaced)."""
    result, logged = call(path, _run_engine, engine, path, values, opts)
    warnings.extend(logged)
    return result


def call(chart: str, op: Callable[..., Any], *args: Any) -> Any:
    """`op(*args)` run in the worker (a module-level function); what it raises is raised
    here. An overrun of time or memory is a LimitError naming `chart`."""
    bounds = limits.current()
    with _LOCK:
        conn = _worker(bounds.render_memory)
        try:
            conn.send((os.getcwd(), op, args))  # relative paths mean the same there
            answered = conn.poll(bounds.render_timeout)
        except BaseException:  # Ctrl-C or SIGTERM: the Go render cannot be interrupted, and
            _stop()  # waiting for it could take up to the time bound; the work is dropped
            raise
        if not answered:
            _stop()
            raise LimitError(
                chart,
                f"chart render took longer than the {bounds.render_timeout:g} s limit "
                f"(config limits.render-timeout); {NOT_CHECKED}",
            )
        try:
            status, payload = conn.recv()
        except (EOFError, OSError):  # the worker died: Go aborts when memory runs out
            _stop()
            raise LimitError(chart, _memory_message(bounds.render_memory)) from None
        if status == "memory":
            _stop()  # a MemoryError may leave the worker in a poor state
            raise LimitError(chart, _memory_message(bounds.render_memory))
    if status == "error":
        raise payload
    return payload


def generation() -> int:
    """Which worker is live: state kept in the worker (a loaded chart) is gone once
    this changes (a request overran and the worker was replaced)."""
    return int(_WORKER.get("generation", 0))


def _memory_message(memory: int) -> str:
    return (
        f"chart render needed more than the {limits.describe_size(memory)} memory limit "
        f"(config limits.render-memory); {NOT_CHECKED}"
    )


def _worker(memory: int) -> Any:
    proc, gogc = _WORKER.get("proc"), goenv.gogc()
    same = _WORKER.get("memory") == memory and _WORKER.get("gogc") == gogc
    if proc is not None and proc.is_alive() and same:
        return _WORKER["conn"]
    _stop()
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(
        target=_serve, args=(child, memory, os.getpid()), name="kubevet-render", daemon=True
    )
    with goenv.environment(gogc):
        proc.start()
    child.close()
    _WORKER.update(proc=proc, conn=parent, memory=memory, gogc=gogc, generation=generation() + 1)
    # Wait until Helm is loaded there, so a render's time limit counts the render only.
    try:
        started = parent.poll(_START_TIMEOUT) and parent.recv() == "ready"
    except (EOFError, OSError):  # it died on the way (its traceback is on stderr)
        started = False
    if not started:
        _stop()
        raise InputError("kubevet", "the chart render worker did not start")
    return parent


def stop_now() -> None:
    """Kill the worker, if any, now (a process ending on a signal)."""
    _stop()


def _stop() -> None:
    """Kill the worker: what it had loaded is gone (a new generation), and so are the chart
    copies it made, which its own removal at exit, skipped by SIGKILL, would have taken."""
    from kubevet import tempdirs

    proc, conn = _WORKER.pop("proc", None), _WORKER.pop("conn", None)
    _WORKER["generation"] = generation() + 1
    if conn is not None:
        conn.close()
    if proc is not None:
        proc.kill()
        proc.join()
        tempdirs.remove_made_by(proc.pid)


def _run_engine(
    engine: Engine, path: str, values: dict[str, Any], opts: Any
) -> tuple[Any, list[str]]:
    warnings: list[str] = []
    return engine(path, values, opts, warnings), warnings


def _serve(conn: Any, memory: int, parent: int) -> None:
    """The worker's loop: run each request, answer (status, result or exception)."""
    import signal

    from kubevet import signals

    # A render looping in Go would otherwise run on for ever once its parent, which alone
    # times it, is killed (SIGKILL, a crash): the kernel kills it too.
    signals.die_with(parent, signal.SIGKILL)
    # Ctrl-C reaches the whole process group: the process that started this worker stops
    # (and so ends this loop); a KeyboardInterrupt here would only print a traceback.
    # SIGTERM (multiprocessing stops its daemon children so at exit) ends the loop too, so
    # that the chart copies made here are removed on the way out (tempdirs).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end)
    _bound_memory(memory)
    conn.send("ready")
    while True:
        try:
            cwd, op, args = conn.recv()
        except (EOFError, OSError):  # the process that started this one is gone
            return
        os.chdir(cwd)
        try:
            answer: tuple[str, Any] = ("ok", op(*args))
        except MemoryError:
            answer = ("memory", None)
        except Exception as exc:  # raised again in the caller, whose handlers decide
            answer = ("error", exc)
        try:
            conn.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError):  # an exception that
            conn.send(("error", RuntimeError(repr(answer[1]))))  # cannot cross processes
        except OSError:  # the process that asked is gone (stopped mid-render): end quietly
            return


def _end(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


def _bound_memory(memory: int) -> None:
    """RLIMIT_AS = what the process maps now (Python and Helm's Go runtime, which reserves
    its address space up front) plus the render budget."""
    import resource

    import helm_python  # noqa: F401 - loads the Go runtime before the bound is taken

    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as fh:
            size = next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmSize:"))
    except (OSError, StopIteration):
        return  # no /proc (not Linux): the time bound still holds
    resource.setrlimit(resource.RLIMIT_AS, (size + memory, size + memory))
