"""Network isolation rules (KV601, KV605-KV608): NetworkPolicy coverage, AdminNetworkPolicy
hygiene.

All are group rules: they need every workload, namespace and policy of the input, read
once through the `kubevet.netpol` model (selectors matched once per policy).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject
from kubevet.rules.examples import example_deployment
from kubevet.rules.registry import rule

if TYPE_CHECKING:
    from kubevet.netpol.analysis import Analysis

_NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
_DEPLOY = example_deployment(
    replicas=None, container="          ports: [{containerPort: 8080, name: http}]\n"
)


def _netpol(name: str, selector: str, extra: str = "") -> str:
    return (
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata:\n  name: {name}\n  namespace: shop\n"
        f"spec:\n  podSelector: {selector}\n  policyTypes: [Ingress]\n{extra}"
    )


def _anp(name: str, priority: int, rules: str) -> str:
    return (
        "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
        f"metadata:\n  name: {name}\nspec:\n  priority: {priority}\n"
        f"  subject:\n    namespaces: {{}}\n  ingress:\n{rules}"
    )


_ALLOW_ALL = "    - name: allow-all\n      action: Allow\n      from: [{namespaces: {}}]\n"
_DENY_80 = (
    "    - name: deny-80\n      action: Deny\n      from: [{namespaces: {}}]\n"
    "      ports: [{portNumber: {protocol: TCP, port: 80}}]\n"
)
_DENY_SHOP = (
    "    - name: deny-from-shop\n      action: Deny\n"
    "      from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}]\n"
)


def _analysis(group: InputGroup) -> Analysis:
    """The netpol model of this group, built once for all KV6xx rules (kept by the group,
    not here: a module-level copy would keep the last input's objects alive)."""
    return group.view(_build_analysis)


def _build_analysis(group: InputGroup) -> Analysis:
    from kubevet.netpol.analysis import Analysis
    from kubevet.netpol.resources import collect

    res = collect(group.objects)
    # A policy the API server would reject is left out of the model: an input error of
    # this input (file, line, reason), reported once, as `kubevet netpol` does.
    group.errors.extend(e for e in res.errors if e not in group.errors)
    return Analysis(res)


@rule(
    code="KV601",
    slug="pod-not-isolated",
    title="Workload not isolated by any network policy",
    category="network",
    severity="medium",
    scope="group",
    what="No policy of the input puts the workload's pods in default deny for ingress: no "
    "Kubernetes NetworkPolicy selects them for ingress, and no CiliumNetworkPolicy or "
    "CiliumClusterwideNetworkPolicy selects them (`endpointSelector`) with ingress or "
    "ingressDeny rules (unless `enableDefaultDeny.ingress: false`) or with "
    "`enableDefaultDeny.ingress: true`. AdminNetworkPolicy and "
    "BaselineAdminNetworkPolicy rules do not count: they are the cluster administrator's "
    "tiers, not the application's own isolation (`kubevet netpol` shows what they allow). "
    "Cilium host policies (`nodeSelector`) select nodes, not pods.",
    why="A pod no network policy isolates accepts connections from every pod in the cluster "
    "and from outside it: one compromised workload can reach it freely.",
    how_to_fix="Add a NetworkPolicy (or a Cilium policy) whose selector matches the workload, "
    "or a namespace-wide default deny, and allow only the peers and ports it needs.",
    example_bad=_NS + "---\n" + _DEPLOY,
    example_good=_NS + "---\n" + _DEPLOY + _netpol("web", "{matchLabels: {app: web}}"),
    unified=("check_40",),
    references=(
        "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
        "NSA/CISA Kubernetes Hardening Guide: network separation",
    ),
)
def pod_not_isolated(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    a = _analysis(group)
    for i, w in enumerate(a.workloads):
        # isolated by a NetworkPolicy, or by a Cilium policy in default deny for ingress
        if not a.isolated(i, "ingress") and w.obj is not None and w.obj.pod is not None:
            yield Violation(
                f"{w.kind} {w.namespace}/{w.name} is not isolated for ingress by any "
                "NetworkPolicy or Cilium policy: it accepts every connection",
                (*w.obj.pod.metadata_path, "labels"),
                obj=w.obj,
            )


@rule(
    code="KV605",
    slug="namespace-without-default-deny",
    title="Namespace without a default-deny NetworkPolicy",
    category="network",
    severity="low",
    scope="group",
    what="A namespace that runs workloads has no NetworkPolicy with an empty podSelector "
    "isolating ingress (a default deny).",
    why="Without a namespace-wide default deny, every new workload starts open until "
    "someone writes a policy for it.",
    how_to_fix="Add a NetworkPolicy with `podSelector: {}` and `policyTypes: [Ingress]` "
    "(and Egress if wanted) in the namespace, then allow what each workload needs.",
    example_bad=_NS + "---\n" + _DEPLOY + _netpol("web", "{matchLabels: {app: web}}"),
    example_good=_NS + "---\n" + _DEPLOY + _netpol("default-deny", "{}"),
    references=(
        "https://kubernetes.io/docs/concepts/services-networking/network-policies/"
        "#default-deny-all-ingress-traffic",
    ),
)
def namespace_without_default_deny(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    from kubevet.selectors import is_empty

    a = _analysis(group)
    denied = {
        p.namespace
        for p in a.res.policies
        if p.kind == "NetworkPolicy" and p.ingress is not None and is_empty(p.subject_pods)
    }
    first: dict[str, K8sObject] = {}
    for w in a.workloads:
        if w.obj is not None:
            first.setdefault(w.namespace, w.obj)
    for p in a.res.policies:  # a Cilium policy over every endpoint of a namespace, or all
        if p.cilium and p.isolates("ingress") and _whole_namespace(p.subject_pods or {}):
            denied |= {p.namespace} if p.namespace else set(first)
    namespaces = {o.name: o for o in group.by_kind("Namespace")}
    for ns in sorted(set(first) - denied):
        obj = namespaces.get(ns) or first[ns]
        yield Violation(
            f"namespace {ns!r} has no default-deny ingress NetworkPolicy",
            ("metadata", "name") if obj.kind == "Namespace" else ("metadata", "namespace"),
            obj=obj,
        )


def _whole_namespace(selector: dict) -> bool:
    """A Cilium subject selector that names nothing but (at most) the namespace."""
    from kubevet.netpol.cilium import NS_LABEL

    labels = selector.get("matchLabels") or {}
    return not selector.get("matchExpressions") and set(labels) <= {NS_LABEL}


@rule(
    code="KV606",
    slug="policy-selects-nothing",
    title="Network policy selects no workload",
    category="network",
    severity="low",
    scope="group",
    what="A NetworkPolicy's podSelector, or an AdminNetworkPolicy's or "
    "BaselineAdminNetworkPolicy's subject, matches no workload of the input.",
    why="A policy that selects nothing protects nothing; usually a label typo or a "
    "selector left behind after a rename, and the workload it meant stays open.",
    how_to_fix="Fix the selector so it matches the intended pods' labels, or delete the policy.",
    example_bad=_DEPLOY + _netpol("api", "{matchLabels: {app: api}}"),
    example_good=_DEPLOY + _netpol("web", "{matchLabels: {app: web}}"),
)
def policy_selects_nothing(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    a = _analysis(group)
    if not a.workloads:
        return  # nothing to select in this input: a policy-only chart is fine
    for p in a.res.policies:
        if p.obj is None or a.subjects(p):
            continue
        if p.kind == "NetworkPolicy" or (p.cilium and p.namespace):
            if not any(w.namespace == p.namespace for w in a.workloads):
                continue  # its namespace's workloads come from elsewhere
            path: tuple[str | int, ...] = ("spec", "podSelector")
        else:
            path = ("spec", "subject")
        if p.cilium:
            path = (*p.at, "endpointSelector")
        yield Violation(f"{p.label} selects no workload of this input", path, obj=p.obj)


@rule(
    code="KV607",
    slug="anp-rule-shadowed",
    title="AdminNetworkPolicy rule shadowed by an earlier rule",
    category="network",
    severity="medium",
    scope="group",
    what="An AdminNetworkPolicy rule can never decide a connection: a rule evaluated before "
    "it (in a higher-priority ANP, or earlier in the same ANP) covers all its subjects, "
    "peers and ports.",
    why="ANP rules are evaluated by priority, then in order, and the first match decides; a "
    "shadowed rule is dead configuration and often a mistaken intent (a Deny that never "
    "denies).",
    how_to_fix="Give the intended rule precedence (a lower priority number, or move it "
    "earlier), narrow the shadowing rule, or delete the dead one.",
    example_bad=_DEPLOY + _anp("allow-all", 10, _ALLOW_ALL) + _anp("deny-80", 20, _DENY_80),
    example_good=_DEPLOY + _anp("deny-80", 10, _DENY_80) + _anp("allow-all", 20, _ALLOW_ALL),
    references=("https://network-policy-api.sigs.k8s.io/api-overview/",),
)
def anp_rule_shadowed(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    from kubevet.netpol.shadow import shadowed_rules

    a = _analysis(group)
    for p, direction, index, by, by_index in shadowed_rules(a):
        rule_name = (p.ingress if direction == "ingress" else p.egress or [])[index].name
        where = (
            "earlier in the same policy" if by is p else f"in {by.label} (priority {by.priority})"
        )
        yield Violation(
            f"{direction} rule {rule_name!r} of {p.label} is shadowed by rule #{by_index + 1} "
            f"{where}: it never decides a connection",
            ("spec", direction, index),
            obj=p.obj,
        )


@rule(
    code="KV608",
    slug="anp-same-priority",
    title="AdminNetworkPolicies share a priority and overlap",
    category="network",
    severity="medium",
    scope="group",
    what="Two AdminNetworkPolicies have the same priority and their subjects overlap.",
    why="When two ANPs of equal priority match the same connection the API leaves the "
    "outcome undefined: implementations may disagree, and may change between versions.",
    how_to_fix="Give each AdminNetworkPolicy a distinct priority.",
    example_bad=_DEPLOY + _anp("deny-shop", 10, _DENY_SHOP) + _anp("allow-all", 10, _ALLOW_ALL),
    example_good=_DEPLOY + _anp("deny-shop", 10, _DENY_SHOP) + _anp("allow-all", 20, _ALLOW_ALL),
    references=("https://network-policy-api.sigs.k8s.io/reference/spec/",),
)
def anp_same_priority(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    a = _analysis(group)
    anps = sorted(
        (p for p in a.res.policies if p.kind == "AdminNetworkPolicy"),
        key=lambda p: (p.priority, p.name),
    )
    for i, p in enumerate(anps):
        for q in anps[:i]:
            same = q.subject_pods == p.subject_pods and q.subject_ns == p.subject_ns
            if q.priority == p.priority and (same or a.subjects(p) & a.subjects(q)):
                yield Violation(
                    f"{p.label} and {q.label} both have priority {p.priority} and select "
                    "the same pods: their order is undefined",
                    ("spec", "priority"),
                    obj=p.obj,
                )
