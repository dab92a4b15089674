"""Provenance and SBOMs (KV510-KV514): which attestations name each image's digest, who
built it, and whether the signatures verify. These rules run only when attestations are
given (`--attestations DIR`, or statements, envelopes or bundles among the inputs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.rules.examples import EXAMPLE_DIGEST, example_image_pod
from kubevet.rules.registry import rule

if TYPE_CHECKING:
    from kubevet.supplychain.evidence import ImageItem

_STMT = (
    "---\n_type: https://in-toto.io/Statement/v1\nsubject:\n"
    "  - name: ghcr.io/example/app\n    digest: {{sha256: {hex}}}\npredicateType: {ptype}\n"
    "predicate: {pred}\n"
)


_PROV_PRED = (
    "{buildDefinition: {buildType: 'https://example.com/build/v1', externalParameters: {}}, "
    "runDetails: {builder: {id: '%s'}}}"
)


_GEN = (
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/x.yml@refs/tags/v2"
)


def _stmt(kind: str, digest: str = EXAMPLE_DIGEST, builder: str = _GEN) -> str:
    pred = _PROV_PRED % builder if kind == "prov" else "{spdxVersion: SPDX-2.3}"
    ptype = "https://slsa.dev/provenance/v1" if kind == "prov" else "https://spdx.dev/Document"
    return _STMT.format(hex=digest.split(":", 1)[1], ptype=ptype, pred=pred)


_APP = example_image_pod(f"ghcr.io/example/app:1.0@{EXAMPLE_DIGEST}")


_ATT_WHEN = (
    " Runs only when attestations are given: `--attestations DIR` (settings.attestations), or "
    "in-toto statements, DSSE envelopes or Sigstore bundles among the inputs."
)


_ATT_REFS = ("SLSA v1.0 build track", "in-toto attestation framework v1", "DSSE v1.0")


def _images(group: InputGroup) -> list[ImageItem]:
    """The group's images with their assessments (kubevet.sources.evidence); [] when no
    attestations are given."""
    return group.evidence.images if group.evidence else []


@rule(
    code="KV510",
    slug="missing-provenance",
    title="No SLSA provenance for the image",
    category="supply-chain",
    severity="medium",
    scope="group",
    what="No SLSA provenance (predicate `https://slsa.dev/provenance/v1`) names the image's "
    "digest as its subject. Images without a digest are resolved through settings.image_lock."
    + _ATT_WHEN,
    why="Provenance says which builder made these exact bytes from which source; without it "
    "nothing links the running image to reviewed code (SLSA Build L0).",
    how_to_fix="Generate provenance in the build (e.g. the SLSA GitHub generator, BuildKit "
    "`--attest type=provenance`), store it beside the manifests, and pin images by digest.",
    example_bad=_APP + _stmt("sbom"),
    example_good=_APP + _stmt("prov") + _stmt("sbom"),
    references=_ATT_REFS,
)
def missing_provenance(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for item in _images(group):
        a = item.assessment
        if a is None:
            yield item.violation(
                "is not pinned by digest (nor in image_lock): no provenance can match it; "
                "evidence supports SLSA Build L0"
            )
        elif not a.provenance and not a.mismatched:
            yield item.violation("has no SLSA provenance; evidence supports SLSA Build L0")


@rule(
    code="KV511",
    slug="unverified-attestation",
    title="Attestation for the image is not verified",
    category="supply-chain",
    severity="high",
    scope="group",
    what="A provenance or SBOM for the image's digest is unsigned, or its signature does not "
    "verify with settings.attestation_keys (DSSE: ECDSA, Ed25519, RSA) or, for keyless "
    "Sigstore bundles, against settings.sigstore_trusted_root and sigstore_identities." + _ATT_WHEN,
    why="An unsigned or unverifiable statement can be written by anyone, so it proves "
    "nothing about who built the image; a tampered one must never count as evidence.",
    how_to_fix="Sign attestations in the build (cosign attest, DSSE with a key kept by the "
    "build platform) and configure the public key or the Sigstore identity.",
    example_bad=_APP + _stmt("prov"),
    example_good=_APP,
    references=_ATT_REFS,
)
def unverified_attestation(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for item in _images(group):
        bad = item.assessment.unverified if item.assessment else []
        if bad:
            first = bad[0]
            yield item.violation(
                f"has {len(bad)} unverified attestation(s), e.g. {first.source}: "
                f"{first.problem}; evidence supports SLSA Build L{item.assessment.level}"
            )


_SHA_OTHER = "sha256:" + "0a" * 32


@rule(
    code="KV512",
    slug="provenance-digest-mismatch",
    title="Provenance is for another digest of the image",
    category="supply-chain",
    severity="high",
    scope="group",
    what="Provenance exists for the image's repository, but none for the digest deployed."
    + _ATT_WHEN,
    why="The deployed bytes are not the ones the build attested: a re-push, a rebuilt tag "
    "or a substituted image.",
    how_to_fix="Deploy the digest the provenance names, or attest the image you deploy.",
    example_bad=_APP + _stmt("prov", _SHA_OTHER),
    example_good=_APP + _stmt("prov"),
    references=_ATT_REFS,
)
def provenance_digest_mismatch(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for item in _images(group):
        a = item.assessment
        if a is not None and a.mismatched and not a.provenance:
            other = a.mismatched[0].subjects[0][1]
            yield item.violation(
                f"has provenance only for other digests (e.g. {other[:19]}… in "
                f"{a.mismatched[0].source}); evidence supports SLSA Build L0"
            )


@rule(
    code="KV513",
    slug="untrusted-builder",
    title="Provenance from a builder not trusted",
    category="supply-chain",
    severity="high",
    scope="group",
    what="The image's provenance names a builder (`runDetails.builder.id`) not in "
    "settings.trusted_builders (ids, `prefix*`, or {id, level: 3} for hardened builders). "
    "Without that setting, the SLSA GitHub generator's workflows are trusted (level 3)."
    + _ATT_WHEN,
    why="Provenance is only as good as the builder that signs it: an unknown builder can "
    "claim any source and any parameters.",
    how_to_fix="Build on a trusted platform, or add the builder id to trusted_builders once "
    "you have reviewed it.",
    example_bad=_APP + _stmt("prov", builder="https://ci.example.net/runner"),
    example_good=_APP + _stmt("prov"),
    references=_ATT_REFS,
)
def untrusted_builder(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for item in _images(group):
        a = item.assessment
        if a is not None and a.provenance and len(a.untrusted) == len(a.provenance):
            ids = sorted({p.builder_id or "(none)" for p in a.untrusted})
            yield item.violation(
                f"was built by {', '.join(ids)}, not in trusted_builders; "
                f"evidence supports SLSA Build L{a.level}"
            )


@rule(
    code="KV514",
    slug="missing-sbom",
    title="No SBOM for the image",
    category="supply-chain",
    severity="low",
    scope="group",
    what="No SPDX or CycloneDX attestation names the image's digest as its subject." + _ATT_WHEN,
    why="Without an SBOM for the exact image, nobody can tell which packages a new CVE hits.",
    how_to_fix="Generate an SBOM in the build (e.g. BuildKit `--attest type=sbom`, syft) "
    "and attest it for the image digest.",
    example_bad=_APP + _stmt("prov"),
    example_good=_APP + _stmt("prov") + _stmt("sbom"),
    references=(*_ATT_REFS, "SPDX 2.3", "CycloneDX 1.5"),
)
def missing_sbom(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for item in _images(group):
        if item.assessment is not None and not item.assessment.sboms:
            yield item.violation("has no SBOM (SPDX or CycloneDX) for its digest")
