"""NetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy -> Policy.

Parsing is strict where the API server is strict: a policy it would reject raises
NetpolError with the field and the reason, and is left out of the analysis."""

from __future__ import annotations

from typing import Any

from kubevet.model import K8sObject, Path
from kubevet.netpol.conns import normalize
from kubevet.netpol.ipranges import block, cidr_interval
from kubevet.netpol.types import (
    NetpolError,
    Peer,
    Policy,
    PortSpec,
    Rule,
    _dict,
    _int,
    _list,
    _ns,
    _spec,
)


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
