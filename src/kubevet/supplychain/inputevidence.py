"""InputEvidence: an input group's supply-chain evidence (`InputGroup.evidence`), loaded on
every check. What the attestations prove about each image (supplychain.evidence) is
imported only when there are attestations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubevet.supplychain.evidence import ImageItem


@dataclass
class InputEvidence:
    """The supply-chain evidence of one input, loaded once by kubevet.sources.evidence
    (the image lock, the attestation directory and keys the settings name, the input's own
    attestations): the rules read this, never the files."""

    image_lock: dict[str, str] = field(default_factory=dict)  # repository:tag -> digest
    # Every container image with its assessment; empty when no attestations are given (the
    # attestation rules then stay silent).
    images: list[ImageItem] = field(default_factory=list)
