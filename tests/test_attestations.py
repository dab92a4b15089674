"""Attestations verified offline: DSSE with keys made here, Sigstore bundles, KV510-KV514."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

pytest.importorskip("cryptography")

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from kubevet.api import check_yaml
from kubevet.context import Options
from kubevet.supplychain.dsse import pae

DIGEST = "sha256:" + "4f" * 32
OTHER = "sha256:" + "0a" * 32
BUILDER = "https://ci.example.com/builders/hardened@v1"
PROVENANCE = "https://slsa.dev/provenance/v1"
SPDX = "https://spdx.dev/Document/v2.3"
POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: ghcr.io/example/app:1.0@{DIGEST}
"""


def statement(ptype: str, digest: str = DIGEST, builder: str = BUILDER) -> dict:
    predicate: dict = {"spdxVersion": "SPDX-2.3", "packages": []}
    if ptype == PROVENANCE:
        predicate = {
            "buildDefinition": {
                "buildType": "https://ci.example.com/buildtypes/container@v1",
                "externalParameters": {"repository": "https://git.example.com/app"},
            },
            "runDetails": {"builder": {"id": builder}},
        }
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/example/app", "digest": {"sha256": digest[7:]}}],
        "predicateType": ptype,
        "predicate": predicate,
    }


def sign(st: dict, key) -> dict:
    payload = json.dumps(st).encode()
    ptype = "application/vnd.in-toto+json"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        sig = key.sign(pae(ptype, payload), ec.ECDSA(hashes.SHA256()))
    else:
        sig = key.sign(pae(ptype, payload))
    return {
        "payloadType": ptype,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}],
    }


def write_pub(path: Path, key) -> str:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path.write_bytes(pem)
    return str(path)


@pytest.fixture
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def run(tmp_path: Path, docs: list[dict], pub: str, builders=None, manifest: str = POD) -> dict:
    atts = tmp_path / "attestations"
    atts.mkdir(exist_ok=True)
    lines = "\n".join(json.dumps(d) for d in docs)
    (atts / "app.intoto.jsonl").write_text(lines + "\n")
    settings = {
        "attestations": str(atts),
        "attestation_keys": [pub],
        "trusted_builders": builders if builders is not None else [{"id": BUILDER, "level": 3}],
    }
    found: dict[str, list] = {}
    for f in check_yaml(manifest, select=["KV51"], options=Options(settings=settings)):
        found.setdefault(f.code, []).append(f)
    return found


def test_valid_chain_gives_no_finding(tmp_path, ec_key):
    pub = write_pub(tmp_path / "key.pem", ec_key)
    docs = [sign(statement(PROVENANCE), ec_key), sign(statement(SPDX), ec_key)]
    assert run(tmp_path, docs, pub) == {}


def test_ed25519_and_sigstore_bundle_with_key(tmp_path):
    key = ed25519.Ed25519PrivateKey.generate()
    pub = write_pub(tmp_path / "ed.pem", key)
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "ed"}},
        "dsseEnvelope": sign(statement(PROVENANCE), key),
    }
    assert run(tmp_path, [bundle, sign(statement(SPDX), key)], pub) == {}


def test_wrong_digest(tmp_path, ec_key):
    pub = write_pub(tmp_path / "key.pem", ec_key)
    docs = [sign(statement(PROVENANCE, OTHER), ec_key), sign(statement(SPDX), ec_key)]
    found = run(tmp_path, docs, pub)
    assert set(found) == {"KV512"}
    assert "SLSA Build L0" in found["KV512"][0].message
    assert found["KV512"][0].path_text == "spec.containers[0].image"


def test_bad_signature(tmp_path, ec_key):
    pub = write_pub(tmp_path / "key.pem", ec_key)
    tampered = sign(statement(PROVENANCE), ec_key)
    evil = statement(PROVENANCE)
    evil["predicate"]["buildDefinition"]["externalParameters"]["repository"] = "evil"
    tampered["payload"] = base64.b64encode(json.dumps(evil).encode()).decode()
    found = run(tmp_path, [tampered, sign(statement(SPDX), ec_key)], pub)
    assert set(found) == {"KV511"}
    message = found["KV511"][0].message
    assert "does not verify" in message and "SLSA Build L1" in message


