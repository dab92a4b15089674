"""Sigstore bundles (`application/vnd.dev.sigstore.bundle*`) carrying a DSSE envelope.

Two kinds of signer:
- keyless (a Fulcio certificate in `verificationMaterial`): verified by the `sigstore`
  package against a trusted root read from a file (settings.sigstore_trusted_root) and an
  identity policy (settings.sigstore_identities). The bundle's own inclusion proof and
  signed timestamps are checked offline; nothing is fetched.
- a key pair (`verificationMaterial.publicKey`, e.g. `cosign attest --key`): sigstore
  refuses bundles without a certificate, so the inner envelope is checked with the
  configured attestation_keys, like any DSSE envelope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kubevet.supplychain.dsse import EnvelopeResult, PublicKey, b64decode, open_envelope

BUNDLE_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"
MISSING_SIGSTORE = (
    "checking keyless bundles needs the 'sigstore' package: pip install 'kubevet[supplychain]'"
)


@dataclass(frozen=True)
class SigstoreTrust:
    trusted_root: str | None = None  # path of a trusted_root.json
    identities: tuple[tuple[str, str], ...] = field(default=())  # (identity, issuer)


def is_bundle(data: Any) -> bool:
    return isinstance(data, dict) and str(data.get("mediaType", "")).startswith(BUNDLE_MEDIA_PREFIX)


def has_certificate(bundle: dict[str, Any]) -> bool:
    material = bundle.get("verificationMaterial") or {}
    return bool(material.get("certificate") or material.get("x509CertificateChain"))


def open_bundle(
    bundle: dict[str, Any], keys: list[PublicKey], trust: SigstoreTrust
) -> EnvelopeResult | None:
    """The verified (or not) DSSE content of a bundle; None for message signatures."""
    envelope = bundle.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        return None
    if not has_certificate(bundle):
        return open_envelope(envelope, keys)
    payload_type = str(envelope.get("payloadType", ""))
    payload = b64decode(envelope.get("payload"))
    signer, problem = _verify_keyless(bundle, trust)
    return EnvelopeResult(payload_type, payload, signer, problem)


def _verify_keyless(bundle: dict[str, Any], trust: SigstoreTrust) -> tuple[str | None, str | None]:
    if not trust.trusted_root:
        return None, "keyless Sigstore bundle: no sigstore_trusted_root configured"
    if not trust.identities:
        return None, "keyless Sigstore bundle: no sigstore_identities configured"
    try:
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import Bundle, TrustedRoot
        from sigstore.verify import Verifier
        from sigstore.verify.policy import AnyOf, Identity
    except ImportError:
        return None, MISSING_SIGSTORE
    policy = AnyOf([Identity(identity=i, issuer=iss) for i, iss in trust.identities])
    try:
        verifier = Verifier(trusted_root=TrustedRoot.from_file(trust.trusted_root))
        parsed = Bundle.from_json(json.dumps(bundle))
        verifier.verify_dsse(parsed, policy)
    except (SigstoreError, ValueError, OSError, KeyError, TypeError) as exc:
        return None, f"Sigstore verification failed: {_first_line(exc)}"
    return _identity_of(parsed), None


def _identity_of(bundle: Any) -> str:
    try:
        from cryptography.x509 import SubjectAlternativeName

        san = bundle.signing_certificate.extensions.get_extension_for_class(SubjectAlternativeName)
        return str(next(iter(san.value)).value)
    except Exception:  # the identity is only a label here; verification already passed
        return "sigstore"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
