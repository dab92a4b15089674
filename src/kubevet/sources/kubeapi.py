"""Read-only access to a Kubernetes API server through the official `kubernetes` client:
the kubeconfig, GET with retries, discovery and paged lists. Nothing here writes.

- A transient error (429, 5xx) is retried with backoff; an unreachable server, or a
  kubeconfig that cannot be used, is a `ClusterError`.
- Lists page with `limit`/`continue`; an expired continue token (410 Gone) restarts the
  list; a list the user may not read (401/403) is skipped with one warning.

The `kubernetes` package is imported only here, when a cluster is read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubevet import jsontext

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

PAGE = 500
RETRIES = 4
TRANSIENT = (429, 500, 502, 503, 504)
JSON = "application/json"
# Aggregated discovery (KEP-3352: v2beta1 from 1.26, v2 from 1.30); servers without it
# answer the legacy documents to the plain JSON alternative.
AGGREGATED = ",".join(
    [
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
        JSON,
    ]
)
TIMEOUT = (10.0, 60.0)  # connect, read (seconds): the client waits forever by default
Sleep = Callable[[float], None]


@dataclass
class ClusterOptions:
    kubeconfig: str | None = None  # default: $KUBECONFIG, else ~/.kube/config
    context: str | None = None  # default: the current context
    namespace: str | None = None  # None: every namespace


class ClusterError(Exception):
    """The cluster cannot be read at all (no kubeconfig, unreachable, unauthorised)."""


@dataclass(frozen=True)
class Resource:
    api_version: str  # group/version, "v1" for the core group
    plural: str
    kind: str
    namespaced: bool


@dataclass
class Discovery:
    """What the server serves: every group/version, each group's preferred version, and
    the listable resources of the group/versions that were asked about."""

    versions: list[tuple[str, str]] = field(default_factory=list)  # (group, version)
    preferred: dict[str, str] = field(default_factory=dict)  # group -> version
    resources: dict[str, dict[str, Resource]] = field(default_factory=dict)  # api -> kind ->

    def resource(self, api_version: str, kind: str) -> Resource | None:
        return self.resources.get(api_version, {}).get(kind)


def api_version_of(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


@dataclass
class Cluster:
    """A connected client, the context's name and how to wait between retries."""

    api: ApiClient
    context: str
    sleep: Sleep = time.sleep
    warnings: list[str] = field(default_factory=list)

    def get(
        self, path: str, query: list[tuple[str, Any]] | None = None, accept: str = JSON
    ) -> dict[str, Any]:
        """GET `path`; transient errors retried, ApiException for the rest."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        delay = 0.5
        for attempt in range(RETRIES):
            try:
                return _get(self.api, path, query, accept)
            except ApiException as exc:
                if exc.status in TRANSIENT and attempt < RETRIES - 1:
                    self.sleep(delay)
                    delay *= 2
                    continue
                raise
            except (OSError, HTTPError) as exc:  # refused, TLS, DNS: after urllib3's retries
                raise ClusterError(f"cannot reach the cluster: {_reason(exc)}") from None
        raise AssertionError("unreachable")

    def version(self) -> str:
        """The server's gitVersion (e.g. v1.28.3), "" when /version cannot be read."""
        from kubernetes.client.exceptions import ApiException

        try:
            return str(self.get("/version").get("gitVersion") or "")
        except ApiException:
            return ""

    def discover(self, wanted: Callable[[str, str], bool]) -> Discovery:
        """Group/versions and preferred versions; resources of the `wanted` group/versions.
        Aggregated discovery (two requests) where the server offers it, else the legacy
        documents: /api, /apis, then one per wanted group/version."""
        found = Discovery()
        core, groups = self.get("/api", accept=AGGREGATED), self.get("/apis", accept=AGGREGATED)
        if core.get("kind") == groups.get("kind") == "APIGroupDiscoveryList":
            for item in [*core.get("items", []), *groups.get("items", [])]:
                _read_aggregated(item, found)
            return found
        found.versions = [("", v) for v in core.get("versions", [])]
        found.preferred[""] = "v1"
        for g in groups.get("groups", []):
            found.versions += [(g["name"], v["version"]) for v in g.get("versions", [])]
            preferred = (g.get("preferredVersion") or {}).get("version")
            if preferred:
                found.preferred[g["name"]] = preferred
        for group, version in found.versions:
            if not wanted(group, version):
                continue
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            api_version = api_version_of(group, version)
            found.resources[api_version] = {
                r["kind"]: Resource(api_version, r["name"], r["kind"], bool(r.get("namespaced")))
                for r in self.get(path).get("resources", [])
                if "/" not in r["name"] and "list" in r.get("verbs", [])
            }
        return found

    def list(self, res: Resource, namespace: str | None, labels: str = "") -> list[dict[str, Any]]:
        """Every item of `res` (in `namespace` when it is namespaced and one is given),
        each with its apiVersion and kind; [] with a warning when the user may not list it."""
        from kubernetes.client.exceptions import ApiException

        path = "/api/" if "/" not in res.api_version else "/apis/"
        path += res.api_version
        if res.namespaced and namespace:
            path += f"/namespaces/{namespace}"
        path += f"/{res.plural}"
        for _restart in range(3):  # an expired continue token restarts the list
            try:
                items = self._pages(path, labels)
            except ApiException as exc:
                if exc.status == 410:
                    continue
                if exc.status in (401, 403):
                    what = f"{res.plural} ({res.api_version})"
                    self.warnings.append(f"cannot list {what}: forbidden, skipped")
                    return []
                raise ClusterError(
                    f"listing {res.plural}: HTTP {exc.status} {exc.reason}"
                ) from None
            return [{"apiVersion": res.api_version, "kind": res.kind, **i} for i in items]
        self.warnings.append(f"{res.plural} ({res.api_version}): the list kept expiring, skipped")
        return []

    def _pages(self, path: str, labels: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            query: list[tuple[str, Any]] = [("limit", PAGE)]
            if labels:
                query.append(("labelSelector", labels))
            if token:
                query.append(("continue", token))
            page = self.get(path, query)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return items


def connect(opts: ClusterOptions, sleep: Sleep = time.sleep) -> Cluster:
    """A client for the kubeconfig context `opts` names (default: the current one)."""
    try:
        import yaml
        from kubernetes import config
        from kubernetes.config.config_exception import ConfigException
    except ImportError:  # pragma: no cover - a dependency
        raise ClusterError("reading a cluster needs the 'kubernetes' package") from None
    # The client reads $KUBECONFIG once, when it is imported: read it on each use instead.
    path = opts.kubeconfig or os.environ.get("KUBECONFIG") or None
    shown = path or os.path.join("~", ".kube", "config")
    candidates = (path or os.path.expanduser(shown)).split(os.pathsep)
    if not any(os.path.exists(p) for p in candidates if p):
        raise ClusterError(f"{shown}: no such file (give --kubeconfig, or set $KUBECONFIG)")
    try:
        contexts, current = config.list_kube_config_contexts(config_file=path)
        name = opts.context or (current or {}).get("name", "")
        if opts.context and opts.context not in {c["name"] for c in contexts}:
            raise ClusterError(f"no context {opts.context!r} in the kubeconfig")
        api = config.new_client_from_config(config_file=path, context=opts.context)
    except (ConfigException, OSError) as exc:
        raise ClusterError(f"cannot use {shown}: {exc}") from None
    except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError) as exc:
        # a malformed file the client reads without checking its shape
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(f"cannot use {shown}: not a kubeconfig ({problem})") from None
    return Cluster(api, name, sleep)


