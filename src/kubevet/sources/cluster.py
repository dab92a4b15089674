"""A live cluster (or a `kubectl get -o yaml` snapshot) as an input: the objects kubevet's
rules read, listed read-only through the official Kubernetes client, normalised so a
cluster object is checked like the file it was applied from.

- Discovery first (`/api`, `/apis`): only kinds the cluster serves are listed.
- Lists page with `limit`/`continue`; an expired continue token (410 Gone) restarts that
  list; a kind the user may not list (403) is skipped with one warning; transient errors
  (429, 5xx) are retried with backoff (kubevet.sources.kubeapi). Nothing is ever written.
- Server-populated fields (status, managedFields, resourceVersion, uid, ...) are dropped,
  and pods are checked through their owners: one finding per Deployment, not per replica;
  bare and static pods as themselves.
- Objects of a Helm release name it (`meta.helm.sh/release-name`), and the deployed
  release Secrets are read beside them (`group.releases`), so findings can be traced to
  the release's chart and values (kubevet.sources.clustertrace).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from kubevet.context import InputGroup
from kubevet.model import K8sObject, Origin
from kubevet.sources.kubeapi import (
    Cluster,
    ClusterError,
    ClusterOptions,
    Discovery,
    Resource,
    Sleep,
    api_version_of,
    connect,
)

__all__ = ["ClusterError", "ClusterOptions", "load_cluster", "read_cluster"]

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

SERVER_FIELDS = (
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
)
RELEASE_ANNOTATION = "meta.helm.sh/release-name"
# Helm's Secret driver labels each revision; the deployed one is what runs.
RELEASE_SECRETS = Resource("v1", "secrets", "Secret", True)
RELEASE_LABELS = "owner=helm,status=deployed"


def load_cluster(opts: ClusterOptions, sleep: Sleep = time.sleep) -> InputGroup:
    cluster = connect(opts, sleep)
    groups = {g for g, _, _, _ in KINDS}
    found = cluster.discover(lambda g, _v: g in groups)
    kinds = [_served_version(found, g, v, kind) for g, v, _, kind in KINDS]
    return read_cluster(cluster, [r for r in kinds if r], opts.namespace)


def _served_version(found: Discovery, group: str, version: str, kind: str) -> Resource | None:
    """`kind` in `version` where served, else in the group's preferred version, else in
    any version the group serves it in (autoscaling/v2beta2 HPAs on a 1.22 cluster)."""
    versions = [version, found.preferred.get(group, "")]
    versions += [v for g, v in found.versions if g == group]
    for v in versions:
        res = found.resource(api_version_of(group, v), kind) if v else None
        if res:
            return res
    return None


def read_cluster(
    cluster: Cluster, kinds: list[Resource], namespace: str | None, releases: bool = True
) -> InputGroup:
    """The objects of `kinds` (cluster-wide kinds left out of a one-namespace read),
    normalised and folded, with the deployed Helm release Secrets in `group.releases`."""
    label = f"cluster {cluster.context}" + (f" (namespace {namespace})" if namespace else "")
    group = InputGroup(label=label, source="cluster")
    raw: list[dict[str, Any]] = []
    for res in kinds:
        if res.namespaced or not namespace:
            raw.extend(cluster.list(res, namespace))
    for data in fold_pods([normalize(d) for d in raw]):
        group.objects.append(K8sObject(data, Origin("", 0, release=_release(data))))
    if releases:
        for data in cluster.list(RELEASE_SECRETS, namespace, RELEASE_LABELS):
            group.releases.append(K8sObject(normalize(data), Origin("", 0)))
        group.kube_version = cluster.version() or None  # charts render as on this cluster
    group.warnings.extend(cluster.warnings)
    return group


def load_cluster_input(opts: ClusterOptions) -> InputGroup:
    """`load_cluster`, with a cluster that cannot be read as an input error."""
    from kubevet.findings import InputError

    try:
        return load_cluster(opts)
    except ClusterError as exc:
        where = opts.kubeconfig or "kubeconfig"
        return InputGroup(label="cluster", source="cluster", errors=[InputError(where, str(exc))])


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
    """Read `kubectl get -o yaml` dumps as a cluster snapshot: server fields dropped, pods
    folded into their owners and Helm release Secrets set aside (`group.releases`), as for
    a live cluster (field lines stay exact)."""
    from kubevet.sources.releases import is_release_object

    kept = []
    for o in fold_pods(group.objects, lambda o: o.data):
        data = normalize(o.data)
        origin = dataclasses.replace(o.origin, release=_release(data))
        obj = K8sObject(data, origin, o.source, o.default_namespace)
        (group.releases if is_release_object(obj) else kept).append(obj)
    group.objects = kept
    group._index = None


def _release(data: dict[str, Any]) -> str | None:
    notes = (data.get("metadata") or {}).get("annotations") or {}
    return notes.get(RELEASE_ANNOTATION)
