"""What the attestations prove about one image digest, and the SLSA Build level it supports.

Levels (SLSA v1.0 build track), as far as offline evidence can show them:
- L0: no provenance for this digest (or one without buildType/externalParameters);
- L1: provenance exists, but it is unsigned, unverified, or from a builder not trusted;
- L2: provenance whose signature verifies, from a builder in `trusted_builders`;
- L3: as L2, from a builder that `trusted_builders` declares hardened (`level: 3`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubevet.findings import Violation
from kubevet.images import ImageRef, ImageRefError, parse_image
from kubevet.supplychain.inputevidence import InputEvidence as InputEvidence  # its old home

if TYPE_CHECKING:
    from kubevet.model import ContainerView, K8sObject
    from kubevet.supplychain.attest import Attestation

# Reference L3 builders, trusted when the config names none (settings.trusted_builders).
DEFAULT_TRUSTED_BUILDERS: tuple[dict[str, Any], ...] = (
    {
        "id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/*",
        "level": 3,
    },
)


@dataclass(frozen=True)
class TrustedBuilder:
    """A builder id (or pattern) trusted for provenance, and the SLSA level it gives."""

    pattern: str  # exact id, a prefix ending in "*", or an id without its "@ref"
    level: int

    def matches(self, builder_id: str) -> bool:
        if self.pattern.endswith("*"):
            return builder_id.startswith(self.pattern[:-1])
        return builder_id == self.pattern or builder_id.split("@", 1)[0] == self.pattern


def trusted_builders(value: Any) -> list[TrustedBuilder]:
    """Config entries: a builder id string (level 2) or {id, level}."""
    out = []
    for item in value if isinstance(value, list) else DEFAULT_TRUSTED_BUILDERS:
        if isinstance(item, str):
            out.append(TrustedBuilder(item, 2))
        elif isinstance(item, dict) and item.get("id"):
            level = item.get("level", 2)
            out.append(TrustedBuilder(str(item["id"]), min(3, max(2, int(level)))))
    return out


@dataclass
class Assessment:
    """What the attestations say about one image digest."""

    provenance: list[Attestation] = field(default_factory=list)  # for this digest
    mismatched: list[Attestation] = field(default_factory=list)  # same repository, other digest
    sboms: list[Attestation] = field(default_factory=list)
    untrusted: list[Attestation] = field(default_factory=list)  # builder not trusted
    level: int = 0

    @property
    def verified_provenance(self) -> list[Attestation]:
        return [a for a in self.provenance if a.verified]

    @property
    def unverified(self) -> list[Attestation]:
        return [a for a in self.provenance + self.sboms if not a.verified]


def subject_name(name: str) -> str:
    """A subject name normalised like an image name when it is one."""
    try:
        return parse_image(name.split("@", 1)[0]).name
    except ImageRefError:
        return name


def assess(
    image_name: str, digest: str, attestations: list[Attestation], builders: list[TrustedBuilder]
) -> Assessment:
    out = Assessment()
    for att in attestations:
        digests = {d for _, d in att.subjects}
        if digest in digests:
            if att.is_provenance:
                out.provenance.append(att)
            elif att.is_sbom:
                out.sboms.append(att)
        elif att.is_provenance and any(subject_name(n) == image_name for n, _ in att.subjects):
            out.mismatched.append(att)
    out.untrusted = [a for a in out.provenance if _builder_level(a, builders) is None]
    out.level = _level(out, builders)
    return out


def _builder_level(att: Attestation, builders: list[TrustedBuilder]) -> int | None:
    levels = [b.level for b in builders if b.matches(att.builder_id)]
    return max(levels) if levels else None


def _level(out: Assessment, builders: list[TrustedBuilder]) -> int:
    complete = [a for a in out.provenance if a.complete]
    if not complete:
        return 0
    trusted = [_builder_level(a, builders) for a in complete if a.verified]
    return max([lvl for lvl in trusted if lvl is not None], default=1)


@dataclass
class ImageItem:
    """One container image of an input with what its attestations prove."""

    obj: K8sObject
    container: ContainerView
    ref: ImageRef
    digest: str | None
    assessment: Assessment | None  # None when the image has no digest to match

    def violation(self, text: str) -> Violation:
        shown = self.ref.original
        if self.digest and not self.ref.digest:
            shown += f" (locked to {self.digest[:19]}…)"
        return Violation(
            f"image {shown} {text}",
            (*self.container.path, "image"),
            container=self.container.name,
            obj=self.obj,
        )
