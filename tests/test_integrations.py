"""Helm and kubectl plugins, the GitHub Action and the container image, run as users run them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from kubevet.cli import main

HELM_SCRIPT = ROOT / "scripts" / "helm-kubevet.sh"
ACTION_SCRIPT = ROOT / "scripts" / "github-action.sh"


def _kubevet_on_path(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has a `kubevet` running this checkout's sources."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "kubevet"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kubevet "$@"\n')
    shim.chmod(0o755)
    path = os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])
    pythonpath = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PATH": path, "PYTHONPATH": pythonpath}


def test_helm_plugin_manifest_runs_its_script():
    plugin = yaml.safe_load((ROOT / "plugin.yaml").read_text())
    assert plugin["name"] == "kubevet"
    assert plugin["command"] == "$HELM_PLUGIN_DIR/scripts/helm-kubevet.sh"
    assert os.access(HELM_SCRIPT, os.X_OK)


def test_helm_plugin_checks_a_chart_in_helms_namespace(tmp_path):
    env = {**_kubevet_on_path(tmp_path), "HELM_PLUGIN_DIR": str(ROOT), "HELM_NAMESPACE": "prod"}
    out = subprocess.run(
        [str(HELM_SCRIPT), "examples/chart", "--select", "KV101", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1, out.stderr  # the example chart runs as root
    report = json.loads(out.stdout)
    assert {f["code"] for f in report["findings"]} == {"KV101"}
    assert {f["object"]["namespace"] for f in report["findings"]} == {"prod"}
    rules = subprocess.run([str(HELM_SCRIPT), "rule", "KV101"], env=env, capture_output=True)
    assert rules.returncode == 0 and b"run-as-non-root" in rules.stdout


def test_kubectl_plugin_is_the_kubevet_cli(tmp_path):
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["kubectl-kubevet"] == scripts["kubevet"] == "kubevet.cli:console"
    installed = shutil.which("kubectl-kubevet", path=os.path.dirname(sys.executable))
    if installed is None:
        pytest.skip("kubectl-kubevet not installed in this environment (pip install -e .)")
    if shutil.which("kubectl"):  # kubectl finds plugins named kubectl-* on PATH
        env = {
            **os.environ,
            "PATH": os.pathsep.join([os.path.dirname(installed), os.environ["PATH"]]),
        }
        cmd = ["kubectl", "kubevet", "rule", "KV105"]
    else:
        env, cmd = dict(os.environ), [installed, "rule", "KV105"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "privileged-container" in out.stdout


def test_dockerfile_passes_kubevets_own_rules(capsys):
    text = (ROOT / "Dockerfile").read_text()
    assert "kubevet.io/ignore" not in text and "kubevet-ignore" not in text  # no suppression
    froms = [x for x in text.splitlines() if x.startswith("FROM ")]
    assert froms and all("@sha256:" in x for x in froms)
    assert main(["check", str(ROOT / "Dockerfile"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["objects"] == 1 and report["findings"] == []


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _docker_works(), reason="no container engine (docker info fails)")
def test_image_builds_and_runs_as_non_root():
    tag = "kubevet-test:ci"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1800)
    user = subprocess.run(
        ["docker", "image", "inspect", tag, "--format", "{{.Config.User}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert user.stdout.strip() not in ("", "0", "root")
    run = subprocess.run(
        ["docker", "run", "--rm", "-v", f"{ROOT / 'examples'}:/work:ro", tag, "check", "/work"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "findings" in run.stdout


def test_action_is_a_composite_whose_steps_use_every_input():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert all(s.get("shell") == "bash" or s["uses"].startswith("actions/cache/") for s in steps)
    text = json.dumps(steps)
    for name in action["inputs"]:
        assert f"inputs.{name}" in text, f"input {name} is never used"
    assert {o["value"] for o in action["outputs"].values()} == {
        "${{ steps.check.outputs.sarif-file }}",
        "${{ steps.check.outputs.exit-code }}",
    }
    assert os.access(ACTION_SCRIPT, os.X_OK)


def test_action_keeps_chart_traces_between_runs_unless_told_not_to():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    restore, *_, save = (s for s in action["runs"]["steps"] if "uses" in s)
    names = [s.get("id") or s.get("uses") for s in action["runs"]["steps"]]
    assert names.index(restore["uses"]) < names.index("check") < names.index(save["uses"])
    assert restore["with"]["path"] == save["with"]["path"] == "~/.cache/kubevet"  # the default
    assert restore["with"]["key"] == save["with"]["key"]  # a new key per run, found by prefix
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert "inputs.cache == 'true'" in restore["if"] and "inputs.cache == 'true'" in save["if"]


def test_action_check_step_annotates_and_writes_sarif(tmp_path):
    outputs = tmp_path / "github_output"
    env = {
        **_kubevet_on_path(tmp_path),
        "INPUT_PATHS": "examples/manifests",
        "INPUT_SELECT": "KV101,KV105",
        "INPUT_FAIL_ON": "high",
        "INPUT_SARIF_FILE": str(tmp_path / "kubevet.sarif"),
        "GITHUB_OUTPUT": str(outputs),
    }
    run = subprocess.run(
        [str(ACTION_SCRIPT), "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 1, run.stderr  # KV105 is critical, above --fail-on high
    annotations = [x for x in run.stdout.splitlines() if x.startswith("::")]
    assert any(x.startswith("::error file=examples/manifests/deployment.yaml") for x in annotations)
    sarif = json.loads((tmp_path / "kubevet.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"KV101", "KV105"}
    assert outputs.read_text().splitlines() == [
        f"sarif-file={tmp_path / 'kubevet.sarif'}",
        "exit-code=1",
    ]


def test_action_install_step_pins_the_version(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "pip-args"
    fake = bin_dir / "python3"  # records what the step asks pip for, installs nothing
    fake.write_text(f'#!/bin/sh\necho "$@" > "{log}"\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        [str(ACTION_SCRIPT), "install"], env={**env, "KUBEVET_VERSION": "0.3.1"}, check=True
    )
    assert log.read_text().split()[-1] == "kubevet==0.3.1"
    subprocess.run(
        [str(ACTION_SCRIPT), "install"], env={**env, "KUBEVET_SOURCE": str(ROOT)}, check=True
    )
    assert log.read_text().split()[-1] == str(ROOT)
