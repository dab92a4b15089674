"""Image references by the OCI distribution grammar, and image lock files."""

from __future__ import annotations

import json

import pytest

from kubevet.images import ImageRefError, parse_image, registry_matches
from kubevet.supplychain.lock import LockError, load_lock, lookup

SHA = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", None),
        ("docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("localhost:5000/x", "localhost:5000", "x", None, None),
        ("myreg.example.com:8443/team/app", "myreg.example.com:8443", "team/app", None, None),
        ("myreg:5000/app:v1", "myreg:5000", "app", "v1", None),
        (f"nginx@{SHA}", "docker.io", "library/nginx", None, SHA),
        (f"ghcr.io/o/a:1.0@{SHA}", "ghcr.io", "o/a", "1.0", SHA),
        ("registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", None),
        ("[::1]:5000/app:dev", "[::1]:5000", "app", "dev", None),
        ("quay.io/a/b/c__d-e.f:V_1.2-x", "quay.io", "a/b/c__d-e.f", "V_1.2-x", None),
    ],
)
def test_parse_valid(text, registry, repository, tag, digest):
    ref = parse_image(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


def test_normalisation_and_latest():
    ref = parse_image("nginx")
    assert ref.normalized == "docker.io/library/nginx:latest"
    assert ref.mutable_latest and not ref.pinned and not ref.explicit_registry
    assert not parse_image(f"nginx@{SHA}").mutable_latest  # a digest is never mutable
    assert parse_image(f"nginx:latest@{SHA}").pinned
    assert parse_image("nginx:1").tag_key == parse_image("docker.io/library/nginx:1").tag_key


def test_with_digest_keeps_spelling():
    assert parse_image("nginx:1.27").with_digest(SHA) == f"nginx:1.27@{SHA}"
    other = "sha256:" + "cd" * 32
    assert parse_image(f"app:1@{SHA}").with_digest(other) == f"app:1@{other}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("Nginx:1.27", "lowercase"),
        ("docker.io/Library/nginx", "lowercase"),
        ("nginx:1.27 ", "whitespace"),
        ("nginx:", "invalid tag"),
        ("nginx:-bad", "invalid tag"),
        ("nginx@sha256:abc", "invalid digest"),
        ("nginx@sha256:" + "AB" * 32, "lowercase hex"),
        ("@" + SHA, "without a repository"),
        ("a" * 64, "hex image ID"),
        ("my_reg.example.com:5000/app", "registry host"),
        ("ghcr.io/o//a", "component"),
        ("ghcr.io/o/a-", "component"),
        ("ghcr.io/" + "a" * 260, "longer than"),
    ],
)
def test_invalid_references_say_why(text, reason):
    with pytest.raises(ImageRefError, match=reason):
        parse_image(text)


def test_registry_allowlist_patterns():
    ref = parse_image("ghcr.io/my-org/app:1")
    assert registry_matches(ref, "ghcr.io")
    assert registry_matches(ref, "ghcr.io/my-org")
    assert not registry_matches(ref, "ghcr.io/my-or")
    assert registry_matches(parse_image("a.corp.example.com/x"), "*.example.com")
    assert registry_matches(parse_image("nginx"), "index.docker.io")


def test_lock_formats(tmp_path):
    plain = tmp_path / "lock.yaml"
    plain.write_text(f"nginx:1.27: {SHA}\nghcr.io/o/a:v2: ghcr.io/o/a:v2@{SHA}\n")
    lock = load_lock(str(plain))
    assert lookup(lock, "docker.io/library/nginx:1.27") == SHA
    assert lookup(lock, "ghcr.io/o/a:v2") == SHA
    assert lookup(lock, "nginx:1.28") is None

    kbld = tmp_path / "kbld.lock.yml"
    kbld.write_text(
        "apiVersion: kbld.k14s.io/v1alpha1\nkind: Config\noverrides:\n"
        f"  - image: nginx\n    newImage: index.docker.io/library/nginx@{SHA}\n"
    )
    assert lookup(load_lock(str(kbld)), "nginx:latest") == SHA

    buildx = tmp_path / "metadata.json"
    buildx.write_text(
        json.dumps({"app": {"image.name": "ghcr.io/o/a:1,ghcr.io/o/a:latest",
                            "containerimage.digest": SHA}})
    )  # fmt: skip
    lock = load_lock(str(buildx))
    assert lookup(lock, "ghcr.io/o/a") == SHA and lookup(lock, "ghcr.io/o/a:1") == SHA


def test_lock_errors(tmp_path):
    with pytest.raises(LockError, match="cannot read"):
        load_lock(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(LockError, match="mapping"):
        load_lock(str(bad))
