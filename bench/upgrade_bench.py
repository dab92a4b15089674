"""`kubevet upgrade --to 1.29` over the chart corpus, this checkout's code against a
baseline commit's (issue 22: "CPU halved" against the code before its first change),
alternating run by run so that both see the same load. Used by bench/bench.py
(`--only upgrade`); run by hand, never in tests."""

from __future__ import annotations

import compileall
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The parent of 86dfe5d (the validator cache), issue 22's first commit.
BASELINE = "ac24ab2"
TARGET = "1.29"


def row_names(baseline: str) -> tuple[str, str]:
    now = f"kubevet upgrade --to {TARGET}, 60 charts"
    return now, f"{now}, code of {baseline} (before issue 22)"


def upgrade_rows(
    root: Path,
    charts: Path,
    kubevet: list[str],
    runs: int,
    baseline: str,
    measure: Callable[..., dict[str, float]],
    combine: Callable[[list[dict[str, float]]], dict[str, float]],
) -> list[tuple[str, dict[str, float]]]:
    """(row name, measurement) for this code and the baseline's, exported with `git
    archive` into a temporary folder and run from it through PYTHONPATH (the same
    interpreter and installed packages; its modules byte-compiled first, as this
    checkout's are)."""
    base = tempfile.mkdtemp(prefix="kubevet-bench-base-")
    try:
        archive = subprocess.run(
            ["git", "archive", baseline], cwd=root, capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # 3.11.4 on
            tar.extractall(base, **safe)  # type: ignore[arg-type]
        compileall.compile_dir(os.path.join(base, "src"), quiet=1)
        cmd = [*kubevet, "upgrade", "--to", TARGET, "--format", "json", "-o", os.devnull]
        cmd.append(str(charts))
        env = {**os.environ, "PYTHONPATH": os.path.join(base, "src")}
        now: list[dict[str, float]] = []
        before: list[dict[str, float]] = []
        for _ in range(runs):
            # exit 2 expected: rancher's kubeVersion excludes 1.29 (an input error since)
            now.append(measure(cmd, 1, ok=(0, 1, 2)))
            before.append(measure(cmd, 1, env=env, ok=(0, 1, 2)))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    now_name, before_name = row_names(baseline)
    return [(now_name, combine(now)), (before_name, combine(before))]


def upgrade_md(named: dict[str, Any], baseline: str) -> list[str]:
    now_name, before_name = row_names(baseline)
    now, before = named[now_name], named[before_name]
    return [
        f"**`upgrade --to {TARGET}` over the corpus, the code of {baseline} / this code: "
        f"{before['cpu'] / now['cpu']:.1f}x CPU time, {before['median'] / now['median']:.1f}x "
        "wall time** (medians, whole process)."
    ]
