"""`kubevet check --engine ray`: the per-input work as Ray tasks, on a cluster that already
runs (`--address auto`, `ray://HOST:PORT`) or on a throwaway one (`--address local`).

Each task checks a small batch of inputs and returns their shard records (the JSON Lines
lines of `check --shard`); the driver reads them back in input order into the same report
`check -j 1` builds, so the output is byte for byte the same. Nothing a task returns is a
Python object built from the scanned files: results cross as JSON text, as shard files do.
Ray itself pickles what travels between its processes (here the driver's own settings and
input paths out, those strings back); that is Ray's trust boundary, not kubevet's: whoever
can reach a Ray cluster can run code on it, so run kubevet's tasks only on a cluster you
trust, as you would any Ray job.

Workers are processes the raylet spawns, never forks of this one: a fork of a process that
has loaded Helm's Go runtime hangs on a later render. A task whose worker dies is run
again (RETRIES times, each logged on stderr: Ray's own retries are silent); a batch that
still fails is split into one task per input, and an input whose own task fails becomes
an input error naming it.
Workers read the inputs at the paths the driver names (relative to its directory), so a
real cluster needs the charts at the same path on every node (an image or a shared volume).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from kubevet import __version__

if TYPE_CHECKING:
    from types import ModuleType

    from kubevet.progress import Progress
    from kubevet.runner import RunSettings
    from kubevet.shard import Result
    from kubevet.sources import Input

RETRIES = 3  # a task whose worker died is run again this many times
HINT = "pip install 'kubevet[ray]'"


class EngineError(Exception):
    """Ray is missing, unreachable or runs another kubevet; the message says which."""


def load_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise EngineError(f"--engine ray needs Ray, which is not installed: {HINT}") from None
    return ray


@contextlib.contextmanager
def connect(address: str, cpus: int) -> Iterator[Engine]:
    """An engine on the cluster at `address`; `local` starts a throwaway one with `cpus`
    CPUs and removes it (processes and files) on the way out. A process already connected
    to Ray (an embedder, a test) keeps its connection."""
    ray = load_ray()
    if ray.is_initialized():
        yield Engine(ray)
    elif address == "local":
        with _throwaway(ray, cpus):
            yield Engine(ray)
    else:
        try:
            ray.init(address=address, logging_level=logging.ERROR)
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError, grpc errors
            raise EngineError(
                f"--address {address}: no Ray cluster to connect to ({_reason(exc)}); start "
                "one with `ray start --head`, or use --address local for a throwaway one"
            ) from None
        try:
            yield Engine(ray)
        finally:
            ray.shutdown()  # disconnects: kubevet never stops a cluster it did not start


@contextlib.contextmanager
def _throwaway(ray: ModuleType, cpus: int) -> Iterator[None]:
    # Ray's sockets live under the temporary directory, and a Unix socket's path has at
    # most 107 bytes: a long TMPDIR (CI runners, pytest) falls back to /tmp.
    base = tempfile.gettempdir()
    temp = tempfile.mkdtemp(prefix="kubevet-ray-", dir=base if len(base) <= 40 else "/tmp")
    # Token auth as Ray does by default, with a token of this run's only: Ray's default
    # would write ~/.ray/auth_token, and a throwaway cluster leaves no file behind.
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    _reload_auth()
    try:
        try:
            ray.init(
                address="local",
                num_cpus=cpus,
                include_dashboard=False,
                logging_level=logging.ERROR,
                # The node's address for its own processes; Ray's servers still listen on
                # every interface, so the one-run token is what keeps others out.
                _node_ip_address="127.0.0.1",
                _temp_dir=temp,
            )
        except Exception as exc:  # Ray gives its raylet 30 s to start, a loaded machine less
            raise EngineError(f"--address local: Ray did not start ({_reason(exc)})") from None
        yield
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _reload_auth()
        shutil.rmtree(temp, ignore_errors=True)


def _reload_auth() -> None:
    """Ray reads RAY_AUTH_* once, when imported; make it read them again (as Ray's own
    ray.init does when it turns token auth on)."""
    try:
        from ray._raylet import AuthenticationTokenLoader, Config
    except ImportError:  # another Ray: it reads the environment when it starts the cluster
        return
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


class Engine:
    def __init__(self, ray: ModuleType) -> None:
        self.ray = ray
        # Retried here, not by Ray (which retries silently): each retry is logged.
        self.check = ray.remote(max_retries=0)(check_batch)

    def run(
        self, inputs: list[Input], settings: RunSettings, progress: Progress | None = None
    ) -> Iterator[Result]:
        """One result per input, in input order, yielded as soon as its turn comes (and
        told to `progress` then, as -j does)."""
        if not inputs:
            return
        if progress is not None:
            progress.start([i.label for i in inputs])
        self._same_kubevet()
        ray = self.ray
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        size = max(1, min(32, len(inputs) // (cpus * 8)))  # small: even load, cheap retries
        shared = ray.put(replace(settings, jobs=1))  # sent once, not with every task
        cwd = os.getcwd()
        pending: dict[object, tuple[list[int], int]] = {}  # task -> (inputs, attempt)

        def submit(batch: list[int], attempt: int = 0) -> None:
            task = self.check.remote(cwd, [(k, inputs[k]) for k in batch], shared)
            pending[task] = batch, attempt

        for start in range(0, len(inputs), size):
            submit(list(range(start, min(start + size, len(inputs)))))
        done: dict[int, Result] = {}
        turn = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            batch, attempt = pending.pop(ready[0])
            try:
                done.update(_read(ray.get(ready[0])))
            except ray.exceptions.RayError as exc:
                done.update(self._after_failure(exc, inputs, batch, attempt, submit, progress))
            while turn in done:
                result = done.pop(turn)
                if progress is not None:
                    summary = result[0]
                    progress.done(summary.label, summary.seconds, summary.objects, len(result[1]))
                yield result
                turn += 1

    def _after_failure(
        self,
        exc: Exception,
        inputs: list[Input],
        batch: list[int],
        attempt: int,
        submit: Callable[[list[int], int], None],
        progress: Progress | None,
    ) -> dict[int, Result]:
        """A task that died is run again (RETRIES times, each logged); a batch that still
        fails is checked one input per task; a lone input that still fails is an error."""
        what = _names(inputs, batch)
        died = not isinstance(exc, self.ray.exceptions.RayTaskError)  # not kubevet raising
        if died and attempt < RETRIES:
            note = f"retrying ({attempt + 1} of {RETRIES})"
            _log(progress, f"a Ray worker died checking {what} ({_reason(exc)}); {note}")
            submit(batch, attempt + 1)
        elif len(batch) > 1:
            _log(progress, f"the Ray task checking {what} failed; checking them one by one")
            for k in batch:
                submit([k], 0)
        else:
            return {batch[0]: _failed(inputs[batch[0]], exc)}
        return {}

    def _same_kubevet(self) -> None:
        """Workers that cannot import kubevet, or run another version, would give another
        report: refuse before any work."""
        try:
            theirs = self.ray.get(self.ray.remote(max_retries=RETRIES)(version).remote())
        except self.ray.exceptions.RayError as exc:
            raise EngineError(f"Ray workers cannot run kubevet: {_reason(exc)}") from None
        if theirs != __version__:
            raise EngineError(f"Ray workers run kubevet {theirs}, this is {__version__}")


def version() -> str:
    return __version__


def check_batch(
    cwd: str, batch: list[tuple[int, Input]], settings: RunSettings
) -> list[tuple[str, float]]:
    """A Ray task: the shard records of a few inputs (by global index), each with the
    seconds it took (for -v: a record leaves the time out)."""
    from kubevet import shard
    from kubevet.runner import run_inputs

    with contextlib.suppress(OSError):  # a node without the directory: inputs not found
        os.chdir(cwd)  # relative paths mean what they meant to the driver
    _fault([os.path.basename(i.label) for _, i in batch])
    results = run_inputs([item for _, item in batch], settings)
    return [(shard.record(k, r), r[0].seconds) for (k, _), r in zip(batch, results, strict=True)]


def _fault(names: list[str]) -> None:
    """Test hooks, from KUBEVET_RAY_FAULT (comma-separated): `kill:NAME` kills the worker
    whenever its batch holds input NAME; `kill-once:NAME:FILE` only the first time (FILE,
    created then, says it happened: a retry then goes through)."""
    for hook in filter(None, os.environ.get("KUBEVET_RAY_FAULT", "").split(",")):
        kind, _, rest = hook.partition(":")
        name, _, marker = rest.partition(":")
        if name not in names or kind not in ("kill", "kill-once"):
            continue
        if kind == "kill-once":
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
        os.kill(os.getpid(), signal.SIGKILL)


def _read(lines: list[tuple[str, float]]) -> Iterator[tuple[int, Result]]:
    from kubevet import shard

    for line, seconds in lines:
        item = json.loads(line)
        result = next(shard.results_of([item]))
        result[0].seconds = seconds
        yield item["index"], result


def _names(inputs: list[Input], batch: list[int]) -> str:
    first = inputs[batch[0]].label
    return first if len(batch) == 1 else f"{first} and {len(batch) - 1} more inputs"


def _log(progress: Progress | None, text: str) -> None:
    if progress is not None:
        progress.note(f"kubevet: warning: {text}")
    else:
        print(f"kubevet: warning: {text}", file=sys.stderr, flush=True)


def _failed(item: Input, exc: Exception) -> Result:
    from kubevet.findings import InputError
    from kubevet.result import GroupSummary

    message = (
        f"the Ray task checking this input failed ({_reason(exc)}); a task whose worker "
        f"died was run {RETRIES} more times; the other inputs were checked"
    )
    return GroupSummary(item.label, item.kind, 0), [], [InputError(item.label, message)], []


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[-1].strip() if lines else type(exc).__name__
