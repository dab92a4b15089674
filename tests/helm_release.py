"""Helm v3 releases built for tests exactly as Helm stores them (pkg/storage/driver:
secrets.go newSecretsObject, util.go encodeRelease; pkg/chart/loader for the chart): the
release JSON, gzipped, base64-encoded by Helm, in a Secret whose data base64-encodes that
string once more, labelled name/owner/status/version."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import yaml


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def helm_secret(release: dict) -> dict:
    """Helm's storage Secret for `release`, as the API (or `kubectl get -o yaml`) shows it."""
    stored = b64(gzip.compress(json.dumps(release).encode()))
    name = f"sh.helm.release.v1.{release['name']}.v{release['version']}"
    status = release["info"]["status"]
    labels = {"name": release["name"], "owner": "helm", "status": status}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {
            "name": name,
            "namespace": release["namespace"],
            "labels": {**labels, "version": str(release["version"])},
        },
        "data": {"release": b64(stored.encode())},
    }


def chart_release(
    chart_dir: Path,
    name: str,
    namespace: str,
    config: dict,
    manifest: str = "",
    revision: int = 1,
    status: str = "deployed",
) -> dict:
    """The release JSON of `chart_dir` installed with the user values `config`: Helm's
    loader keeps templates/ as `templates`, values.yaml parsed as `values`, every other
    file but Chart.yaml and values.schema.json as `files`."""
    templates, files = [], []
    for path in sorted(p for p in chart_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(chart_dir).as_posix()
        if rel in ("Chart.yaml", "values.yaml", "values.schema.json"):
            continue
        entry = {"name": rel, "data": b64(path.read_bytes())}
        (templates if rel.startswith("templates/") else files).append(entry)
    values_file = chart_dir / "values.yaml"
    return {
        "name": name,
        "namespace": namespace,
        "version": revision,
        "info": {"status": status, "description": "Install complete"},
        "chart": {
            "metadata": yaml.safe_load((chart_dir / "Chart.yaml").read_text()),
            "lock": None,
            "templates": templates,
            "values": yaml.safe_load(values_file.read_text()) if values_file.exists() else {},
            "schema": None,
            "files": files,
        },
        "config": config,
        "manifest": manifest,
    }
