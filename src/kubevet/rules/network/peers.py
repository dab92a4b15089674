"""NetworkPolicy peers meant for the input's own pods that select none of them (KV610).

A peer selector usually names pods of other applications (an ingress controller, a
monitoring stack) that the input does not hold, so "matches nothing here" alone says
nothing. A peer is judged only when it pins a release instance label (by default
`app.kubernetes.io/instance` or `release`) to a value that pods of the input carry: then it
means this release's pods, and all of them are in the input (Helm release names are unique
within a namespace). Its namespaces must be known too: the policy's own namespace, or a
namespaceSelector that names namespaces only by `kubernetes.io/metadata.name`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject
from kubevet.rules._helpers import as_dict, as_list
from kubevet.rules.examples import example_deployment
from kubevet.rules.options import Option
from kubevet.rules.registry import rule
from kubevet.selectors import matches_or_none

INSTANCE_LABELS = ["app.kubernetes.io/instance", "release"]
NAME_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every Namespace
Pods = list[tuple[str, dict[str, str]]]  # (namespace, pod template labels)

_LABELS = "{app: web, app.kubernetes.io/instance: shop}"
_DEPLOY = example_deployment(pod_labels=_LABELS)


def _policy(peer_app: str) -> str:
    return (
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata:\n  name: db\n  namespace: shop\n"
        "spec:\n  podSelector: {matchLabels: {app: db}}\n  ingress:\n    - from:\n"
        "        - podSelector:\n            matchLabels:\n"
        f"              app: {peer_app}\n              app.kubernetes.io/instance: shop\n"
    )


def _pods(group: InputGroup) -> Pods:
    return [
        (obj.namespace or "default", {str(k): str(v) for k, v in as_dict(labels).items()})
        for obj in group.objects
        if obj.pod is not None and obj.kind != "PodTemplate"
        for labels in [obj.pod.metadata.get("labels")]
    ]


def _named_namespaces(selector: dict[str, Any]) -> set[str] | None:
    """The namespaces a namespaceSelector names by `kubernetes.io/metadata.name` alone;
    None when it reads any other label (unknown for namespaces outside the input)."""
    names: set[str] | None = None
    match = as_dict(selector.get("matchLabels"))
    for key, value in match.items():
        if key != NAME_LABEL:
            return None
        names = {str(value)}
    for expr in as_list(selector.get("matchExpressions")):
        e = as_dict(expr)
        if e.get("key") != NAME_LABEL or e.get("operator") != "In":
            return None
        values = {str(v) for v in as_list(e.get("values"))}
        names = values if names is None else names & values
    return names


def _target_namespaces(peer: dict[str, Any], own: str) -> set[str] | None:
    if "namespaceSelector" not in peer:
        return {own}
    return _named_namespaces(as_dict(peer.get("namespaceSelector")))


def _own_instance(selector: dict[str, Any], pods: Pods, keys: list[str]) -> str | None:
    """`key=value` of an instance label the selector pins and some input pod carries."""
    pinned = as_dict(selector.get("matchLabels"))
    for key in keys:
        if key in pinned and any(labels.get(key) == str(pinned[key]) for _, labels in pods):
            return f"{key}={pinned[key]}"
    return None


def _dangling(peer: dict[str, Any], own: str, pods: Pods, keys: list[str]) -> str | None:
    """Why the peer selects none of the release's pods, or None when it may select some."""
    selector = peer.get("podSelector")
    namespaces = _target_namespaces(peer, own)
    if not isinstance(selector, dict) or namespaces is None:
        return None
    instance = _own_instance(selector, pods, keys)
    if instance is None:
        return None
    for ns, labels in pods:
        if ns in namespaces and matches_or_none(selector, labels) is not False:
            return None  # it matches (or is invalid: the API server reports that)
    where = ", ".join(sorted(namespaces)) or "no namespace"
    return f"selects no pod of the release {instance} in {where}"


_DIRECTIONS = (("ingress", "from"), ("egress", "to"))


@rule(
    code="KV610",
    slug="policy-peer-selects-nothing",
    title="Network policy peer selects none of the release's pods",
    category="network",
    severity="low",
    scope="group",
    what="A NetworkPolicy ingress `from` or egress `to` peer whose podSelector pins a "
    "release instance label (option `instance_labels`) to a value pods of the input carry, "
    "yet matches no pod of the input in the namespaces it reaches: the policy's own, or "
    "those a namespaceSelector names by `kubernetes.io/metadata.name`. Peers for other "
    "applications (no instance label of this input), peers whose namespaceSelector reads "
    "other namespace labels, and namespaceSelector-only peers are not judged: the input "
    "cannot show what they select.",
    why="The peer was written for a component of this release, but a label typo, a rename "
    "or a disabled component leaves it selecting nothing: the connection it was meant to "
    "allow is denied, and the rule reads as if it were allowed.",
    how_to_fix="Make the peer's labels match the pod template of the intended component, "
    "or remove the peer.",
    example_bad=_DEPLOY + _policy("wbe"),
    example_good=_DEPLOY + _policy("web"),
    options={
        "instance_labels": Option(
            "string-list",
            INSTANCE_LABELS,
            "pod labels whose value names the release (a peer pinning one of them to a "
            "value of the input is meant for the input's own pods)",
        )
    },
    references=("https://kubernetes.io/docs/concepts/services-networking/network-policies/",),
)
def policy_peer_selects_nothing(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    policies = group.by_kind("NetworkPolicy")
    pods = _pods(group) if policies else []  # no pass over the objects without a policy
    if not pods:
        return
    keys = [str(k) for k in ctx.setting("instance_labels", INSTANCE_LABELS)]
    for policy in policies:
        yield from _policy_peers(policy, pods, keys)


def _policy_peers(policy: K8sObject, pods: Pods, keys: list[str]) -> Iterator[Violation]:
    own = policy.namespace or "default"
    for direction, side in _DIRECTIONS:
        for i, rule_ in enumerate(as_list(policy.get(("spec", direction)))):
            for j, peer in enumerate(as_list(as_dict(rule_).get(side))):
                why = _dangling(as_dict(peer), own, pods, keys)
                if why:
                    yield Violation(
                        f"{direction}[{i}].{side}[{j}] {why}",
                        ("spec", direction, i, side, j, "podSelector"),
                        obj=policy,
                    )
