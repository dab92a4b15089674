"""DSSE envelopes (Dead Simple Signing Envelope, v1) verified offline with public keys.

The signature covers the pre-authentication encoding of the payload, never the JSON:
    PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body
with lengths as ASCII decimal byte counts. `keyid` is only a hint, so every configured
key is tried.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from typing import Any

IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
MISSING_CRYPTO = (
    "verifying signatures needs the 'cryptography' package: pip install 'kubevet[supplychain]'"
)


class KeyLoadError(ValueError):
    pass


@dataclass(frozen=True)
class PublicKey:
    name: str  # the PEM file's base name, shown as the signer
    key: Any  # a cryptography public key object


@dataclass(frozen=True)
class EnvelopeResult:
    payload_type: str
    payload: bytes
    signer: str | None  # name of the key that verified, None when none did
    problem: str | None  # why it is not verified


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def b64decode(text: Any) -> bytes:
    """Standard or URL-safe base64, padding optional (both are allowed by DSSE)."""
    if not isinstance(text, str):
        raise ValueError("not a base64 string")
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"invalid base64: {exc}") from None


def load_public_keys(paths: list[str]) -> list[PublicKey]:
    """PEM public keys (ECDSA, Ed25519, RSA); a certificate's key is used as well."""
    if not paths:
        return []  # nothing to load: no need for cryptography either
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:
        raise KeyLoadError(MISSING_CRYPTO) from None
    from kubevet.findings import InputError
    from kubevet.sources.reader import read_bytes

    keys = []
    for path in paths:
        try:
            pem = read_bytes(path)
        except InputError as err:
            raise KeyLoadError(f"{path}: cannot read key: {err.message}") from None
        try:
            if b"BEGIN CERTIFICATE" in pem:
                key = x509.load_pem_x509_certificate(pem).public_key()
            else:
                key = load_pem_public_key(pem)
        except ValueError as exc:
            raise KeyLoadError(f"{path}: not a PEM public key: {exc}") from None
        keys.append(PublicKey(os.path.basename(path), key))
    return keys


def verify_signature(key: Any, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            algo = hashes.SHA384() if key.curve.key_size == 384 else hashes.SHA256()
            size = (key.curve.key_size + 7) // 8
            if len(signature) == 2 * size:  # raw r||s, as some signers emit
                r, s = signature[:size], signature[size:]
                signature = utils.encode_dss_signature(int.from_bytes(r), int.from_bytes(s))
            key.verify(signature, message, ec.ECDSA(algo))
        elif isinstance(key, rsa.RSAPublicKey):
            return _verify_rsa(key, signature, message, padding, hashes)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _verify_rsa(key: Any, signature: bytes, message: bytes, padding: Any, hashes: Any) -> bool:
    from cryptography.exceptions import InvalidSignature

    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    for pad in (padding.PKCS1v15(), pss):
        try:
            key.verify(signature, message, pad, hashes.SHA256())
            return True
        except InvalidSignature:
            continue
    return False


def open_envelope(envelope: dict[str, Any], keys: list[PublicKey]) -> EnvelopeResult:
    """Decode the payload and check the signatures; never raises on bad signatures."""
    payload_type = str(envelope.get("payloadType", ""))
    payload = b64decode(envelope.get("payload"))
    sigs = [s for s in envelope.get("signatures") or [] if isinstance(s, dict)]
    if not sigs:
        return EnvelopeResult(payload_type, payload, None, "envelope has no signatures")
    if not keys:
        return EnvelopeResult(
            payload_type, payload, None, "no attestation_keys configured to verify it"
        )
    message = pae(payload_type, payload)
    for sig in sigs:
        try:
            raw = b64decode(sig.get("sig"))
        except ValueError:
            continue
        for key in keys:
            if verify_signature(key.key, raw, message):
                return EnvelopeResult(payload_type, payload, key.name, None)
    return EnvelopeResult(
        payload_type, payload, None, "signature does not verify with any configured key"
    )
