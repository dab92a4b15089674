"""Build the krew release of `kubectl kubevet`: one archive and its plugin manifest.

    python scripts/krew_package.py --out dist \
        --url https://github.com/OWNER/kubevet/releases/download/v0.1.0 \
        --homepage https://github.com/OWNER/kubevet

writes dist/kubectl-kubevet.tar.gz (the launcher scripts/kubectl-kubevet.sh with this version
stamped in, and LICENSE) and dist/kubevet.yaml, the manifest for a krew index (krew requires
the manifest's file name to be the plugin name). The launcher is a POSIX shell script, so one
archive serves every Linux and macOS platform; each platform entry carries the archive's
sha256, which krew verifies. The archive is reproducible (fixed times, owners and order), so
the sha256 only changes with the content.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import tarfile
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = "kubectl-kubevet.tar.gz"
BIN = "kubectl-kubevet"
# krew selects a platform entry by the os/arch labels of the machine (Go's GOOS/GOARCH).
PLATFORMS = [("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")]


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _member(name: str, data: bytes, mode: int) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info, io.BytesIO(data)


def build_archive(version: str) -> bytes:
    launcher = (ROOT / "scripts" / "kubectl-kubevet.sh").read_text()
    members = [
        _member(BIN, launcher.replace("@VERSION@", version).encode(), 0o755),
        _member("LICENSE", (ROOT / "LICENSE").read_bytes(), 0o644),
    ]
    raw = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for info, data in members:
            tar.addfile(info, data)
    return raw.getvalue()


def manifest(version: str, url: str, homepage: str, sha256: str) -> dict:
    platform = {"uri": f"{url.rstrip('/')}/{ARCHIVE}", "sha256": sha256, "bin": BIN}
    files = [{"from": BIN, "to": "."}, {"from": "LICENSE", "to": "."}]
    return {
        "apiVersion": "krew.googlecontainertools.github.com/v1alpha2",
        "kind": "Plugin",
        "metadata": {"name": "kubevet"},
        "spec": {
            "version": f"v{version}",
            "homepage": homepage,
            "shortDescription": "Vet workloads, charts and upgrades",
            "description": (
                "Checks Kubernetes manifests, Helm charts, Kustomize overlays and live\n"
                "clusters for security, reliability, upgrade and reachability problems,\n"
                "and traces chart findings to the values key to change.\n"
            ),
            "caveats": (
                "kubevet runs on Python 3.11 or newer (python3, or KUBEVET_PYTHON).\n"
                "On first use it installs its own copy with pip unless that version\n"
                "is already importable.\n"
            ),
            "platforms": [
                {"selector": {"matchLabels": {"os": os_, "arch": arch}}, **platform, "files": files}
                for os_, arch in PLATFORMS
            ],
        },
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, the way krew index manifests are written."""


_Dumper.add_representer(
    str,
    lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="release URL the archive is served from")
    parser.add_argument("--homepage", required=True, help="the project's page")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--version", default=project_version())
    args = parser.parse_args(argv)
    archive = build_archive(args.version)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / ARCHIVE).write_bytes(archive)
    sha = hashlib.sha256(archive).hexdigest()
    text = yaml.dump(
        manifest(args.version, args.url, args.homepage, sha), sort_keys=False, Dumper=_Dumper
    )
    (args.out / "kubevet.yaml").write_text(text)
    print(f"{args.out / ARCHIVE} sha256 {sha}\n{args.out / 'kubevet.yaml'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
