"""`fix --resolve-digests` against a registry started by the test on 127.0.0.1: the OCI
distribution HEAD manifest endpoint behind an anonymous Bearer token, as Docker Hub and
GHCR serve it."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kubevet.cli import main

MANIFEST = json.dumps(
    {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
TOKEN = "pull-token-for-team-web"


class Registry(BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 (shared by the test on purpose)

    def do_HEAD(self) -> None:
        Registry.requests.append(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            realm = f"http://127.0.0.1:{self.server.server_port}/token"
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Bearer realm="{realm}",service="test"')
            self.end_headers()
            return
        if self.path != "/v2/team/web/manifests/1.0":
            self.send_response(404)
            self.end_headers()
            return
        assert "application/vnd.oci.image.index.v1+json" in self.headers.get("Accept", "")
        self.send_response(200)
        self.send_header("Docker-Content-Digest", DIGEST)
        self.send_header("Content-Type", "application/vnd.oci.image.index.v1+json")
        self.send_header("Content-Length", str(len(MANIFEST)))
        self.end_headers()

    def do_GET(self) -> None:
        Registry.requests.append(self.path)
        assert self.path.startswith("/token?") and "scope=repository" in self.path
        body = json.dumps({"token": TOKEN}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def registry():
    Registry.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _pod(tmp_path, *images: str):
    containers = "".join(
        f"    - name: c{i}\n      image: {image}\n" for i, image in enumerate(images)
    )
    path = tmp_path / "pod.yaml"
    path.write_text(
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n{containers}"
    )
    return path


def test_a_tag_is_pinned_to_the_digest_its_registry_gives(registry, tmp_path):
    path = _pod(tmp_path, f"{registry}/team/web:1.0")
    assert main(["fix", str(path), "--select", "KV502", "--resolve-digests"]) == 0
    assert f"image: {registry}/team/web:1.0@{DIGEST}\n" in path.read_text()
    assert any(r.startswith("/token?") for r in Registry.requests)  # the Bearer flow ran


def test_an_unknown_tag_is_an_error_naming_it_and_the_rest_is_pinned(registry, tmp_path, capsys):
    path = _pod(tmp_path, f"{registry}/team/web:1.0", f"{registry}/team/gone:2.0")
    code = main(["fix", str(path), "--select", "KV502", "--resolve-digests"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{registry}/team/gone:2.0: digest not resolved: the registry answered 404" in err
    text = path.read_text()
    assert f"{registry}/team/web:1.0@{DIGEST}" in text
    assert f"image: {registry}/team/gone:2.0\n" in text


def test_nothing_is_asked_of_a_registry_without_the_flag(registry, tmp_path):
    path = _pod(tmp_path, f"{registry}/team/web:1.0")
    main(["fix", str(path), "--select", "KV502"])
    assert Registry.requests == []
    assert "@sha256:" not in path.read_text()


def test_the_lock_file_wins_over_the_registry(registry, tmp_path):
    locked = "sha256:" + "a" * 64
    lock = tmp_path / "images.lock"
    lock.write_text(json.dumps({f"{registry}/team/web:1.0": locked}))
    path = _pod(tmp_path, f"{registry}/team/web:1.0")
    main(["fix", str(path), "--select", "KV502", "--resolve-digests", "--image-lock", str(lock)])
    assert f"@{locked}" in path.read_text()
    assert Registry.requests == []
