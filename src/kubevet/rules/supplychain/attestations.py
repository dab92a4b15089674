"""Evidence for the attestation rules (KV510-KV514): which attestations apply to which image.

Computed once per input group and shared by the five rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import InputError, Violation
from kubevet.images import ImageRef, ImageRefError, parse_image
from kubevet.model import ContainerView, K8sObject
from kubevet.rules.supplychain.images import locked_digest
from kubevet.supplychain.attest import Attestation, VerifyConfig, load_path, read_document
from kubevet.supplychain.bundle import SigstoreTrust
from kubevet.supplychain.dsse import KeyLoadError, PublicKey, load_public_keys
from kubevet.supplychain.evidence import Assessment, assess, trusted_builders

ATTESTATION_KIND = "Attestation"


@dataclass
class ImageItem:
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


_last: tuple[Any, Any, list[ImageItem]] | None = None


def images(ctx: RuleContext, group: InputGroup) -> list[ImageItem]:
    """Every container image of the group with its assessment; [] when no attestations."""
    global _last
    if _last is not None and _last[0] is group and _last[1] is ctx.options:
        return _last[2]
    items = _compute(ctx, group)
    _last = (group, ctx.options, items)
    return items


def _compute(ctx: RuleContext, group: InputGroup) -> list[ImageItem]:
    settings = ctx.options.settings
    config = verify_config(settings)
    atts: list[Attestation] = []
    if settings.get("attestations"):
        found, errors = load_path(str(settings["attestations"]), config)
        atts.extend(found)
        for err in errors:
            _report(group, err)
    inline = group.by_kind(ATTESTATION_KIND)
    if not inline and not settings.get("attestations"):
        return []
    atts.extend(_inline(group, inline, config))
    builders = trusted_builders(settings.get("trusted_builders"))
    items = []
    for obj, c, ref in _container_images(group):
        digest = ref.digest or locked_digest(ctx, ref)
        result = assess(ref.name, digest, atts, builders) if digest else None
        items.append(ImageItem(obj, c, ref, digest, result))
    return items


def verify_config(settings: dict[str, Any]) -> VerifyConfig:
    keys = settings.get("attestation_keys") or ()
    keys = (keys,) if isinstance(keys, str) else tuple(str(k) for k in keys)
    idents = []
    for item in settings.get("sigstore_identities") or ():
        if isinstance(item, dict) and item.get("identity") and item.get("issuer"):
            idents.append((str(item["identity"]), str(item["issuer"])))
    root = settings.get("sigstore_trusted_root")
    return VerifyConfig(keys, SigstoreTrust(str(root) if root else None, tuple(idents)))


@lru_cache(maxsize=8)
def _keys(paths: tuple[str, ...]) -> list[PublicKey]:
    return load_public_keys(list(paths))


def _inline(group: InputGroup, objs: list[K8sObject], config: VerifyConfig) -> list[Attestation]:
    try:
        keys = _keys(config.keys)
    except KeyLoadError as exc:
        _report(group, InputError(group.label, f"attestation keys: {exc}"))
        keys = []
    out: list[Attestation] = []
    for obj in objs:
        source = f"{obj.origin.file}:{obj.origin.line}"
        try:
            out.extend(read_document(obj.data.get("document"), source, keys, config.trust))
        except ValueError as exc:
            _report(group, InputError(obj.origin.file, f"bad attestation: {exc}", obj.origin.line))
    return out


def _container_images(group: InputGroup) -> Iterator[tuple[K8sObject, ContainerView, ImageRef]]:
    for obj in group.objects:
        if obj.pod is None:
            continue
        for c in obj.pod.containers:
            image = c.data.get("image")
            if c.kind == "ephemeralContainer" or not isinstance(image, str):
                continue  # debug containers are not part of what ships
            try:
                yield obj, c, parse_image(image)
            except ImageRefError:
                continue  # KV507 reports it


def _report(group: InputGroup, err: InputError) -> None:
    if err not in group.errors:
        group.errors.append(err)
