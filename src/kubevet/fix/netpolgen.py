"""NetworkPolicies for workloads that have none: a default deny of ingress per namespace,
plus one allow policy per Service that keeps it reachable from where it is used today.

"Used today" is read from the inputs, never guessed from traffic: a workload uses a
Service when one of its containers names it (its DNS name `svc`, `svc.ns`, `svc.ns.svc`,
`svc.ns.svc.cluster.local` in an env value, argument or command); a Service of type
LoadBalancer or NodePort, or one an Ingress routes to, is used from outside the cluster.
A Service whose users cannot be read stays open to every pod of the cluster on its ports,
and the report says so. Only ingress is restricted (egress deny would cut DNS first).

The result is proven with the reachability analysis (`kubevet netpol`): every intended
connection is still allowed after, and no connection is allowed that was not before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kubevet.model import K8sObject
from kubevet.selectors import matches_map

EXPOSED_TYPES = ("LoadBalancer", "NodePort")


@dataclass
class Plan:
    policies: list[dict[str, Any]] = field(default_factory=list)
    intended: list[tuple[str, str]] = field(default_factory=list)  # (source, workload) kept
    open_to_cluster: list[str] = field(default_factory=list)  # services with unknown users
    notes: list[str] = field(default_factory=list)


def plan(objects: list[K8sObject]) -> Plan:
    out = Plan()
    workloads = [o for o in objects if o.pod is not None and not _owned(o)]
    namespaces = sorted({o.namespace or "default" for o in workloads})
    isolated = {ns for ns in namespaces if _has_policy(objects, ns)}
    for ns in namespaces:
        if ns in isolated:
            out.notes.append(f"namespace {ns} has NetworkPolicies already: left as it is")
            continue
        out.policies.append(_deny(ns))
    ingress_targets = _ingress_backends(objects)
    for svc in (o for o in objects if o.kind == "Service"):
        ns = svc.namespace or "default"
        selector = (svc.data.get("spec") or {}).get("selector")
        if ns in isolated or not isinstance(selector, dict) or not selector:
            continue
        targets = [
            w
            for w in workloads
            if (w.namespace or "default") == ns and matches_map(selector, _labels(w))
        ]
        if not targets:
            continue
        exposed = _exposed(svc) or (ns, svc.name) in ingress_targets
        users = [w for w in workloads if w not in targets and _names(w, svc.name, ns)]
        out.policies.append(_allow(svc, selector, users, exposed))
        for t in targets:
            target = _ref(t)
            if exposed:
                out.intended.append(("external", target))
            out.intended += [(_ref(u), target) for u in users]
        if not exposed and not users:
            out.open_to_cluster.append(f"{ns}/{svc.name}")
    return out


def _owned(o: K8sObject) -> bool:
    refs = o.metadata.get("ownerReferences")
    return isinstance(refs, list) and any(isinstance(r, dict) and r.get("controller") for r in refs)


def _has_policy(objects: list[K8sObject], ns: str) -> bool:
    return any(o.kind == "NetworkPolicy" and (o.namespace or "default") == ns for o in objects)


def _ref(o: K8sObject) -> str:
    return f"{o.namespace or 'default'}/{o.name}"


def _labels(w: K8sObject) -> dict[str, Any]:
    labels = w.pod.metadata.get("labels") if w.pod else None
    return labels if isinstance(labels, dict) else {}


def _exposed(svc: K8sObject) -> bool:
    return (svc.data.get("spec") or {}).get("type") in EXPOSED_TYPES


def _ingress_backends(objects: list[K8sObject]) -> set[tuple[str, str]]:
    """(namespace, Service) pairs an Ingress or Route sends outside traffic to."""
    from kubevet.netpol.resources import backends

    return {
        (o.namespace or "default", name)
        for o in objects
        if o.kind in ("Ingress", "Route")
        for name, _ in backends(o)
    }


def _names(w: K8sObject, svc: str, ns: str) -> bool:
    """Does a container of `w` name the Service (by any of its DNS names)?"""
    own_ns = (w.namespace or "default") == ns
    forms = [f"{svc}.{ns}.svc.cluster.local", f"{svc}.{ns}.svc", f"{svc}.{ns}"]
    if own_ns:
        forms.append(svc)
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, forms)) + r")(?![\w-])")
    for c in w.pod.containers if w.pod else []:
        texts = [str(e.get("value", "")) for e in c.data.get("env") or [] if isinstance(e, dict)]
        texts += [str(x) for x in (c.data.get("args") or []) + (c.data.get("command") or [])]
        if any(pattern.search(t) for t in texts):
            return True
    return False


def _deny(ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "kubevet-default-deny-ingress", "namespace": ns},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }


def _allow(svc: K8sObject, selector: dict, users: list[K8sObject], exposed: bool) -> dict:
    ns = svc.namespace or "default"
    ports = []
    for p in (svc.data.get("spec") or {}).get("ports") or []:
        if isinstance(p, dict):
            port = p.get("targetPort", p.get("port"))
            ports.append({"protocol": p.get("protocol", "TCP"), "port": port})
    rule: dict[str, Any] = {"ports": ports} if ports else {}
    if exposed:
        pass  # no `from`: every source, outside the cluster included
    elif users:
        rule["from"] = [_peer(u, ns) for u in users]
    else:
        rule["from"] = [{"namespaceSelector": {}}]  # users unknown: every pod of the cluster
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"kubevet-allow-{svc.name}", "namespace": ns},
        "spec": {
            "podSelector": {"matchLabels": dict(selector)},
            "policyTypes": ["Ingress"],
            "ingress": [rule],
        },
    }


def _peer(user: K8sObject, ns: str) -> dict[str, Any]:
    peer: dict[str, Any] = {"podSelector": {"matchLabels": dict(_labels(user))}}
    if (user.namespace or "default") != ns:
        peer["namespaceSelector"] = {
            "matchLabels": {"kubernetes.io/metadata.name": user.namespace or "default"}
        }
    return peer


@dataclass
class Proof:
    kept: list[tuple[str, str]]
    lost: list[tuple[str, str]]  # intended connections the policies would cut (must be none)
    opened: list[str]  # connections allowed after that were not before (must be none)
    closed: int  # connections removed

    @property
    def ok(self) -> bool:
        return not self.lost and not self.opened


def prove(objects: list[K8sObject], p: Plan) -> Proof:
    """Reachability before and after the generated policies, by the netpol analysis."""
    from kubevet.model import Origin
    from kubevet.netpol import analyze

    before = analyze(objects).connections
    added = [K8sObject(d, Origin("kubevet.networkpolicies.yaml", 1)) for d in p.policies]
    after = analyze([*objects, *added]).connections
    pairs_after = {(_end(c.src), _end(c.dst)) for c in after}
    kept, lost = [], []
    for src, dst in p.intended:
        ok = (
            (src, dst) in pairs_after
            if src != "external"
            else any(s.startswith("external") and d == dst for s, d in pairs_after)
        )
        (kept if ok else lost).append((src, dst))
    old_pairs = {(c.src, c.dst) for c in before}
    opened = [c.line() for c in after if (c.src, c.dst) not in old_pairs]
    return Proof(kept, lost, opened, len(old_pairs) - len({(c.src, c.dst) for c in after}))


def _end(end: str) -> str:
    name, _, kind = end.partition("[")
    return "external" if kind.startswith("External") else name
