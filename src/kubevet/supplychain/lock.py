"""Image lock files: which digest each `repository:tag` pointed at when it was locked.

Accepted formats (YAML or JSON), detected by shape:

- a plain map, reference -> digest or pinned reference::

      nginx:1.27: sha256:<hex>
      ghcr.io/org/app:v2: ghcr.io/org/app:v2@sha256:<hex>

- a kbld lock (`kbld --lock-output`, Carvel), `overrides` of `image` -> `newImage`::

      apiVersion: kbld.k14s.io/v1alpha1
      kind: Config
      overrides:
        - image: nginx:1.27
          newImage: index.docker.io/library/nginx@sha256:<hex>

- a BuildKit metadata file (`docker buildx build --metadata-file`): `image.name` (comma
  separated) and `containerimage.digest`, at the top level or per bake target.

Keys are normalised, so `nginx:1.27` and `docker.io/library/nginx:1.27` are one entry.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

from kubevet import jsontext
from kubevet.images import ImageRefError, parse_image

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")


class LockError(ValueError):
    pass


def lookup(lock: dict[str, str], image: str) -> str | None:
    """The locked digest for an image string, or None."""
    try:
        ref = parse_image(image)
    except ImageRefError:
        return None
    return lock.get(ref.tag_key)


def load_lock(path: str) -> dict[str, str]:
    """Normalised `registry/repo:tag` -> `sha256:<hex>`; LockError names the problem."""
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError as exc:
        raise LockError(f"{path}: cannot read image lock: {exc.strerror or exc}") from None
    return _load(path, stamp)


@lru_cache(maxsize=8)
def _load(path: str, _stamp: int) -> dict[str, str]:
    from kubevet.findings import InputError
    from kubevet.sources.manifests import load_yaml
    from kubevet.sources.reader import read_text

    try:
        text = read_text(path)
    except InputError as err:
        raise LockError(f"{path}: cannot read image lock: {err.message}") from None
    try:  # nesting, alias and duplicate guards as for manifests
        data = jsontext.loads(text) if path.endswith(".json") else load_yaml(text, path)
    except InputError as err:
        raise LockError(f"{path}: cannot parse image lock: {err.message}") from None
    except ValueError as exc:
        raise LockError(f"{path}: cannot parse image lock: {exc}") from None
    out: dict[str, str] = {}
    try:
        pairs = _pairs(data)
    except LockError as exc:
        raise LockError(f"{path}: {exc}") from None
    for ref, digest in pairs:
        _add(out, ref, digest)
    return out


def _pairs(data: Any) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        raise LockError("image lock must be a mapping")
    if isinstance(data.get("overrides"), list):  # kbld
        return [
            (str(o.get("image")), str(o.get("newImage")))
            for o in data["overrides"]
            if isinstance(o, dict) and o.get("image") and o.get("newImage")
        ]
    if "containerimage.digest" in data:  # buildx metadata, one target
        return _buildx(data)
    if any(isinstance(v, dict) and "containerimage.digest" in v for v in data.values()):
        return [p for v in data.values() if isinstance(v, dict) for p in _buildx(v)]
    return [(str(k), str(v)) for k, v in data.items() if isinstance(v, str)]


def _buildx(entry: dict[str, Any]) -> list[tuple[str, str]]:
    digest = str(entry.get("containerimage.digest", ""))
    names = str(entry.get("image.name", "")).split(",")
    return [(n.strip(), digest) for n in names if n.strip()]


def _add(out: dict[str, str], ref: str, value: str) -> None:
    digest = value.rsplit("@", 1)[-1]
    if not _DIGEST.fullmatch(digest):
        return  # not a sha256 pin: nothing safe to offer
    try:
        key = parse_image(ref.split("@", 1)[0]).tag_key
    except ImageRefError:
        return
    out[key] = digest
