"""Temporary chart copies (a chart rendered without its remote schemas, a trace's marker
copy): named with the id of the process that made them, removed when that process ends
however a run was stopped, and removed by a later run when a killed process left them.

A trace copy hard-links the chart's templates: a copy left behind would keep a second
link to each, and `kubevet fix` refuses to replace a file with other links.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import stat
import tempfile

PREFIX = "kubevet-chart-"
# `kubevet-chart-PID-RANDOM` (mkdtemp's 8 random characters); before: `kubevet-chart-RANDOM`
_NAME = re.compile(r"^" + re.escape(PREFIX) + r"(?:(?P<pid>\d+)-)?[a-z0-9_]{8}$")
LIVE_FOR = 600.0  # seconds a copy may be in use by a process that looks gone (pid namespaces)
_SWEPT: set[str] = set()


def chart_workdir() -> str:
    """A new temporary directory for a chart copy (the caller removes it when done)."""
    from multiprocessing.util import Finalize

    sweep()
    workdir = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
    # At exit of this process, a normal one or a render worker whose loop ended, if the
    # run was stopped before it removed the copy (KeyboardInterrupt, SIGTERM).
    Finalize(None, shutil.rmtree, args=(workdir,), kwargs={"ignore_errors": True}, exitpriority=1)
    return workdir


def sweep(directory: str | None = None, now: float | None = None) -> list[str]:
    """Remove chart copies that processes killed outright (SIGKILL, a crash) left in
    `directory` (the temp dir): this user's directories of kubevet's naming whose process
    is gone. Once per directory and process; returns the names removed."""
    from kubevet.safewrite import remove_leftovers

    directory = directory or tempfile.gettempdir()
    if now is None and directory in _SWEPT:
        return []
    _SWEPT.add(directory)
    return remove_leftovers(directory, _NAME, _own_dir, shutil.rmtree, LIVE_FOR, now)


def remove_made_by(pid: int, directory: str | None = None) -> list[str]:
    """Remove the chart copies of process `pid`, which the caller knows is gone (a render
    worker it killed: its own removal at exit never ran), whatever their age; the names
    removed. The sweep's walk, for that pid's names only."""
    from kubevet.safewrite import remove_leftovers

    directory = directory or tempfile.gettempdir()
    own = re.compile(r"^" + re.escape(PREFIX) + rf"(?P<pid>{pid})-[a-z0-9_]{{8}}$")
    return remove_leftovers(directory, own, _own_dir, shutil.rmtree, -math.inf)


def _own_dir(info: os.stat_result) -> bool:
    uid = os.getuid() if hasattr(os, "getuid") else info.st_uid  # Windows: no owners here
    return stat.S_ISDIR(info.st_mode) and info.st_uid == uid
