"""The digest an image tag points at today, asked of its registry (`fix --resolve-digests`).

One HEAD request per tag on the OCI distribution API (`/v2/<name>/manifests/<tag>`),
accepting image indexes and manifests, read from the `Docker-Content-Digest` header; a
registry that answers 401 with a Bearer challenge gets an anonymous pull token first (as
Docker Hub and GHCR do). Only images of the inputs are asked for, and only when the user
passes the flag: kubevet fetches nothing otherwise. Registries on the loopback interface
are spoken to over plain HTTP (as Docker treats them); every other over HTTPS.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

from kubevet.images import ImageRef

ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
API_HOSTS = {"docker.io": "registry-1.docker.io"}
TIMEOUT = 15


class ResolveError(Exception):
    """A tag whose digest the registry did not give, with why."""


def resolve_all(refs: Iterable[ImageRef]) -> tuple[dict[str, str], list[str]]:
    """`tag_key -> digest` for every tagged, unpinned reference, and one error line per
    reference that could not be resolved (naming it)."""
    found: dict[str, str] = {}
    errors: list[str] = []
    for ref in refs:
        if ref.pinned or ref.tag_key in found:
            continue
        try:
            found[ref.tag_key] = resolve(ref)
        except ResolveError as exc:
            errors.append(f"{ref.original}: digest not resolved: {exc}")
    return found, errors


def resolve(ref: ImageRef) -> str:
    host = API_HOSTS.get(ref.registry, ref.registry)
    scheme = "http" if host.rsplit(":", 1)[0] in LOOPBACK else "https"
    tag = ref.effective_tag or "latest"
    url = f"{scheme}://{host}/v2/{ref.repository}/manifests/{urllib.parse.quote(tag)}"
    try:
        return _head(url, None)
    except urllib.error.HTTPError as exc:
        challenge = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
        if not challenge.lower().startswith("bearer "):
            raise ResolveError(f"the registry answered {exc.code} {exc.reason}") from None
        token = _token(challenge, ref.repository)
        try:
            return _head(url, token)
        except urllib.error.HTTPError as again:
            raise ResolveError(f"the registry answered {again.code} {again.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ResolveError(f"the registry could not be reached ({_why(exc)})") from None


def _head(url: str, token: str | None) -> str:
    request = urllib.request.Request(url, method="HEAD", headers={"Accept": ACCEPT})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with _open(request) as response:
        digest = response.headers.get("Docker-Content-Digest", "")
    if not DIGEST.fullmatch(digest):
        raise ResolveError(f"no sha256 digest in the answer ({digest or 'none'})")
    return digest


def _open(request: urllib.request.Request) -> Any:
    """Open `request`; a loopback registry is spoken to directly, never through a proxy
    from the environment."""
    host = urllib.parse.urlsplit(request.full_url).hostname or ""
    if host in LOOPBACK or f"[{host}]" in LOOPBACK:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        return opener.open(request, timeout=TIMEOUT)
    return urllib.request.urlopen(request, timeout=TIMEOUT)


def _token(challenge: str, repository: str) -> str:
    """An anonymous pull token from the realm the Bearer challenge names."""
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    realm = params.pop("realm", "")
    host = urllib.parse.urlsplit(realm).hostname or ""
    plain = realm.startswith("http://") and (host in LOOPBACK or f"[{host}]" in LOOPBACK)
    if not (realm.startswith("https://") or plain):
        raise ResolveError("the registry's token realm is not an HTTPS URL")
    params.setdefault("scope", f"repository:{repository}:pull")
    url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(params)
    try:
        with _open(urllib.request.Request(url)) as response:
            body = json.loads(response.read(1 << 20) or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ResolveError(f"no pull token ({_why(exc)})") from None
    token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise ResolveError("the token answer holds no token")
    return token


def _why(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc)
