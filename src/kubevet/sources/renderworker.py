"""Chart renders under a time and a memory bound, in a worker process.

A template can loop for ever (`until 100000000`, nested `range`) or build gigabytes, and a
render inside Helm's Go runtime cannot be interrupted. So each chart renders in a worker
process whose address space is bounded (RLIMIT_AS, set once Helm is loaded) and which is
killed when a render overruns its time. The worker is spawned, never forked: a fork of a
process running Go has none of its threads and deadlocks. It is started once per process
and reused for every chart, so the normal path pays one start (~0.3 s), not one per chart.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any

from kubevet import limits
from kubevet.findings import InputError

_START_TIMEOUT = 300.0  # seconds to start Python and load Helm, on a loaded machine
_WORKER: dict[str, Any] = {}  # "proc", "conn", "memory", "engine": this process's worker
# A renderer: (chart path, values, options, warnings out) -> its result.
Engine = Callable[[str, dict[str, Any], Any, list[str]], Any]


def render(
    engine: Engine, path: str, values: dict[str, Any], opts: Any, warnings: list[str]
) -> Any:
    """`engine(path, values, opts, warnings)` in the worker, under `limits.current()`; an
    overrun is an InputError naming the chart and the bound it passed (the worker is then
    replaced). `engine` is a module-level function (helm's renderer): the worker imports
    it by name, so this module depends on no renderer."""
    bounds = limits.current()
    conn = _worker(bounds.render_memory, engine)
    conn.send((os.getcwd(), path, values, opts))  # relative paths mean the same there
    if not conn.poll(bounds.render_timeout):
        _stop()
        raise InputError(
            path,
            f"chart render took longer than the {bounds.render_timeout:g} s limit "
            "(config limits.render-timeout); not checked",
        )
    try:
        status, payload, logged = conn.recv()
    except (EOFError, OSError):  # the worker died: Go aborts when memory runs out
        _stop()
        raise InputError(path, _memory_message(bounds.render_memory)) from None
    warnings.extend(logged)
    if status == "memory":
        _stop()  # a MemoryError may leave the worker in a poor state
        raise InputError(path, _memory_message(bounds.render_memory))
    if status == "error":
        raise payload
    return payload


def _memory_message(memory: int) -> str:
    return (
        f"chart render needed more than the {limits.describe_size(memory)} memory limit "
        "(config limits.render-memory); not checked"
    )


def _worker(memory: int, engine: Engine) -> Any:
    proc = _WORKER.get("proc")
    alive = proc is not None and proc.is_alive()
    if alive and _WORKER.get("memory") == memory and _WORKER.get("engine") is engine:
        return _WORKER["conn"]
    _stop()
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(
        target=_serve, args=(child, memory, engine), name="kubevet-render", daemon=True
    )
    proc.start()
    child.close()
    _WORKER.update(proc=proc, conn=parent, memory=memory, engine=engine)
    # Wait until Helm is loaded there, so a render's time limit counts the render only.
    if not parent.poll(_START_TIMEOUT) or parent.recv() != "ready":
        _stop()
        raise InputError("kubevet", "the chart render worker did not start")
    return parent


def _stop() -> None:
    proc, conn = _WORKER.pop("proc", None), _WORKER.pop("conn", None)
    if conn is not None:
        conn.close()
    if proc is not None:
        proc.kill()
        proc.join()


def _serve(conn: Any, memory: int, engine: Engine) -> None:
    """The worker's loop: render each request, answer (status, result, warnings)."""
    _bound_memory(memory)
    conn.send("ready")
    while True:
        try:
            cwd, path, values, opts = conn.recv()
        except EOFError:
            return
        os.chdir(cwd)
        warnings: list[str] = []
        try:
            answer: tuple[str, Any, list[str]] = (
                "ok",
                engine(path, values, opts, warnings),
                warnings,
            )
        except InputError as err:
            answer = ("error", err, warnings)
        except MemoryError:
            answer = ("memory", None, warnings)
        conn.send(answer)


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
