"""CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2): L3/L4 semantics.

Modelled after Cilium's documented policy language (docs.cilium.io, "Layer 3/4 Policies",
"Deny Policies", "Using Kubernetes Constructs in Policy"):

- Each rule (`spec`, or each item of `specs`) selects endpoints with `endpointSelector`;
  in a CiliumNetworkPolicy only pods of the policy's namespace. A `nodeSelector` rule is a
  host policy: nodes are outside this analysis, so it is reported and left out.
- Selectors match identity labels: the pod's labels, `io.kubernetes.pod.namespace`,
  `io.cilium.k8s.namespace.labels.<label>`, `io.cilium.k8s.policy.serviceaccount` and
  `io.cilium.k8s.policy.cluster`; a `k8s:` or `any:` source prefix is ignored.
- `fromEndpoints`/`toEndpoints` of a CiliumNetworkPolicy stay in the policy's namespace
  unless the selector names the namespace (or, for peers, namespace labels); those of a
  cluster-wide policy reach every namespace.
- The peer fields of one rule add up; a field given as an empty list selects nothing. A
  rule with no peer field allows every peer on its ports when it has `toPorts` (or
  `icmps`), and nothing at all otherwise (`ingress: [{}]` is the default-deny form).
- `toPorts`: ports ORed; `protocol` ANY (the default) is TCP, UDP and SCTP; `endPort`
  makes a range; port 0 or none is every port; a port name resolves on the destination.
  L7 rules (http, dns, kafka...) are treated as allowing the whole L4 port, with a warning.
- `toServices` names Services (by name or labels); their selectors pick the peer pods.
- CIDR peers (`fromCIDR`, `fromCIDRSet` with `except`) match addresses outside the
  cluster only, as Cilium documents. Entities: `world` is every outside address, `cluster`
  every pod, `all` both; the others (host, remote-node, kube-apiserver, ...) name nodes
  and agents this analysis has no peers for, and match nothing here (with a warning).
- A rule with a direction (allow or deny rules) puts its endpoints in default deny for it,
  unless `enableDefaultDeny` says otherwise. Deny rules win over every allow, including
  Kubernetes NetworkPolicy ones; Cilium and NetworkPolicy allows add up.
"""

from __future__ import annotations

from typing import Any

from kubevet.model import K8sObject, Path
from kubevet.netpol.ipranges import ALL_V4, ALL_V6, block
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

NS_LABEL = "io.kubernetes.pod.namespace"
NS_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."
SA_LABEL = "io.cilium.k8s.policy.serviceaccount"
CLUSTER_LABEL = "io.cilium.k8s.policy.cluster"
CLUSTER_NAME = "default"
ENTITIES = frozenset(
    {
        "all", "world", "world-ipv4", "world-ipv6", "cluster", "host", "remote-node",
        "kube-apiserver", "ingress", "init", "health", "unmanaged",
    }
)  # fmt: skip
PROTOCOLS = {"TCP": ("TCP",), "UDP": ("UDP",), "SCTP": ("SCTP",), "ANY": ("TCP", "UDP", "SCTP")}
# Peer fields per direction; the ones not modelled are reported and match nothing.
PEER_FIELDS = {
    "ingress": ("fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities"),
    "egress": ("toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toServices"),
}
UNMODELLED = {
    "ingress": ("fromNodes", "fromGroups", "fromRequires"),
    "egress": ("toNodes", "toGroups", "toRequires", "toFQDNs"),
}


def identity_labels(
    labels: dict[str, str], namespace: str, ns_labels: dict[str, str], account: str
) -> dict[str, str]:
    """The labels Cilium derives for a pod's security identity (source prefix dropped)."""
    out = dict(labels)
    out.update({f"{NS_LABELS_PREFIX}{k}": v for k, v in ns_labels.items()})
    out.update({NS_LABEL: namespace, SA_LABEL: account, CLUSTER_LABEL: CLUSTER_NAME})
    return out


def parse_cilium(obj: K8sObject, warnings: list[str]) -> list[Policy]:
    """One Policy per rule of the object (`spec` and each of `specs`)."""
    cluster_wide = obj.kind == "CiliumClusterwideNetworkPolicy"
    ns = None if cluster_wide else _ns(obj)
    label = f"{obj.kind} {ns}/{obj.name}" if ns else f"{obj.kind} {obj.name}"
    spec = _spec(obj, label)
    specs = _list(obj.data.get("specs"), label, ("specs",))
    rules: list[tuple[dict[str, Any], Path]] = []
    if "spec" in obj.data:
        rules.append((spec, ("spec",)))
    rules += [(_dict(r), ("specs", i)) for i, r in enumerate(specs)]
    if not rules:
        raise NetpolError(f"{label}: needs spec or specs", ())
    policies = []
    for rule, at in rules:
        where = label if at == ("spec",) else f"{label} specs[{at[1]}]"
        policy = _parse_rule(obj, rule, at, ns, where, warnings)
        if policy is not None:
            policies.append(policy)
    return policies