def _read_aggregated(item: dict[str, Any], found: Discovery) -> None:
    """One APIGroupDiscovery (apidiscovery.k8s.io v2/v2beta1): versions in preference order."""
    group = str((item.get("metadata") or {}).get("name") or "")
    for n, entry in enumerate(item.get("versions") or []):
        version = str(entry.get("version"))
        found.versions.append((group, version))
        if n == 0:
            found.preferred[group] = version
        api_version = api_version_of(group, version)
        found.resources[api_version] = {
            r["responseKind"]["kind"]: Resource(
                api_version,
                r["resource"],
                r["responseKind"]["kind"],
                r.get("scope") == "Namespaced",
            )
            for r in entry.get("resources") or []
            if "list" in (r.get("verbs") or []) and (r.get("responseKind") or {}).get("kind")
        }


def _reason(exc: Exception) -> str:
    """The innermost cause in words (urllib3 wraps it in a MaxRetryError)."""
    inner = getattr(exc, "reason", None)
    return str(inner or exc)


def _get(
    api: ApiClient, path: str, query: list[tuple[str, Any]] | None, accept: str
) -> dict[str, Any]:
    """One GET through the client's own auth and TLS settings; ApiException on >= 400."""
    from kubernetes.client.exceptions import ApiException

    method, url, headers, body, post = api.param_serialize(
        "GET",
        path,
        query_params=query or [],
        header_params={"Accept": accept},
        auth_settings=["BearerToken"],
    )
    response = api.call_api(method, url, headers, body, post, _request_timeout=TIMEOUT)
    data = response.read()
    if response.status >= 400:
        raise ApiException(status=response.status, reason=response.reason, body=data)
    return jsontext.loads(data)  # nesting bounded
