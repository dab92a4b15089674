"""The krew release: manifest fields krew validates, the archive it names, and the launcher
installed the way krew installs it (files copied out of the archive, bin linked on PATH)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

SCRIPT = ROOT / "scripts" / "krew_package.py"
URL = "https://example.invalid/kubevet/releases/download/v0"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _build(out: Path) -> dict:
    cmd = [sys.executable, str(SCRIPT), "--url", URL, "--homepage", URL, "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    return yaml.safe_load((out / "kubevet.yaml").read_text())


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("krew")
    return out, _build(out)


def test_manifest_has_what_krew_validates(release):
    out, plugin = release
    assert plugin["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert plugin["kind"] == "Plugin"
    assert plugin["metadata"]["name"] == "kubevet"  # krew: the file is named after the plugin
    spec = plugin["spec"]
    assert spec["version"] == f"v{VERSION}"  # krew wants a semantic version with a leading v
    assert re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", spec["version"])
    assert spec["shortDescription"] and len(spec["shortDescription"]) <= 50
    assert spec["homepage"].startswith("https://")
    sha = hashlib.sha256((out / "kubectl-kubevet.tar.gz").read_bytes()).hexdigest()
    seen = set()
    for platform in spec["platforms"]:
        labels = platform["selector"]["matchLabels"]
        seen.add((labels["os"], labels["arch"]))
        assert platform["uri"] == f"{URL}/kubectl-kubevet.tar.gz"
        assert platform["sha256"] == sha  # krew refuses an archive whose digest differs
        assert platform["bin"] == "kubectl-kubevet" and platform["files"]
    assert {("linux", "amd64"), ("darwin", "arm64")} <= seen and len(seen) == len(spec["platforms"])


def test_archive_is_reproducible(release, tmp_path):
    out, _ = release
    _build(tmp_path)
    first = (out / "kubectl-kubevet.tar.gz").read_bytes()
    assert (tmp_path / "kubectl-kubevet.tar.gz").read_bytes() == first


def _krew_install(out: Path, plugin: dict, root: Path) -> Path:
    """Do what `kubectl krew install --manifest --archive` does on Linux/amd64."""
    platform = next(
        p for p in plugin["spec"]["platforms"] if p["selector"]["matchLabels"]["os"] == "linux"
    )
    store = root / "store" / "kubevet" / plugin["spec"]["version"]
    unpacked = root / "unpacked"
    with tarfile.open(out / "kubectl-kubevet.tar.gz") as tar:
        # the "data" filter where tarfile has it (3.11.4 on; Debian 12 ships 3.11.2)
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(unpacked, **safe)  # type: ignore[arg-type]
    for op in platform["files"]:
        dest = store / op["to"]
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(unpacked / op["from"], dest / op["from"])
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl-kubevet").symlink_to(store / platform["bin"])
    return bin_dir


def test_installed_launcher_runs_kubevet(release, tmp_path):
    out, plugin = release
    bin_dir = _krew_install(out, plugin, tmp_path)
    launcher = bin_dir / "kubectl-kubevet"
    assert os.access(launcher, os.X_OK)
    assert (launcher.resolve().parent / "LICENSE").is_file()
    env = {
        **os.environ,
        "KUBEVET_PYTHON": sys.executable,  # a Python that imports this checkout's kubevet
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PATH": os.pathsep.join([str(bin_dir), os.environ["PATH"]]),
    }
    # kubectl finds kubectl-* executables on PATH; without kubectl run the launcher directly.
    cmd = ["kubectl", "kubevet"] if shutil.which("kubectl") else [str(launcher)]
    done = subprocess.run([*cmd, "rule", "KV105"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "privileged-container" in done.stdout
    assert not (tmp_path / "data").exists()  # nothing installed: the version was importable


def _fake_python(path: Path, log: Path) -> None:
    """A python3 stand-in: Python 3.11+, kubevet not importable, records venv/pip calls."""
    path.write_text(
        "#!/bin/sh\n"
        f'echo "$0 $*" >> "{log}"\n'
        'case "$*" in\n'
        '  *"import sys; sys.exit(sys.version_info"*) exit 0 ;;\n'
        '  *"import sys, kubevet"*|*"import kubevet"*) exit 1 ;;\n'
        '  "-m venv "*) d="$3"; mkdir -p "$d/bin"; cp "$0" "$d/bin/python"; exit 0 ;;\n'
        '  "-m pip install"*) exit 0 ;;\n'
        '  "-m kubevet "*) echo "kubevet ran: $*"; exit 0 ;;\n'
        "esac\n"
        "exit 3\n"
    )
    path.chmod(0o755)


def test_launcher_installs_its_own_version_when_not_importable(release, tmp_path):
    out, plugin = release
    bin_dir = _krew_install(out, plugin, tmp_path)
    log = tmp_path / "calls.log"
    fake = tmp_path / "python3"
    _fake_python(fake, log)
    env = {**os.environ, "KUBEVET_PYTHON": str(fake), "XDG_DATA_HOME": str(tmp_path / "data")}
    launcher = str(bin_dir / "kubectl-kubevet")
    first = subprocess.run([launcher, "check", "x"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "kubevet ran: -m kubevet check x" in first.stdout
    assert "first run, installing kubevet" in first.stderr
    calls = log.read_text()
    venv = tmp_path / "data" / "kubevet" / f"krew-{VERSION}"
    assert f"-m venv {venv}" in calls
    assert f"-m pip install --disable-pip-version-check -q kubevet=={VERSION}" in calls


def test_launcher_explains_a_missing_python(release, tmp_path):
    out, plugin = release
    bin_dir = _krew_install(out, plugin, tmp_path)
    env = {**os.environ, "KUBEVET_PYTHON": str(tmp_path / "no-such-python")}
    done = subprocess.run(
        [str(bin_dir / "kubectl-kubevet"), "check", "."], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "needs Python 3.11 or newer" in done.stderr