def _parse_rule(
    obj: K8sObject, rule: dict[str, Any], at: Path, ns: str | None, where: str, w: list[str]
) -> Policy | None:
    has_ep, has_node = "endpointSelector" in rule, "nodeSelector" in rule
    if has_ep == has_node:
        raise NetpolError(
            f"{where}: a rule needs exactly one of endpointSelector and nodeSelector", at
        )
    if has_node:
        w.append(f"{where}: a nodeSelector (host) policy is not modelled: nodes are not peers here")
        return None
    subject = _normalized(rule.get("endpointSelector"), where, (*at, "endpointSelector"))
    if ns is not None:  # the namespace of the policy, whatever the selector says
        subject["matchLabels"][NS_LABEL] = ns
    directions: dict[str, list[Rule]] = {}
    deny_flags = _dict(rule.get("enableDefaultDeny"))
    default_deny = []
    for direction in ("ingress", "egress"):
        allow = _list(rule.get(direction), where, (*at, direction))
        deny_key = f"{direction}Deny"
        deny = _list(rule.get(deny_key), where, (*at, deny_key))
        directions[direction] = [
            _peer_rule(_dict(r), direction, "Allow", ns, where, (*at, direction, i), w)
            for i, r in enumerate(allow)
        ] + [
            _peer_rule(_dict(r), direction, "Deny", ns, where, (*at, deny_key, i), w)
            for i, r in enumerate(deny)
        ]
        flag = deny_flags.get(direction)
        default_deny.append(bool(allow or deny) if not isinstance(flag, bool) else flag)
    return Policy(
        obj.kind,
        obj.name if at == ("spec",) else f"{obj.name}#{at[1]}",
        ns,
        subject,
        None,
        directions["ingress"] or None,
        directions["egress"] or None,
        obj=obj,
        default_deny=(default_deny[0], default_deny[1]),
        at=at,
    )


def _peer_rule(
    rule: dict[str, Any], direction: str, action: str, ns: str | None, where: str, at: Path,
    w: list[str],
) -> Rule:  # fmt: skip
    peers: list[Peer] = []
    given = False
    for key in PEER_FIELDS[direction] + UNMODELLED[direction]:
        if key not in rule:
            continue
        given = True
        items = _list(rule.get(key), where, (*at, key))
        if key in UNMODELLED[direction]:
            w.append(f"{where}: {key} is not modelled (matches nothing here)")
        elif key.endswith("Endpoints"):
            peers += [_endpoints(p, ns, where, (*at, key, i)) for i, p in enumerate(items)]
        elif key.endswith("Entities"):
            peers += _entities(items, where, (*at, key), w)
        elif key == "toServices":
            peers += [_service(p, where, (*at, key, i), w) for i, p in enumerate(items)]
        else:
            peers += [_cidr(p, key, where, (*at, key, i), w) for i, p in enumerate(items)]
    ports = _ports(rule, action, where, at, w)
    if not given:
        # No peer field: an L4-only rule allows its ports from/to every peer; a rule
        # without ports either (`{}`) selects nothing.
        peers = [Peer(matches_all=True)] if ports is not None else []
    return Rule(peers, ports, action)


def _normalized(value: Any, where: str, at: Path) -> dict[str, Any]:
    """A selector with source prefixes (`k8s:`, `any:`) taken off its keys."""
    if value is not None and not isinstance(value, dict):
        raise NetpolError(f"{where}: a selector must be a mapping", at)
    sel = _dict(value)
    labels = _dict(sel.get("matchLabels"))
    exprs = _list(sel.get("matchExpressions"), where, (*at, "matchExpressions"))
    return {
        "matchLabels": {_key(k): v for k, v in labels.items()},
        "matchExpressions": [
            {**_dict(e), "key": _key(_dict(e).get("key", ""))} for e in exprs if isinstance(e, dict)
        ],
    }


def _key(key: Any) -> str:
    """`k8s:app` and `any:app` are `app`; other sources (`reserved:host`) keep their prefix,
    which no pod label has: Kubernetes label keys cannot contain a colon."""
    text = str(key)
    source, sep, rest = text.partition(":")
    return rest if sep and source in ("k8s", "any") else text


def _endpoints(value: Any, ns: str | None, where: str, at: Path) -> Peer:
    sel = _normalized(value, where, at)
    keys = set(sel["matchLabels"]) | {e["key"] for e in sel["matchExpressions"]}
    if NS_LABEL not in keys:
        if ns is None:  # cluster-wide: any namespace, but only Kubernetes pods
            sel["matchExpressions"].append({"key": NS_LABEL, "operator": "Exists"})
        elif not any(k.startswith(NS_LABELS_PREFIX) for k in keys):
            sel["matchLabels"][NS_LABEL] = ns
    return Peer(identity_selector=sel)


