"""Per-input supply-chain evidence, loaded once when the input is read: the image lock
(settings.image_lock), attestations from `--attestations DIR` and among the inputs, and the
keys that verify them. Each problem is an InputError naming its file; the rules (KV502,
KV510-KV514) read `group.evidence` and open no file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kubevet.context import InputGroup
from kubevet.findings import InputError
from kubevet.images import ImageRef, ImageRefError, parse_image
from kubevet.model import ContainerView, K8sObject
from kubevet.supplychain.inputevidence import InputEvidence

if TYPE_CHECKING:  # the attestation machinery is imported when there are attestations
    from kubevet.supplychain.attest import Attestation, VerifyConfig
    from kubevet.supplychain.dsse import PublicKey
    from kubevet.supplychain.evidence import ImageItem

ATTESTATION_KIND = "Attestation"


def load_evidence(group: InputGroup, settings: Mapping[str, Any]) -> InputEvidence:
    """Read the evidence `settings` name for `group` into `group.evidence` (once)."""
    if group.evidence is None:
        lock = _image_lock(group, settings.get("image_lock"))
        group.evidence = InputEvidence(lock, _images(group, settings, lock))
    return group.evidence


def _image_lock(group: InputGroup, path: Any) -> dict[str, str]:
    if not path:
        return {}
    from kubevet.supplychain.lock import LockError, load_lock

    try:
        return load_lock(str(path))
    except LockError as exc:  # its message names the file already
        _report(group, InputError(str(path), str(exc).removeprefix(f"{path}: ")))
        return {}


def _images(
    group: InputGroup, settings: Mapping[str, Any], lock: dict[str, str]
) -> list[ImageItem]:
    """Every container image of the group with its assessment; [] when no attestations."""
    inline = group.by_kind(ATTESTATION_KIND)
    if not inline and not settings.get("attestations"):
        return []
    from kubevet.supplychain.attest import load_path
    from kubevet.supplychain.evidence import ImageItem, assess, trusted_builders

    config = verify_config(settings)
    atts: list[Attestation] = []
    if settings.get("attestations"):
        found, errors = load_path(str(settings["attestations"]), config)
        atts.extend(found)
        for err in errors:
            _report(group, err)
    atts.extend(_inline(group, inline, config))
    builders = trusted_builders(settings.get("trusted_builders"))
    items = []
    for obj, c, ref in _container_images(group):
        digest = ref.digest or lock.get(ref.tag_key)
        result = assess(ref.name, digest, atts, builders) if digest else None
        items.append(ImageItem(obj, c, ref, digest, result))
    return items


def verify_config(settings: Mapping[str, Any]) -> VerifyConfig:
    from kubevet.supplychain.attest import VerifyConfig
    from kubevet.supplychain.bundle import SigstoreTrust

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
    from kubevet.supplychain.dsse import load_public_keys

    return load_public_keys(list(paths))


def _inline(group: InputGroup, objs: list[K8sObject], config: VerifyConfig) -> list[Attestation]:
    from kubevet.supplychain.attest import read_document
    from kubevet.supplychain.dsse import KeyLoadError

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