def test_signed_by_another_key(tmp_path, ec_key):
    pub = write_pub(tmp_path / "key.pem", ec.generate_private_key(ec.SECP256R1()))
    found = run(tmp_path, [sign(statement(PROVENANCE), ec_key)], pub)
    assert {"KV511", "KV514"} <= set(found) and "KV510" not in found


def test_untrusted_builder(tmp_path, ec_key):
    pub = write_pub(tmp_path / "key.pem", ec_key)
    docs = [sign(statement(PROVENANCE), ec_key), sign(statement(SPDX), ec_key)]
    found = run(tmp_path, docs, pub, builders=["https://other.example.com/builder"])
    assert set(found) == {"KV513"}
    assert BUILDER in found["KV513"][0].message and "SLSA Build L1" in found["KV513"][0].message


def test_missing_provenance_and_sbom(tmp_path, ec_key):
    pub = write_pub(tmp_path / "key.pem", ec_key)
    assert set(run(tmp_path, [sign(statement(SPDX), ec_key)], pub)) == {"KV510"}
    found = run(tmp_path, [sign(statement(PROVENANCE), ec_key)], pub)
    assert set(found) == {"KV514"}


def test_unpinned_image_resolved_through_lock(tmp_path, ec_key):
    pub = write_pub(tmp_path / "key.pem", ec_key)
    manifest = POD.replace(f"@{DIGEST}", "")
    assert "not pinned" in run(tmp_path, [], pub, manifest=manifest)["KV510"][0].message
    lock = tmp_path / "lock.yaml"
    lock.write_text(f"ghcr.io/example/app:1.0: {DIGEST}\n")
    atts = tmp_path / "a"
    atts.mkdir()
    (atts / "p.json").write_text(json.dumps(sign(statement(PROVENANCE), ec_key)))
    (atts / "s.json").write_text(json.dumps(sign(statement(SPDX), ec_key)))
    settings = {
        "attestations": str(atts),
        "attestation_keys": [pub],
        "image_lock": str(lock),
        "trusted_builders": [BUILDER],
    }
    found = check_yaml(manifest, select=["KV51"], options=Options(settings=settings))
    assert found == []


def test_inactive_without_attestations():
    assert check_yaml(POD, select=["KV51"]) == []


def test_keyless_bundle_without_trust_root_is_unverified(tmp_path, ec_key):
    pub = write_pub(tmp_path / "key.pem", ec_key)
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": "MIIB"}},
        "dsseEnvelope": sign(statement(PROVENANCE), ec_key),
    }
    found = run(tmp_path, [bundle, sign(statement(SPDX), ec_key)], pub)
    assert "no sigstore_trusted_root" in found["KV511"][0].message


def test_keyless_bundle_against_trust_root_file(tmp_path, ec_key):
    sigstore = pytest.importorskip("sigstore")
    root = Path(sigstore.__file__).parent / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
    roots = sorted(root.glob("trusted_root.json")) if root.exists() else []
    if not roots:
        pytest.skip("the sigstore package ships no production trusted_root.json here")
    pub = write_pub(tmp_path / "key.pem", ec_key)
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": "MIIB"}, "tlogEntries": []},
        "dsseEnvelope": sign(statement(PROVENANCE), ec_key),
    }
    atts = tmp_path / "attestations"
    atts.mkdir()
    (atts / "b.sigstore.json").write_text(json.dumps(bundle))
    settings = {
        "attestations": str(atts),
        "attestation_keys": [pub],
        "sigstore_trusted_root": str(roots[0]),
        "sigstore_identities": [{"identity": "ci@example.com", "issuer": "https://x"}],
    }
    found = check_yaml(POD, select=["KV511"], options=Options(settings=settings))
    assert "Sigstore verification failed" in found[0].message


def test_unreadable_attestation_is_an_input_error(tmp_path):
    from kubevet.supplychain.attest import VerifyConfig, load_path

    (tmp_path / "broken.jsonl").write_text(
        '{"payloadType": "x", "payload": "!!", "signatures": [{}]}\nnot json\n'
    )
    atts, errors = load_path(str(tmp_path), VerifyConfig())
    assert atts == [] and [e.line for e in errors] == [1, 2]
