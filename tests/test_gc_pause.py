"""The cycle collector is paused while an input is read and checked, and given back as the
caller had it: an embedding program that switched it off finds it off, one that had it on
finds it on, also when the check fails."""

from __future__ import annotations

import contextlib
import gc

import pytest

from kubevet import runner
from kubevet.model import K8sObject
from kubevet.rules.examples import EXAMPLE_POD as POD
from kubevet.runner import RunSettings, gc_paused, run_check


@pytest.mark.parametrize("enabled", [True, False])
def test_a_check_gives_the_collector_back_as_it_was(tmp_path, enabled):
    (tmp_path / "pod.yaml").write_text(POD)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        report = run_check([str(tmp_path)], RunSettings())
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert report.findings, "the pod is checked while the collector is paused"


def test_the_collector_is_off_inside_and_back_on_after_an_error():
    was = gc.isenabled()
    gc.enable()
    try:
        with pytest.raises(RuntimeError), gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("a failing input")
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""


def _alive() -> int:
    return sum(isinstance(o, K8sObject) for o in gc.get_objects())


def test_an_inputs_objects_are_freed_before_the_collector_is_back(tmp_path, monkeypatch):
    # Re-enabled with the input's documents and objects alive, the collector's first run
    # walked all of them; nothing may keep them (the network rules kept the last input).
    (tmp_path / "pod.yaml").write_text(POD + "---\n" + POLICY)
    seen: list[int] = []

    @contextlib.contextmanager
    def watched():
        with gc_paused():
            yield
            seen.append(_alive())

    monkeypatch.setattr(runner, "gc_paused", watched)
    was = gc.isenabled()
    gc.disable()  # nothing is freed but by reference counting
    try:
        report = run_check([str(tmp_path)], RunSettings())
        after = _alive()
    finally:
        (gc.enable if was else gc.disable)()
    assert {f.code for f in report.findings} >= {"KV101"}, "the pod was checked"
    assert seen == [0]
    assert after == 0


@pytest.mark.parametrize("enabled", [True, False])
def test_the_check_command_runs_with_the_collector_off_and_gives_it_back(
    tmp_path, monkeypatch, enabled
):
    # A check ends its process: what it keeps to the end (findings, the report) is never
    # walked by the collector; an embedding program's main() call finds it as it was.
    from kubevet.cli import main

    (tmp_path / "pod.yaml").write_text(POD)
    seen: list[bool] = []
    real = runner.run_check

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_check", watched)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        code = main(["check", str(tmp_path), "--format", "json", "-o", str(tmp_path / "r")])
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert code == 1, "the pod has findings"
    assert seen == [False]
