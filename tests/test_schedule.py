"""With several workers, the largest inputs start first (so a big chart does not start last
while the other workers wait), and results still come back in input order."""

from __future__ import annotations

import concurrent.futures
from concurrent.futures import Future
from pathlib import Path
from typing import Any, ClassVar

from kubevet.rules.examples import EXAMPLE_POD as POD
from kubevet.runner import RunSettings, run_inputs
from kubevet.sources import Input, discover, input_bytes


def _inputs(tmp_path: Path) -> list[Input]:
    """Three directories of manifests, the last by far the largest."""
    for name, copies in (("a-small", 1), ("b-medium", 3), ("c-large", 20)):
        folder = tmp_path / name
        folder.mkdir()
        pods = "---\n".join(POD.replace("name: ", f"name: p{i}-", 1) for i in range(copies))
        (folder / "pods.yaml").write_text(pods)
    return discover([str(tmp_path / n) for n in ("a-small", "b-medium", "c-large")])


class RecordingPool:
    """Runs each task at once in this process and records the order it was given in."""

    submitted: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        RecordingPool.submitted = []

    def __enter__(self) -> RecordingPool:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Any, item: Input, settings: RunSettings) -> Future:
        RecordingPool.submitted.append(item.label)
        future: Future = Future()
        future.set_result(fn(item, settings))
        return future


def test_input_bytes_counts_files_and_chart_trees(tmp_path):
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    meta = "apiVersion: v2\nname: c\nversion: 1.0.0\n"
    (chart / "Chart.yaml").write_text(meta)
    (chart / "templates" / "pod.yaml").write_text(POD)
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD)
    assert input_bytes(Input("chart", str(chart))) == len(POD) + len(meta)
    assert input_bytes(Input("manifests", "x", files=[str(manifest)])) == len(POD)
    assert input_bytes(Input("manifests", "x", files=[str(tmp_path / "gone.yaml")])) == 0
    assert input_bytes(Input("stdin", "-")) == 0


def test_the_largest_input_starts_first_and_results_keep_input_order(tmp_path, monkeypatch):
    inputs = _inputs(tmp_path)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", RecordingPool)
    results = run_inputs(inputs, RunSettings(jobs=2))
    labels = [i.label for i in inputs]
    assert RecordingPool.submitted == [labels[2], labels[1], labels[0]]
    assert [summary.label for summary, *_ in results] == labels
    assert [len(findings) for _s, findings, *_ in results] == sorted(
        len(findings) for _s, findings, *_ in results
    ), "each result belongs to its own input (the largest has the most findings)"


def test_one_worker_runs_inputs_in_order_without_a_pool(tmp_path, monkeypatch):
    inputs = _inputs(tmp_path)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", RecordingPool)
    RecordingPool.submitted = []
    results = run_inputs(inputs, RunSettings(jobs=1))
    assert RecordingPool.submitted == []
    assert [summary.label for summary, *_ in results] == [i.label for i in inputs]
