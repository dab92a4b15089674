"""The pre-commit hooks, run by pre-commit itself (`try-repo`) in a throwaway git repository."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, ROOT

from kubevet.integrations.precommit import chart_root, resolve, split_args

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def test_hooks_file_declares_check_and_fix():
    hooks = {h["id"]: h for h in yaml.safe_load(HOOKS.read_text())}
    assert set(hooks) == {"kubevet", "kubevet-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["entry"].startswith("kubevet-pre-commit ")


def test_changed_template_stands_for_its_chart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    chart = tmp_path / "charts" / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (tmp_path / "deploy.yaml").write_text("")
    files = ["charts/web/templates/a.yaml", "charts/web/values.yaml", "deploy.yaml"]
    assert chart_root(files[0]) == str(chart)
    assert resolve(files) == ["charts/web", "deploy.yaml"]
    assert chart_root("deploy.yaml") is None


def test_flags_are_split_from_file_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text("")
    assert split_args(["--fail-on", "high", "a.yaml"]) == (["--fail-on", "high"], ["a.yaml"])
    assert split_args(["--fail-on", "high"]) == (["--fail-on", "high"], [])


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _try_repo(repo: Path, hook: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home")}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


# pre-commit builds a fresh environment for the hook (pip-installs kubevet and its
# dependencies): minutes of CPU, so it runs in CI (CI is set there) or on request.
SLOW = not (os.environ.get("CI") or os.environ.get("KUBEVET_SLOW_TESTS"))


@pytest.mark.skipif(SLOW, reason="builds a hook environment: set KUBEVET_SLOW_TESTS=1 (CI runs it)")
@pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None, reason="pre-commit absent")
@pytest.mark.skipif(shutil.which("git") is None, reason="git absent")
def test_hooks_fail_on_a_bad_manifest_and_pass_after_the_fix(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    manifest = repo / "web.yaml"
    manifest.write_text((FIXTURES / "integrations" / "privileged.yaml").read_text())
    (repo / ".gitlab-ci.yml").write_text("test:\n  script: [make test]\n")  # not Kubernetes
    (repo / ".kubevet.yaml").write_text("select: [KV105, KV133]\n")
    _git(repo, "add", ".")

    failed = _try_repo(repo, "kubevet")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "KV105" in failed.stdout

    fixed = _try_repo(repo, "kubevet-fix")  # the safe KV133 fix is written
    assert fixed.returncode == 1 and "files were modified" in fixed.stdout
    assert "automountServiceAccountToken: false" in manifest.read_text()
    assert "# the problem the hook must catch" in manifest.read_text()  # comments kept

    manifest.write_text(manifest.read_text().replace("privileged: true", "privileged: false"))
    passed = _try_repo(repo, "kubevet")
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_changed_files_that_are_not_kubernetes_are_skipped(tmp_path, monkeypatch, capsys):
    from kubevet.integrations.precommit import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gitlab-ci.yml").write_text("test:\n  script: [make test]\n")
    (tmp_path / "web.yaml").write_text((FIXTURES / "integrations" / "privileged.yaml").read_text())
    assert main(["check", "--select", "KV105", ".gitlab-ci.yml", "web.yaml"]) == 1
    out = capsys.readouterr()
    assert "KV105" in out.out and "1 non-Kubernetes YAML file skipped" in out.err
    assert main(["check", "--select", "KV105", ".gitlab-ci.yml"]) == 2  # nothing left to check
