"""Objects -> the analysis model: workloads, namespaces, policies, exposure.

Parsing is strict where the API server is strict (a policy it would reject is reported
with its file, line and reason, and left out) and lenient elsewhere (unknown kinds are
ignored).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubevet.findings import InputError
from kubevet.model import WORKLOAD_KINDS, K8sObject, Path
from kubevet.netpol.conns import Intervals, normalize
from kubevet.netpol.ipranges import block, cidr_interval

NP_API = "networking.k8s.io/"
ADMIN_API = "policy.networking.k8s.io/"
CILIUM_API = "cilium.io/"
CILIUM_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")
NS_NAME_LABEL = "kubernetes.io/metadata.name"
# Network extensions beyond Kubernetes and the policy API (out of scope, reported).
UNSUPPORTED_KINDS = {
    "UserDefinedNetwork": "OVN-Kubernetes user-defined network",
    "ClusterUserDefinedNetwork": "OVN-Kubernetes cluster user-defined network",
    "NetworkAttachmentDefinition": "Multus secondary network",
    "MultiNetworkPolicy": "Multus multi-network policy",
    "VirtualMachine": "KubeVirt virtual machine",
    "VirtualMachineInstance": "KubeVirt virtual machine",
}


class NetpolError(ValueError):
    """A policy or object the analysis cannot interpret; names the object, and the field
    (`path`, inside the object) when the fault is in one."""

    def __init__(self, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.path = path


@dataclass
class Workload:
    namespace: str
    name: str
    kind: str
    labels: dict[str, str]
    ports: tuple[tuple[str, int, str], ...]  # (name, containerPort, protocol)
    obj: K8sObject | None = None  # the first object this workload was read from
    service_account: str = "default"  # Cilium selects on it

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}[{self.kind}]"


@dataclass
class PortSpec:
    """One port entry: a protocol with a numeric range, or a named port."""

    protocol: str | None  # None: any protocol (ANP namedPort)
    start: int | None = None  # None with name None: every port
    end: int | None = None
    name: str | None = None


@dataclass
class Peer:
    """Pods (namespace selector None = the policy's own namespace) or addresses."""

    pod_selector: dict[str, Any] | None = None
    ns_selector: dict[str, Any] | None = None
    own_namespace: str | None = None
    ips: Intervals | None = None
    matches_all: bool = False  # a fail-closed Deny/Pass peer, or an omitted from/to
    # Cilium: a selector over identity labels (pod labels, namespace, namespace labels,
    # service account), namespace scoping already added; or the world/cluster entities.
    identity_selector: dict[str, Any] | None = None
    external: bool = False  # every address outside the cluster (Cilium `world`)
    # Cilium `toServices`: (namespace, "" for any; service name or None; label selector)
    service: tuple[str, str | None, dict[str, Any] | None] | None = None
    cluster: bool = False  # every pod of the cluster (Cilium `cluster`)


@dataclass
class Rule:
    peers: list[Peer]  # empty: nothing
    ports: list[PortSpec] | None  # None: every connection
    action: str = "Allow"
    name: str = ""


@dataclass
class Policy:
    kind: str  # NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy
    name: str
    namespace: str | None
    subject_pods: dict[str, Any] | None  # pod selector
    subject_ns: dict[str, Any] | None  # namespace selector (None: own namespace)
    ingress: list[Rule] | None  # None: does not affect this direction
    egress: list[Rule] | None
    priority: int = 0
    obj: K8sObject | None = None
    # Cilium: per direction, whether the policy puts its subjects in default deny
    # (NetworkPolicy: whenever the direction is listed, i.e. its rules are not None).
    default_deny: tuple[bool, bool] | None = None  # (ingress, egress)
    at: Path = ("spec",)  # where the rule sits in the object (Cilium `specs[i]`)

    @property
    def label(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"

    @property
    def cilium(self) -> bool:
        return self.kind in CILIUM_KINDS

    def isolates(self, direction: str) -> bool:
        """Whether a subject of this policy is default-deny in `direction`."""
        if self.default_deny is not None:
            return self.default_deny[direction == "egress"]
        return (self.ingress if direction == "ingress" else self.egress) is not None


@dataclass
class ServiceRef:
    """A Service, for Cilium `toServices` peers (its pods: those its selector picks)."""

    namespace: str
    name: str
    labels: dict[str, str]
    selector: dict[str, str]  # empty: no selector (endpoints managed elsewhere)


@dataclass
class Exposure:
    """An Ingress or Route backend: pods selected by a Service, and the target port."""

    namespace: str
    selector: dict[str, Any]
    target: int | str | None  # number, container port name, or None: every port
    protocol: str = "TCP"


@dataclass
class Resources:
    workloads: list[Workload] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    policies: list[Policy] = field(default_factory=list)
    exposures: list[Exposure] = field(default_factory=list)
    services: list[ServiceRef] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)  # policies left out, and why


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
            from kubevet.netpol.cilium import parse_cilium

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


def _ns(obj: K8sObject) -> str:
    return obj.namespace or "default"


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
            from kubevet.sources.yamldocs import locate_many

            line = locate_many(doc.text, doc.first_line, doc.index, [exc.path])[0] or line
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


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _dict(value).items()}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _list(value: Any, label: str, at: Path) -> list[Any]:
    """A list field (absent: empty); anything else is an error at `at`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise NetpolError(f"{label}: {_field(at)} must be a list", at)
    return value


def _field(at: Path) -> str:
    from kubevet.model import format_path

    return format_path(at)


def _int(value: Any) -> int | None:
    """An integer field (numeric strings too, as the API's IntOrString); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


# --- NetworkPolicy -------------------------------------------------------------------


def _spec(obj: K8sObject, label: str) -> dict[str, Any]:
    spec = obj.data.get("spec")
    if spec is not None and not isinstance(spec, dict):
        raise NetpolError(f"{label}: spec must be a mapping", ("spec",))
    return spec or {}


def parse_netpol(obj: K8sObject, warnings: list[str]) -> Policy:
    ns = _ns(obj)
    label = f"NetworkPolicy {ns}/{obj.name}"
    spec = _spec(obj, label)
    types = spec.get("policyTypes")
    if types is None:
        types = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    types = [str(t) for t in _list(types, label, ("spec", "policyTypes"))]
    for i, t in enumerate(types):
        if t not in ("Ingress", "Egress"):
            raise NetpolError(f"{label}: unknown policyType {t!r}", ("spec", "policyTypes", i))
    rules = {}
    for direction, key, peer_key in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
        if direction not in types:
            rules[key] = None
            continue
        items = _list(spec.get(key), label, ("spec", key))
        rules[key] = [
            _np_rule(_dict(r), peer_key, ns, label, ("spec", key, i), warnings)
            for i, r in enumerate(items)
        ]
    return Policy(
        "NetworkPolicy",
        obj.name,
        ns,
        _selector(spec.get("podSelector")),
        None,
        rules["ingress"],
        rules["egress"],
        obj=obj,
    )


def _np_rule(
    rule: dict[str, Any], peer_key: str, ns: str, label: str, at: Path, w: list[str]
) -> Rule:
    raw_peers = _list(rule.get(peer_key), label, (*at, peer_key))
    peers = [_np_peer(_dict(p), ns, label, (*at, peer_key, i), w) for i, p in enumerate(raw_peers)]
    if not raw_peers:
        peers = [Peer(matches_all=True)]
    raw_ports = _list(rule.get("ports"), label, (*at, "ports"))
    ports = [_np_port(_dict(p), label, (*at, "ports", i)) for i, p in enumerate(raw_ports)]
    return Rule([p for p in peers if p is not None], ports or None)


def _np_peer(
    peer: dict[str, Any], ns: str, label: str, at: Path, warnings: list[str]
) -> Peer | None:
    if "ipBlock" in peer:
        ipb = _dict(peer["ipBlock"])
        excepts = _list(ipb.get("except"), label, (*at, "ipBlock", "except"))
        try:
            return Peer(ips=block(str(ipb.get("cidr", "")), [str(e) for e in excepts]))
        except ValueError as exc:
            raise NetpolError(f"{label}: bad ipBlock: {exc}", (*at, "ipBlock")) from None
    if "podSelector" not in peer and "namespaceSelector" not in peer:
        raise NetpolError(f"{label}: a peer needs podSelector, namespaceSelector or ipBlock", at)
    ns_sel = peer.get("namespaceSelector")
    return Peer(
        pod_selector=_selector(peer.get("podSelector")),
        ns_selector=_selector(ns_sel) if "namespaceSelector" in peer else None,
        own_namespace=None if "namespaceSelector" in peer else ns,
    )


def _np_port(port: dict[str, Any], label: str, at: Path) -> PortSpec:
    proto = str(port.get("protocol") or "TCP").upper()
    if proto not in ("TCP", "UDP", "SCTP"):
        raise NetpolError(f"{label}: unknown protocol {proto!r}", (*at, "protocol"))
    value, end = port.get("port"), port.get("endPort")
    if value is None:
        return PortSpec(proto)
    if isinstance(value, str) and not value.strip().isdigit():
        if end is not None:
            raise NetpolError(f"{label}: endPort needs a numeric port", (*at, "endPort"))
        return PortSpec(proto, name=value)
    start = _int(value)
    stop = start if end is None else _int(end)
    if start is None or stop is None or not 1 <= start <= stop <= 65535:
        raise NetpolError(f"{label}: bad port range {value}-{end or value}", at)
    return PortSpec(proto, start, stop)


def _selector(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- AdminNetworkPolicy / BaselineAdminNetworkPolicy -----------------------------------


def parse_admin(obj: K8sObject, warnings: list[str]) -> Policy:
    label = f"{obj.kind} {obj.name}"
    spec = _spec(obj, label)
    banp = obj.kind == "BaselineAdminNetworkPolicy"
    if banp and obj.name != "default":
        warnings.append(f"{label}: a BaselineAdminNetworkPolicy must be named 'default'")
    priority = 0
    if not banp:
        priority = spec.get("priority")
        if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 1000:
            raise NetpolError(
                f"{label}: priority must be an integer from 0 to 1000", ("spec", "priority")
            )
    subject = _dict(spec.get("subject"))
    if "namespaces" in subject:
        pods, nss = {}, _selector(subject.get("namespaces"))
    elif "pods" in subject:
        sub = _dict(subject.get("pods"))
        pods, nss = _selector(sub.get("podSelector")), _selector(sub.get("namespaceSelector"))
    else:
        raise NetpolError(f"{label}: subject needs namespaces or pods", ("spec", "subject"))
    actions = ("Allow", "Deny") if banp else ("Allow", "Deny", "Pass")
    rules: dict[str, list[Rule]] = {}
    for key, peer_key in (("ingress", "from"), ("egress", "to")):
        items = _list(spec.get(key), label, ("spec", key))
        rules[key] = [
            _admin_rule(_dict(r), peer_key, actions, label, ("spec", key, i), warnings)
            for i, r in enumerate(items)
        ]
    return Policy(
        obj.kind, obj.name, None, pods, nss, rules["ingress"], rules["egress"], priority, obj
    )


def _admin_rule(
    rule: dict[str, Any],
    peer_key: str,
    actions: tuple[str, ...],
    label: str,
    at: Path,
    w: list[str],
) -> Rule:
    name = str(rule.get("name", ""))
    where = f"{label} rule {name!r}"
    action = str(rule.get("action", ""))
    if action not in actions:
        raise NetpolError(f"{where}: action must be one of {', '.join(actions)}", (*at, "action"))
    raw_peers = _list(rule.get(peer_key), where, (*at, peer_key))
    if not raw_peers:
        raise NetpolError(f"{where}: needs at least one peer in {peer_key!r}", at)
    peers = [
        _admin_peer(_dict(p), action, where, (*at, peer_key, i), w) for i, p in enumerate(raw_peers)
    ]
    raw_ports = _list(rule.get("ports"), where, (*at, "ports"))
    ports = [_admin_port(_dict(p), where, (*at, "ports", i)) for i, p in enumerate(raw_ports)]
    return Rule([p for p in peers if p], ports or None, action, name)


def _admin_peer(
    peer: dict[str, Any], action: str, where: str, at: Path, w: list[str]
) -> Peer | None:
    if "namespaces" in peer:
        return Peer(pod_selector={}, ns_selector=_selector(peer.get("namespaces")))
    if "pods" in peer:
        sub = _dict(peer.get("pods"))
        return Peer(
            pod_selector=_selector(sub.get("podSelector")),
            ns_selector=_selector(sub.get("namespaceSelector")),
        )
    if "networks" in peer:
        return _networks_peer(peer, where, (*at, "networks"), w)
    if "nodes" in peer:
        w.append(f"{where}: the nodes peer is not supported (it matches nothing here)")
        return None
    # A peer with no known field comes from a newer API: fail closed (spec v0.1.5).
    w.append(f"{where}: peer without a known field: treated fail-closed")
    return Peer(matches_all=True) if action != "Allow" else None


def _networks_peer(peer: dict[str, Any], where: str, at: Path, w: list[str]) -> Peer | None:
    ranges: list[tuple[int, int]] = []
    for i, cidr in enumerate(_list(peer.get("networks"), where, at)):
        try:
            ranges.append(cidr_interval(str(cidr)))
        except ValueError as exc:
            raise NetpolError(f"{where}: bad network CIDR: {exc}", (*at, i)) from None
    return Peer(ips=normalize(ranges)) if ranges else None


def _admin_port(port: dict[str, Any], where: str, at: Path) -> PortSpec:
    if "portNumber" in port:
        pn = _dict(port["portNumber"])
        num = pn.get("port")
        if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= 65535:
            raise NetpolError(f"{where}: portNumber.port must be 1-65535", (*at, "portNumber"))
        return PortSpec(_proto(pn.get("protocol"), where, (*at, "portNumber")), num, num)
    if "portRange" in port:
        pr = _dict(port["portRange"])
        start, end = pr.get("start"), pr.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or not 1 <= start <= end:
            raise NetpolError(f"{where}: portRange needs 1 <= start <= end", (*at, "portRange"))
        proto = _proto(pr.get("protocol"), where, (*at, "portRange"))
        return PortSpec(proto, start, min(end, 65535))
    if "namedPort" in port:
        return PortSpec(None, name=str(port["namedPort"]))
    raise NetpolError(f"{where}: a port needs portNumber, portRange or namedPort", at)


def _proto(value: Any, where: str, at: Path) -> str:
    proto = str(value or "TCP").upper()
    if proto not in ("TCP", "UDP", "SCTP"):
        raise NetpolError(f"{where}: unknown protocol {proto!r}", (*at, "protocol"))
    return proto


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
    backends = [_dict(spec.get("defaultBackend") or spec.get("backend"))]
    for r in spec.get("rules") or []:
        for p in _dict(_dict(r).get("http")).get("paths") or []:
            backends.append(_dict(_dict(p).get("backend")))
    out = []
    for b in backends:
        svc = _dict(b.get("service"))
        if svc.get("name"):
            port = _dict(svc.get("port"))
            out.append((str(svc["name"]), port.get("number", port.get("name"))))
    return out


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
