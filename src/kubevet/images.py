"""Container image references, parsed by the OCI distribution reference grammar.

    reference  := name [":" tag] ["@" digest]
    name       := [domain "/"] path
    domain     := host [":" port]        host: DNS name, IPv4, or [IPv6]
    path       := component ("/" component)*   component: [a-z0-9]+ (separator [a-z0-9]+)*
    separator  := [_.] | "__" | "-"+
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex       algorithm: [A-Za-z][A-Za-z0-9]* ([+._-] ...)*

Normalisation follows the container runtimes: the first path element is a registry only
when it contains "." or ":" or is "localhost"; otherwise the image lives on Docker Hub
(`docker.io`), where one-element names sit under `library/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
MAX_NAME = 255

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*")
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_IDENTIFIER = re.compile(r"[a-f0-9]{64}")
_SHA256_HEX = re.compile(r"[a-f0-9]{64}")


class ImageRefError(ValueError):
    """An image string that is not a valid reference; the message says why."""


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A container image reference split into its normalised parts."""

    original: str
    registry: str  # normalised: "docker.io", "registry.k8s.io", "localhost:5000"
    repository: str  # "library/nginx"
    tag: str | None
    digest: str | None  # "sha256:<hex>"
    explicit_registry: bool  # the registry was spelled out in `original`

    @property
    def name(self) -> str:
        """Fully qualified name without tag or digest: `docker.io/library/nginx`."""
        return f"{self.registry}/{self.repository}"

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    @property
    def effective_tag(self) -> str | None:
        """The tag a runtime resolves: the given one, `latest` when neither tag nor digest."""
        if self.tag is None and self.digest is None:
            return "latest"
        return self.tag

    @property
    def mutable_latest(self) -> bool:
        """Neither a digest nor a tag other than `latest`: what runs changes over time."""
        return self.digest is None and self.effective_tag == "latest"

    @property
    def normalized(self) -> str:
        """`docker.io/library/nginx:latest`, `ghcr.io/o/a:1@sha256:...`."""
        out = self.name
        if self.effective_tag:
            out += f":{self.effective_tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    @property
    def tag_key(self) -> str:
        """Normalised name and tag, the key a lock file is looked up by."""
        return f"{self.name}:{self.effective_tag or 'latest'}"

    def with_digest(self, digest: str) -> str:
        """The original spelling pinned to `digest` (an existing digest is replaced)."""
        base = self.original.split("@", 1)[0]
        return f"{base}@{digest}"


def parse_image(text: str) -> ImageRef:
    """Parse and normalise an image reference; raise ImageRefError with the reason."""
    return _parse(text)


@lru_cache(maxsize=4096)
def _parse(text: str) -> ImageRef:
    if not isinstance(text, str) or not text:
        raise ImageRefError("empty image reference")
    if text != text.strip() or any(ch.isspace() for ch in text):
        raise ImageRefError("image reference contains whitespace")
    if _IDENTIFIER.fullmatch(text):
        raise ImageRefError("a 64-character hex image ID is not a pullable reference")
    rest, digest = _split_digest(text)
    name, tag = _split_tag(rest)
    if len(name) > MAX_NAME:
        raise ImageRefError(f"repository name longer than {MAX_NAME} characters")
    registry, path, explicit = _split_registry(name)
    _check_path(path)
    return ImageRef(text, registry, path, tag, digest, explicit)


def _split_digest(text: str) -> tuple[str, str | None]:
    if "@" not in text:
        return text, None
    rest, digest = text.split("@", 1)
    if not _DIGEST.fullmatch(digest):
        raise ImageRefError(f"invalid digest {digest!r} (expected algorithm:hex, e.g. sha256:...)")
    algo, hexpart = digest.split(":", 1)
    if algo == "sha256" and not _SHA256_HEX.fullmatch(hexpart):
        raise ImageRefError("a sha256 digest must be 64 lowercase hex characters")
    if not rest:
        raise ImageRefError("digest without a repository name")
    return rest, digest


def _split_tag(text: str) -> tuple[str, str | None]:
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon <= slash:  # a colon before the last slash belongs to host:port
        return text, None
    name, tag = text[:colon], text[colon + 1 :]
    if not _TAG.fullmatch(tag):
        raise ImageRefError(f"invalid tag {tag!r}")
    return name, tag


def _split_registry(name: str) -> tuple[str, str, bool]:
    first, sep, remainder = name.partition("/")
    is_host = sep and (
        "." in first or ":" in first or first == "localhost" or first != first.lower()
    )
    if not is_host:
        path = name if "/" in name else f"library/{name}"
        return DOCKER_HUB, path, False
    if not _HOST.fullmatch(first):
        raise ImageRefError(f"invalid registry host {first!r}")
    if first.lower() in _HUB_ALIASES:
        path = remainder if "/" in remainder else f"library/{remainder}"
        return DOCKER_HUB, path, True
    return first, remainder, True


def _check_path(path: str) -> None:
    if not path:
        raise ImageRefError("missing repository name")
    for part in path.split("/"):
        if part != part.lower() and _COMPONENT.fullmatch(part.lower()):
            raise ImageRefError(f"repository name must be lowercase: {part!r}")
        if not _COMPONENT.fullmatch(part):
            raise ImageRefError(f"invalid repository name component {part!r}")


def registry_matches(ref: ImageRef, pattern: str) -> bool:
    """Allowlist entry match: `ghcr.io`, `*.example.com`, or a prefix `ghcr.io/my-org`."""
    pat = pattern.strip().rstrip("/").lower()
    if pat in _HUB_ALIASES:
        pat = DOCKER_HUB
    if pat.startswith("*."):
        return ref.registry.endswith(pat[1:])
    if "/" in pat:
        host, _, prefix = pat.partition("/")
        host = DOCKER_HUB if host in _HUB_ALIASES else host
        return ref.registry == host and (ref.repository + "/").startswith(prefix + "/")
    return ref.registry == pat
