"""Objects -> the analysis model: workloads, namespaces, policies, exposure.

Parsing is strict where the API server is strict (a policy it would reject is reported
with its file, line and reason, and left out) and lenient elsewhere (unknown kinds are
ignored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubevet.backends import ingress_backends
from kubevet.findings import InputError
from kubevet.model import WORKLOAD_KINDS, K8sObject
from kubevet.netpol.cilium import parse_cilium
from kubevet.netpol.policies import parse_admin, parse_netpol
from kubevet.netpol.types import (
    ADMIN_API,
    CILIUM_API,
    CILIUM_KINDS,
    NP_API,
    NS_NAME_LABEL,
    UNSUPPORTED_KINDS,
    Exposure,
    NetpolError,
    Policy,
    Resources,
    ServiceRef,
    Workload,
    _as_list,
    _dict,
    _labels,
    _ns,
)


def collect(objects: list[K8sObject]) -> Resources:
    """Build the analysis model. A policy the API server would reject is left out and
    reported in `errors` (file, line, reason); the rest is still analysed."""
    res = Resources()
    services: dict[tuple[str, str], dict[str, Any]] = {}
    routes: list[K8sObject] = []
    seen: dict[str, Workload] = {}
    for obj in objects:
        kind = obj.kind
        if kind in UNSUPPORTED_KINDS:
            res.unsupported.append(f"{kind} {_ns(obj)}/{obj.name} ({UNSUPPORTED_KINDS[kind]})")
        elif kind == "Namespace":
            res.namespaces[obj.name] = _labels(obj.labels)
        elif kind in WORKLOAD_KINDS and obj.pod is not None:
            _add_workload(res, obj, seen)
        elif kind == "NetworkPolicy" and obj.api_version.startswith(NP_API):
            _add_policy(res, obj, parse_netpol)
        elif kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy"):
            if obj.api_version.startswith(ADMIN_API):
                _add_policy(res, obj, parse_admin)
        elif kind in CILIUM_KINDS and obj.api_version.startswith(CILIUM_API):
            _add_policy(res, obj, parse_cilium)
        elif kind == "Service":
            services[(_ns(obj), obj.name)] = _dict(obj.data.get("spec"))
            selector = _labels(_dict(obj.data.get("spec")).get("selector"))
            res.services.append(ServiceRef(_ns(obj), obj.name, _labels(obj.labels), selector))
        elif kind in ("Ingress", "Route"):
            routes.append(obj)
    for w in res.workloads:
        res.namespaces.setdefault(w.namespace, {})
    for name, labels in res.namespaces.items():
        labels.setdefault(NS_NAME_LABEL, name)
    for obj in routes:
        res.exposures.extend(_exposures(obj, services))
    return res


def _add_policy(
    res: Resources, obj: K8sObject, parse: Callable[[K8sObject, list[str]], Policy | list[Policy]]
) -> None:
    """Add the policy (a Cilium object may hold several rules), or report why it is left out."""
    try:
        parsed = parse(obj, res.warnings)
        res.policies.extend(parsed if isinstance(parsed, list) else [parsed])
    except NetpolError as exc:
        res.errors.append(input_error(obj, exc))


def input_error(obj: K8sObject, exc: NetpolError) -> InputError:
    """The error at the faulty field's line (the object's first line when unknown).
    A line counted in rendered chart output is left out: it is not a line of the file."""
    line: int | None = None
    if not obj.origin.rendered:
        line = obj.origin.line
        doc = obj.source
        if exc.path and doc is not None and hasattr(doc, "first_line"):
            from kubevet.sources.yamldocs import locate_in

            line = locate_in(doc, [exc.path])[0] or line
    return InputError(obj.origin.file, f"{exc} (policy left out of the analysis)", line)


def _add_workload(res: Resources, obj: K8sObject, seen: dict[str, Workload]) -> None:
    assert obj.pod is not None
    name, kind = obj.name, obj.kind
    owners = [o for o in _as_list(obj.metadata.get("ownerReferences")) if isinstance(o, dict)]
    # Static and mirror pods name their Node as owner: each is a workload of its own.
    if kind == "Pod" and owners and owners[0].get("kind") != "Node":
        name, kind = str(owners[0].get("name", name)), str(owners[0].get("kind", kind))
    ports = []
    for c in obj.pod.containers:
        for p in _as_list(c.data.get("ports")):
            if isinstance(p, dict) and isinstance(p.get("containerPort"), int):
                proto = str(p.get("protocol") or "TCP").upper()
                ports.append((str(p.get("name") or ""), p["containerPort"], proto))
    labels = _labels(obj.pod.metadata.get("labels"))
    account = obj.pod.spec.get("serviceAccountName") or obj.pod.spec.get("serviceAccount")
    w = Workload(_ns(obj), name, kind, labels, tuple(ports), obj, str(account or "default"))
    other = seen.get(w.key)
    if other is not None:  # pods of one owner: one workload
        other.ports = tuple(dict.fromkeys(other.ports + w.ports))
        return
    seen[w.key] = w
    res.workloads.append(w)


# --- Ingress and Route exposure -------------------------------------------------------


def _exposures(obj: K8sObject, services: dict[tuple[str, str], dict[str, Any]]) -> list[Exposure]:
    ns = _ns(obj)
    out: list[Exposure] = []
    for svc_name, port in backends(obj):
        svc = services.get((ns, svc_name))
        if svc is None or not isinstance(svc.get("selector"), dict):
            continue
        for target, proto in _targets(svc, port, obj.kind == "Route"):
            out.append(Exposure(ns, svc["selector"], target, proto))
    return out


def backends(obj: K8sObject) -> list[tuple[str, Any]]:
    """(Service name, port or None) of each backend of an Ingress or Route."""
    spec = _dict(obj.data.get("spec"))
    if obj.kind == "Route":
        port = _dict(spec.get("port")).get("targetPort")
        names = [_dict(spec.get("to")).get("name")]
        names += [_dict(b).get("name") for b in spec.get("alternateBackends") or []]
        return [(str(n), port) for n in names if n]
    return [(name, port) for _, name, port in ingress_backends(obj)]


def _targets(svc: dict[str, Any], port: Any, route: bool) -> list[tuple[int | str | None, str]]:
    """The pod-side ports a backend reaches through the Service."""
    out: list[tuple[int | str | None, str]] = []
    for sp in svc.get("ports") or []:
        sp = _dict(sp)
        target = sp.get("targetPort", sp.get("port"))
        proto = str(sp.get("protocol") or "TCP").upper()
        if _port_matches(port, sp, target, route):
            out.append((target, proto))
    if not out and route and port is not None:
        out.append((port, "TCP"))  # a Route may name the pod's target port directly
    return out


def _port_matches(port: Any, sp: dict[str, Any], target: Any, route: bool) -> bool:
    """Whether a backend's port (None: all; number; name) picks this Service port."""
    if port is None:
        return True
    if isinstance(port, int):
        return port == sp.get("port") or (route and port == target)
    return port == sp.get("name")