def _service(value: Any, where: str, at: Path, w: list[str]) -> Peer:
    """A Service by name or by its labels (namespace omitted: any); its pods are the peers.
    A Service without a selector has backends Cilium turns into CIDRs: not modelled."""
    item = _dict(value)
    if "k8sService" in item:
        ref = _dict(item["k8sService"])
        if not ref.get("serviceName"):
            raise NetpolError(f"{where}: k8sService needs serviceName", at)
        return Peer(service=(str(ref.get("namespace") or ""), str(ref["serviceName"]), None))
    if "k8sServiceSelector" in item:
        ref = _dict(item["k8sServiceSelector"])
        selector = _normalized(ref.get("selector"), where, (*at, "k8sServiceSelector", "selector"))
        return Peer(service=(str(ref.get("namespace") or ""), None, selector))
    raise NetpolError(f"{where}: a toServices entry needs k8sService or k8sServiceSelector", at)


def _entities(items: list[Any], where: str, at: Path, w: list[str]) -> list[Peer]:
    peers = []
    outside = []
    for i, item in enumerate(items):
        name = str(item)
        if name not in ENTITIES:
            raise NetpolError(f"{where}: unknown entity {name!r}", (*at, i))
        if name == "all":
            peers.append(Peer(matches_all=True))
        elif name == "world":
            peers.append(Peer(external=True))
        elif name in ("world-ipv4", "world-ipv6"):
            peers.append(Peer(ips=ALL_V4 if name == "world-ipv4" else ALL_V6))
        elif name == "cluster":
            peers.append(Peer(cluster=True))
        else:
            outside.append(name)
    if outside:
        w.append(
            f"{where}: entities {', '.join(outside)} are nodes or agents, not modelled "
            "(they match nothing here)"
        )
    return peers


def _cidr(value: Any, key: str, where: str, at: Path, w: list[str]) -> Peer:
    try:
        if key.endswith("CIDR"):
            return Peer(ips=block(str(value)))
        item = _dict(value)
        if "cidr" not in item:
            w.append(f"{where}: {key} entry without cidr (cidrGroupRef) is not modelled")
            return Peer(ips=())
        excepts = _list(item.get("except"), where, (*at, "except"))
        return Peer(ips=block(str(item["cidr"]), [str(e) for e in excepts]))
    except ValueError as exc:
        if isinstance(exc, NetpolError):
            raise
        raise NetpolError(f"{where}: bad {key}: {exc}", at) from None


def _ports(
    rule: dict[str, Any], action: str, where: str, at: Path, w: list[str]
) -> list[PortSpec] | None:
    """The rule's ports: None when it has no L4 part (every port), else the list."""
    if "toPorts" not in rule and "icmps" not in rule:
        return None
    if "icmps" in rule:
        w.append(f"{where}: ICMP rules are not modelled (ICMP is not in the connection list)")
    out: list[PortSpec] = []
    for i, entry in enumerate(_list(rule.get("toPorts"), where, (*at, "toPorts"))):
        entry = _dict(entry)
        here = (*at, "toPorts", i)
        specs = _list(entry.get("ports"), where, (*here, "ports"))
        parsed = [_port(_dict(p), where, (*here, "ports", j)) for j, p in enumerate(specs)]
        flat = [s for group in parsed for s in group] or [PortSpec(None)]
        out += flat
        l7 = sorted(k for k in ("rules", "serverNames", "listener") if _dict(entry).get(k))
        if l7 and action == "Allow":
            kinds = sorted(_dict(entry.get("rules"))) or l7
            w.append(
                f"{where}: L7 rules ({', '.join(kinds)}) are treated as allowing the whole "
                f"port ({', '.join(_port_text(s) for s in flat)}): L7 is not modelled"
            )
    return out


def _port(port: dict[str, Any], where: str, at: Path) -> list[PortSpec]:
    proto = str(port.get("protocol") or "ANY").upper()
    if proto not in PROTOCOLS:
        raise NetpolError(f"{where}: unknown protocol {proto!r}", (*at, "protocol"))
    value = port.get("port")
    text = "" if value is None else str(value).strip()
    if text and not text.isdigit():  # a port name, resolved on the destination
        return [PortSpec(None if proto == "ANY" else proto, name=text)]
    start = _int(text) if text else 0
    end = _int(port.get("endPort")) if port.get("endPort") not in (None, 0) else start
    if start is None or end is None or not 0 <= start <= 65535 or end < start or end > 65535:
        raise NetpolError(f"{where}: bad port {value!r} (endPort {port.get('endPort')!r})", at)
    if start == 0:  # port 0: every port
        return [PortSpec(p) for p in PROTOCOLS[proto]]
    return [PortSpec(p, start, end) for p in PROTOCOLS[proto]]


def _port_text(spec: PortSpec) -> str:
    proto = spec.protocol or "any protocol"
    if spec.name is not None:
        return f"{proto} {spec.name}"
    if spec.start is None:
        return f"{proto} every port"
    return f"{proto} {spec.start}" + (f"-{spec.end}" if spec.end != spec.start else "")
