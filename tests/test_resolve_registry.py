"""`fix --resolve-digests` against a real registry: Debian's `docker-registry` (the CNCF
distribution registry) started by the test on 127.0.0.1, a test image pushed to it over the
OCI distribution API, and the pin compared with the digest the registry gave at push."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from kubevet.cli import main

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(url: str, method: str, body: bytes = b"", headers: dict | None = None):
    req = urllib.request.Request(url, data=body or None, method=method, headers=headers or {})
    with urllib.request.urlopen(
        req, timeout=10
    ) as resp:  # the registry the test started on 127.0.0.1
        return resp.status, resp.headers


@pytest.fixture
def distribution(tmp_path):
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("Debian's docker-registry is not installed (.ci/run installs it)")
    port = _free_port()
    config = tmp_path / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp_path / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # until /v2/ answers
            try:
                if _request(f"{base}/v2/", "GET")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"docker-registry did not start: {proc.stderr.read(2000)!r}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _blob(base: str, repo: str, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _status, headers = _request(f"{base}/v2/{repo}/blobs/uploads/", "POST")
    location = headers["Location"]
    location = location if location.startswith("http") else base + location
    sep = "&" if "?" in location else "?"
    status, _ = _request(
        f"{location}{sep}digest={digest}", "PUT", data, {"Content-Type": "application/octet-stream"}
    )
    assert status == 201
    return {"digest": digest, "size": len(data)}


def _push(base: str, repo: str, tag: str, layer: bytes = b"kubevet test layer\n") -> str:
    """Push a one-layer test image; the digest the registry says it stored."""
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            **_blob(base, repo, config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                **_blob(base, repo, layer),
            }
        ],
    }
    body = json.dumps(manifest).encode()
    status, headers = _request(
        f"{base}/v2/{repo}/manifests/{tag}", "PUT", body, {"Content-Type": OCI_MANIFEST}
    )
    assert status == 201
    assert headers["Docker-Content-Digest"] == "sha256:" + hashlib.sha256(body).hexdigest()
    return headers["Docker-Content-Digest"]


def test_a_tag_is_pinned_to_the_digest_a_real_registry_holds(distribution, tmp_path):
    digest = _push(distribution, "team/app", "1.4")
    host = distribution.removeprefix("http://")
    path = tmp_path / "pod.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n"
        f"    - name: app\n      image: {host}/team/app:1.4\n"
    )
    assert main(["fix", str(path), "--select", "KV502", "--resolve-digests"]) == 0
    assert f"image: {host}/team/app:1.4@{digest}\n" in path.read_text()
    # the tag moved to another image: a new resolution pins to the new digest
    moved = _push(distribution, "team/app", "1.4", layer=b"another layer\n")
    assert moved != digest
    other = tmp_path / "other.yaml"
    other.write_text(path.read_text().replace(f"@{digest}", ""))
    assert main(["fix", str(other), "--select", "KV502", "--resolve-digests"]) == 0
    assert f"image: {host}/team/app:1.4@{moved}\n" in other.read_text()
