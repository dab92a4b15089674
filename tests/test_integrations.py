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
    assert scripts["kubectl-kubevet"] == scripts["kubevet"] == "kubevet.cli:main"
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
