"""Work done once: rule selection once per run, supply-chain evidence once per input and
handed to the rules (which open no file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubevet.context import InputGroup, Options
from kubevet.engine import check_group
from kubevet.rules import registry
from kubevet.runner import RunSettings, run_check
from kubevet.sources.evidence import load_evidence
from kubevet.sources.manifests import load_manifest_files
from kubevet.supplychain import lock as lock_module

SHA = "sha256:" + "ab" * 32
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n"
POD += "    - name: web\n      image: nginx:1.27\n"


@pytest.fixture
def manifests(tmp_path: Path) -> list[str]:
    """Three inputs (a directory each is one input; named files would be one)."""
    paths = []
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pod.yaml").write_text(POD.format(name=name))
        paths.append(str(tmp_path / name))
    return paths


def test_rules_are_selected_once_per_run(manifests, monkeypatch):
    calls = []
    real = registry.select_rules

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(registry, "select_rules", counting)
    report = run_check(manifests, RunSettings(select=["KV5"]))
    assert len(calls) == 1
    assert {g.label for g in report.groups} == set(manifests)
    assert {f.code for f in report.findings} >= {"KV502"}  # the selection was used


def test_image_lock_is_read_once_per_input_and_reaches_the_rule(manifests, tmp_path, monkeypatch):
    lock = tmp_path / "images.lock.yaml"
    lock.write_text(f"docker.io/library/nginx:1.27: {SHA}\n")
    reads = []
    real = lock_module.load_lock
    monkeypatch.setattr(lock_module, "load_lock", lambda p: reads.append(p) or real(p))
    settings = RunSettings(select=["KV502"], options=Options(settings={"image_lock": str(lock)}))
    report = run_check(manifests, settings)
    assert len(reads) == len(manifests)
    pins = [f.fix.edits[0].value for f in report.findings if f.code == "KV502"]
    assert pins == [f"nginx:1.27@{SHA}"] * len(manifests)


def test_a_bad_lock_file_is_an_input_error_naming_it(manifests, tmp_path):
    lock = tmp_path / "broken.lock"
    lock.write_text("- not\n- a map\n")
    group = load_manifest_files("a", [f"{manifests[0]}/pod.yaml"])
    evidence = load_evidence(group, {"image_lock": str(lock)})
    assert evidence.image_lock == {}
    assert [e.file for e in group.errors] == [str(lock)]
    assert load_evidence(group, {"image_lock": str(lock)}) is evidence  # loaded once
    assert len(group.errors) == 1


def test_rules_see_the_evidence_they_are_given(manifests):
    """A group prepared with a lock (no file behind it) gets the pin from the lock alone."""
    from kubevet.supplychain.evidence import InputEvidence

    group = load_manifest_files("a", [f"{manifests[0]}/pod.yaml"])
    group.evidence = InputEvidence(image_lock={"docker.io/library/nginx:1.27": SHA})
    rules = registry.select_rules(["KV502"])
    (finding,) = check_group(group, rules, Options(settings={"image_lock": "/nonexistent"}))
    assert finding.fix is not None and finding.fix.edits[0].value == f"nginx:1.27@{SHA}"
    assert group.errors == []  # the file the settings name was not opened


def test_no_evidence_named_loads_nothing():
    group = InputGroup(label="x", source="manifests")
    evidence = load_evidence(group, {})
    assert (evidence.image_lock, evidence.images, group.errors) == ({}, [], [])
