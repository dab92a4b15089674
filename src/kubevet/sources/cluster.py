"""A live cluster (or a `kubectl get -o yaml` snapshot) as an input: the objects kubevet's
rules read, listed read-only through the official Kubernetes client, normalised so a
cluster object is checked like the file it was applied from.

- Discovery first (`/api`, `/apis`): only kinds the cluster serves are listed.
- Lists page with `limit`/`continue`; an expired continue token (410 Gone) restarts that
  list; a kind the user may not list (403) is skipped with one warning; transient errors
  (429, 5xx) are retried with backoff. Nothing is ever written to the cluster.
- Server-populated fields (status, managedFields, resourceVersion, uid, ...) are dropped,
  and pods are checked through their owners: one finding per Deployment, not per replica;
  bare and static pods as themselves.
- Objects of a Helm release name it (chart and version from the release's annotations and
  Secret), so findings say which release to change.

The `kubernetes` package is imported only here, when a cluster is read.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from kubevet.context import InputGroup
from kubevet.model import K8sObject, Origin

# (group, version, plural, kind): what rules, netpol, upgrade and footprint read.
KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("", "v1", "pods", "Pod"),
    ("", "v1", "services", "Service"),
    ("", "v1", "serviceaccounts", "ServiceAccount"),
    ("", "v1", "namespaces", "Namespace"),
    ("", "v1", "limitranges", "LimitRange"),
    ("", "v1", "resourcequotas", "ResourceQuota"),
    ("apps", "v1", "deployments", "Deployment"),
    ("apps", "v1", "statefulsets", "StatefulSet"),
    ("apps", "v1", "daemonsets", "DaemonSet"),
    ("apps", "v1", "replicasets", "ReplicaSet"),
    ("batch", "v1", "jobs", "Job"),
    ("batch", "v1", "cronjobs", "CronJob"),
    ("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy"),
    ("networking.k8s.io", "v1", "ingresses", "Ingress"),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding"),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget"),
    ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
    ("autoscaling.k8s.io", "v1", "verticalpodautoscalers", "VerticalPodAutoscaler"),
    ("keda.sh", "v1alpha1", "scaledobjects", "ScaledObject"),
    ("policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies", "AdminNetworkPolicy"),
    (
        "policy.networking.k8s.io",
        "v1alpha1",
        "baselineadminnetworkpolicies",
        "BaselineAdminNetworkPolicy",
    ),
    ("cilium.io", "v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy"),
    ("cilium.io", "v2", "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy"),
)

PAGE = 500
RETRIES = 4
SERVER_FIELDS = (
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
)
RELEASE_ANNOTATION = "meta.helm.sh/release-name"


@dataclass
class ClusterOptions:
    kubeconfig: str | None = None  # default: $KUBECONFIG, else ~/.kube/config
    context: str | None = None  # default: the current context
    namespace: str | None = None  # None: every namespace


class ClusterError(Exception):
    """The cluster cannot be read at all (no kubeconfig, unreachable, unauthorised)."""


def load_cluster(opts: ClusterOptions, sleep: Any = time.sleep) -> InputGroup:
    api, context = _client(opts)
    label = f"cluster {context}" + (f" (namespace {opts.namespace})" if opts.namespace else "")
    group = InputGroup(label=label, source="cluster")
    served = _served(api)
    raw: list[dict[str, Any]] = []
    for g, v, plural, kind in KINDS:
        api_version = f"{g}/{v}" if g else v
        resource = served.get(api_version, {}).get(plural)
        if resource is None:
            continue  # this cluster does not serve it
        if opts.namespace and not resource["namespaced"]:
            continue  # cluster-wide kinds are out of a one-namespace read
        items = _list(
            api, api_version, plural, resource["namespaced"], opts.namespace, group, sleep
        )
        raw.extend({"apiVersion": api_version, "kind": kind, **item} for item in items)
    for data in fold_pods([normalize(d) for d in raw]):
        group.objects.append(K8sObject(data, Origin("", 0, release=_release(data))))
    return group


def load_cluster_input(opts: ClusterOptions) -> InputGroup:
    """`load_cluster`, with a cluster that cannot be read as an input error."""
    from kubevet.findings import InputError

    try:
        return load_cluster(opts)
    except ClusterError as exc:
        where = opts.kubeconfig or "kubeconfig"
        return InputGroup(label="cluster", source="cluster", errors=[InputError(where, str(exc))])


def _client(opts: ClusterOptions) -> tuple[Any, str]:
    try:
        from kubernetes import config
        from kubernetes.config.config_exception import ConfigException
    except ImportError:  # pragma: no cover - a dependency
        raise ClusterError("reading a cluster needs the 'kubernetes' package") from None
    try:
        contexts, current = config.list_kube_config_contexts(config_file=opts.kubeconfig)
        name = opts.context or (current or {}).get("name", "")
        if opts.context and opts.context not in {c["name"] for c in contexts}:
            raise ClusterError(f"no context {opts.context!r} in the kubeconfig")
        api = config.new_client_from_config(config_file=opts.kubeconfig, context=opts.context)
    except (ConfigException, OSError) as exc:
        raise ClusterError(f"cannot use the kubeconfig: {exc}") from None
    return api, name


def _get(api: Any, path: str, query: list[tuple[str, Any]] | None = None) -> dict[str, Any]:
    """One GET through the client's own auth and TLS settings; ApiException on >= 400."""
    from kubernetes.client.exceptions import ApiException

    method, url, headers, body, post = api.param_serialize(
        "GET",
        path,
        query_params=query or [],
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
    )
    response = api.call_api(method, url, headers, body, post)
    data = response.read()
    if response.status >= 400:
        raise ApiException(status=response.status, reason=response.reason, body=data)
    return json.loads(data)


def _served(api: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """group/version -> plural -> {namespaced}, from the discovery documents."""
    versions = [("", v) for v in _call(api, "/api").get("versions", [])]
    for g in _call(api, "/apis").get("groups", []):
        versions += [(g["name"], v["version"]) for v in g.get("versions", [])]
    wanted = {(g, v) for g, v, _, _ in KINDS}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for group_name, version in versions:
        if (group_name, version) not in wanted:
            continue
        path = f"/apis/{group_name}/{version}" if group_name else f"/api/{version}"
        doc = _call(api, path)
        key = f"{group_name}/{version}" if group_name else version
        out[key] = {
            r["name"]: {"namespaced": bool(r.get("namespaced"))}
            for r in doc.get("resources", [])
            if "/" not in r["name"] and "list" in r.get("verbs", [])
        }
    return out


def _call(
    api: Any, path: str, query: list[tuple[str, Any]] | None = None, sleep: Any = None
) -> dict:
    from kubernetes.client.exceptions import ApiException

    delay = 0.5
    for attempt in range(RETRIES):
        try:
            return _get(api, path, query)
        except ApiException as exc:
            if exc.status in (429, 500, 502, 503, 504) and attempt < RETRIES - 1:
                (sleep or time.sleep)(delay)
                delay *= 2
                continue
            raise
        except OSError as exc:
            raise ClusterError(f"cannot reach the cluster: {exc}") from None
    raise AssertionError("unreachable")


def _list(
    api: Any,
    api_version: str,
    plural: str,
    namespaced: bool,
    namespace: str | None,
    group: InputGroup,
    sleep: Any,
) -> list[dict[str, Any]]:
    from kubernetes.client.exceptions import ApiException

    base = "/api/" + api_version if "/" not in api_version else "/apis/" + api_version
    if namespaced and namespace:
        base += f"/namespaces/{namespace}"
    path = f"{base}/{plural}"
    for _restart in range(3):  # an expired continue token restarts the list
        items: list[dict[str, Any]] = []
        token = ""
        try:
            while True:
                query: list[tuple[str, Any]] = [("limit", PAGE)]
                if token:
                    query.append(("continue", token))
                page = _call(api, path, query, sleep)
                items.extend(page.get("items") or [])
                token = (page.get("metadata") or {}).get("continue") or ""
                if not token:
                    return items
        except ApiException as exc:
            if exc.status == 410:
                continue
            if exc.status in (401, 403):
                group.warnings.append(f"cannot list {plural} ({api_version}): forbidden, skipped")
                return []
            raise ClusterError(f"listing {plural}: HTTP {exc.status} {exc.reason}") from None
    group.warnings.append(f"{plural} ({api_version}): the list kept expiring, skipped")
    return []


def normalize(data: dict[str, Any]) -> dict[str, Any]:
    """The object as it was applied: no status, no server bookkeeping in its metadata."""
    data = {k: v for k, v in data.items() if k != "status"}
    meta = dict(data.get("metadata") or {})
    for key in SERVER_FIELDS:
        meta.pop(key, None)
    data["metadata"] = meta
    return data


# Kinds whose objects a controller makes from a template the owner already holds.
_OWNED = {
    "Pod": {"ReplicaSet", "Job", "StatefulSet", "DaemonSet", "ReplicationController"},
    "ReplicaSet": {"Deployment"},
    "Job": {"CronJob"},
}


def fold_pods(objects: list[Any], data_of: Any = None) -> list[Any]:
    """Leave out what a listed controller made (a Deployment's ReplicaSets and their pods, a
    CronJob's Jobs...): its owner is checked once instead. Bare pods, static and mirror pods
    (owned by a Node) stay. `data_of` gives an item's object mapping (default: the item)."""
    datas = [_shape(data_of(o) if data_of else o) for o in objects]
    present = {(d["kind"], d["namespace"], d["name"]) for d in datas}
    kept = []
    for item, d in zip(objects, datas, strict=True):
        owners = _OWNED.get(d["kind"], set())
        made = any(
            isinstance(ref, dict)
            and ref.get("controller")
            and ref.get("kind") in owners
            and (ref.get("kind"), d["namespace"], ref.get("name")) in present
            for ref in d["owners"]
        )
        if not made:
            kept.append(item)
    return kept


def _shape(data: dict[str, Any]) -> dict[str, Any]:
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    owners = meta.get("ownerReferences")
    return {
        "kind": data.get("kind"),
        "namespace": meta.get("namespace") or "",
        "name": meta.get("name"),
        "owners": owners if isinstance(owners, list) else [],
    }


def as_snapshot(group: InputGroup) -> None:
    """Read `kubectl get -o yaml` dumps as a cluster snapshot: server fields dropped and
    pods folded into their owners, as for a live cluster (field lines stay exact)."""
    group.objects = [
        K8sObject(normalize(o.data), o.origin, o.source, o.default_namespace)
        for o in fold_pods(group.objects, lambda o: o.data)
    ]
    group._index = None


def _release(data: dict[str, Any]) -> str | None:
    notes = (data.get("metadata") or {}).get("annotations") or {}
    return notes.get(RELEASE_ANNOTATION)
