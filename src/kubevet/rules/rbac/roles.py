"""What Roles grant (KV401-KV404): wildcards, dangerous permissions, cluster-wide Secret
readers, cluster-admin bindings.

Grants follow the RBAC authorizer: a rule applies when its apiGroups, resources and verbs
each contain the requested value or `*`, and `resourceNames` (when set) restrict it to
named objects. An aggregated ClusterRole's own `rules` are overwritten by the controller
with the rules of the ClusterRoles its `aggregationRule` selects, so they are resolved
from the input instead of read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject
from kubevet.rules._helpers import as_dict, as_list
from kubevet.rules.registry import rule
from kubevet.selectors import matches_or_none

AGGREGATE_LABEL = "rbac.authorization.k8s.io/aggregate-to-"


def _strings(value: Any) -> list[str]:
    return [str(v) for v in as_list(value)]


def rbac_rules(obj: K8sObject) -> list[tuple[int, dict[str, Any]]]:
    return [(i, r) for i, r in enumerate(as_list(obj.get(("rules",)))) if isinstance(r, dict)]


def is_aggregated(obj: K8sObject) -> bool:
    return obj.kind == "ClusterRole" and bool(obj.get(("aggregationRule",)))


def _aggregated_into(obj: K8sObject) -> str:
    targets = sorted(
        k.removeprefix(AGGREGATE_LABEL)
        for k, v in obj.labels.items()
        if k.startswith(AGGREGATE_LABEL) and str(v).lower() == "true"
    )
    if not targets:
        return ""
    return f" (aggregated into the {', '.join(targets)} role(s), so granted to their holders)"


_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  namespace: shop
rules:
"""


@rule(
    code="KV401",
    slug="rbac-wildcard",
    title="RBAC rule uses a wildcard",
    category="rbac",
    severity="medium",
    scope="object",
    kinds=("Role", "ClusterRole"),
    what="A Role or ClusterRole rule has `*` in `apiGroups`, `verbs` or `resources` (including "
    "subresource wildcards such as `pods/*`); one finding per field. The rules of an "
    "aggregated ClusterRole are skipped: the controller replaces them, and the roles it "
    "aggregates are checked themselves.",
    why="A wildcard grants everything that exists now and everything added later (new "
    "resources, CRDs, subresources such as pods/exec), far beyond what was reviewed.",
    how_to_fix="List the API groups, resources and verbs the workload needs explicitly.",
    example_bad=_ROLE + '  - apiGroups: [""]\n    resources: [configmaps]\n    verbs: ["*"]\n',
    example_good=_ROLE
    + '  - apiGroups: [""]\n    resources: [configmaps]\n    verbs: [get, list, watch]\n',
    unified=("check_39",),
    references=(
        "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
        "CIS Kubernetes Benchmark 5.1.3",
    ),
)
def rbac_wildcard(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    if is_aggregated(obj):
        return
    note = _aggregated_into(obj)
    for i, r in rbac_rules(obj):
        for field in ("apiGroups", "resources", "verbs"):
            for j, item in enumerate(as_list(r.get(field))):
                text = str(item)
                if "*" in text:  # the first wildcard of the field
                    yield Violation(
                        f"rule {i} has the wildcard {text!r} in {field}{note}",
                        ("rules", i, field, j),
                    )
                    break


RBAC_GROUP = "rbac.authorization.k8s.io"


WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


READ_VERBS = frozenset({"get", "list", "watch"})


@dataclass(frozen=True)
class Danger:
    """A dangerous permission: the API group, resources and verbs granting it, what it allows."""

    api_group: str
    resources: frozenset[str]
    verbs: frozenset[str] | None  # None: any verb
    what: str


DANGERS: tuple[Danger, ...] = (
    Danger("", frozenset({"secrets"}), READ_VERBS, "read Secrets"),
    Danger("", frozenset({"pods/exec"}), frozenset({"create", "get"}), "exec into pods"),
    Danger(
        "",
        frozenset({"pods"}),
        frozenset({"create"}),
        "create pods (and so run as any ServiceAccount of the namespace)",
    ),
    Danger(
        RBAC_GROUP,
        frozenset({"roles", "clusterroles"}),
        frozenset({"bind", "escalate"}),
        "grant permissions it does not hold",
    ),
    Danger(
        "",
        frozenset({"users", "groups", "serviceaccounts"}),
        frozenset({"impersonate"}),
        "impersonate other identities",
    ),
    Danger(
        "admissionregistration.k8s.io",
        frozenset({"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}),
        WRITE_VERBS,
        "change admission webhooks (and so intercept or alter every API request)",
    ),
    Danger(
        "certificates.k8s.io",
        frozenset({"certificatesigningrequests/approval"}),
        frozenset({"update", "patch"}),
        "approve certificate signing requests",
    ),
    Danger(
        "certificates.k8s.io",
        frozenset({"signers"}),
        frozenset({"approve"}),
        "approve certificate signing requests",
    ),
    Danger("", frozenset({"nodes/proxy"}), None, "reach the kubelet API through nodes/proxy"),
)


def granted_verbs(
    rule_: dict[str, Any], api_group: str, resource: str, verbs: frozenset[str] | None
) -> set[str]:
    """The verbs of `verbs` (None: any) that the rule grants on every `resource` object."""
    if rule_.get("resourceNames"):
        return set()  # limited to named objects
    groups, resources = _strings(rule_.get("apiGroups")), _strings(rule_.get("resources"))
    if not ({api_group, "*"} & set(groups)) or not ({resource, "*"} & set(resources)):
        return set()
    have = set(_strings(rule_.get("verbs")))
    if "*" in have:
        return set(verbs) if verbs is not None else {"*"}
    return have if verbs is None else have & verbs


def _by_resource(dangers: tuple[Danger, ...]) -> dict[str, list[Danger]]:
    """The dangers of each resource, in `dangers` order."""
    out: dict[str, list[Danger]] = {}
    for danger in dangers:
        for resource in danger.resources:
            out.setdefault(resource, []).append(danger)
    return out


_DANGERS_OF = _by_resource(DANGERS)  # most resources a role names have none


def _dangers(r: dict[str, Any]) -> Iterator[tuple[int, str, set[str], Danger]]:
    """(resource index, resource, verbs, danger) for each explicitly named dangerous grant."""
    for j, resource in enumerate(_strings(r.get("resources"))):
        for danger in _DANGERS_OF.get(resource, ()):
            verbs = granted_verbs(r, danger.api_group, resource, danger.verbs)
            if verbs:
                yield j, resource, verbs, danger


@rule(
    code="KV402",
    slug="rbac-dangerous-permissions",
    title="RBAC rule grants a dangerous permission",
    category="rbac",
    severity="high",
    scope="object",
    kinds=("Role", "ClusterRole"),
    what="A Role or ClusterRole grants, on a resource it names: get/list/watch on secrets; "
    "create or get on pods/exec; create on pods; bind or escalate on roles/clusterroles; "
    "impersonate on users, groups or serviceaccounts; writes to mutating or validating "
    "webhook configurations; CSR approval (certificatesigningrequests/approval, signers "
    "approve); any verb on nodes/proxy. One finding per dangerous resource and rule. Grants "
    "limited by `resourceNames` are not reported; grants that come only from a wildcard "
    "resource are reported once, by KV401.",
    why="Each of these is a known privilege-escalation path: reading Secrets yields service "
    "account tokens and credentials; creating or exec-ing into pods runs code as any account "
    "of the namespace; bind/escalate/impersonate and CSR approval mint new privileges; "
    "webhooks see and rewrite every request; nodes/proxy reaches the kubelet API.",
    how_to_fix="Remove the grant, or restrict it with `resourceNames` to the objects the "
    "workload needs; move one-off operations to a human-held role.",
    example_bad=_ROLE + '  - apiGroups: [""]\n    resources: [secrets]\n    verbs: [get, list]\n',
    example_good=_ROLE
    + '  - apiGroups: [""]\n    resources: [secrets]\n    resourceNames: [shop-tls]\n'
    "    verbs: [get]\n",
    unified=("check_54",),
    references=(
        "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
        "#privilege-escalation-risks",
        "CIS Kubernetes Benchmark 5.1.2, 5.1.4, 5.1.8",
    ),
)
def rbac_dangerous_permissions(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    if is_aggregated(obj):
        return
    note = _aggregated_into(obj)
    for i, r in rbac_rules(obj):
        for j, resource, verbs, danger in _dangers(r):
            shown = ", ".join(sorted(verbs))
            yield Violation(
                f"rule {i} lets holders {danger.what}: {shown} on {resource}{note}",
                ("rules", i, "resources", j),
            )


# Built-in ClusterRoles that read every Secret of the namespaces they are bound in.
BUILTIN_SECRET_READERS = frozenset({"admin", "edit"})


def cluster_role(group: InputGroup, name: str) -> K8sObject | None:
    """ClusterRoles are cluster-scoped: look them up by name only (the first of a name)."""
    return group.view(_cluster_roles).get(name)


def _cluster_roles(group: InputGroup) -> dict[str, K8sObject]:
    out: dict[str, K8sObject] = {}
    for role in group.by_kind("ClusterRole"):
        out.setdefault(role.name, role)
    return out


def effective_rules(
    group: InputGroup, role: K8sObject, seen: set[str] | None = None
) -> list[dict[str, Any]]:
    """A role's rules; for an aggregated ClusterRole, those of the roles it aggregates."""
    if not is_aggregated(role):
        return [r for _, r in rbac_rules(role)]
    seen = (seen or set()) | {role.name}
    selectors = as_list(as_dict(role.get(("aggregationRule",))).get("clusterRoleSelectors"))
    out: list[dict[str, Any]] = []
    for other in group.by_kind("ClusterRole"):
        if other.name in seen:
            continue
        if any(_selects(sel, other.labels) for sel in selectors):
            out.extend(effective_rules(group, other, seen))
    return out


def _selects(selector: Any, labels: dict[str, Any]) -> bool:
    # An empty aggregation selector matches nothing useful; the controller ignores it.
    return bool(selector) and matches_or_none(selector, labels) is True


def subject_text(subject: Any) -> str:
    s = as_dict(subject)
    ns = f"{s['namespace']}/" if s.get("namespace") else ""
    return f"{s.get('kind', '?')} {ns}{s.get('name', '?')}"


def _role_ref(binding: K8sObject) -> tuple[str, str]:
    ref = as_dict(binding.get(("roleRef",)))
    return str(ref.get("kind", "")), str(ref.get("name", ""))


def reads_all_secrets(group: InputGroup, role_name: str) -> set[str] | None:
    """Verbs on every Secret that a ClusterRole grants; None when the role is unknown."""
    if role_name in BUILTIN_SECRET_READERS:
        return set(READ_VERBS)
    role = cluster_role(group, role_name)
    if role is None:
        return None
    verbs: set[str] = set()
    for r in effective_rules(group, role):
        verbs |= granted_verbs(r, "", "secrets", READ_VERBS)
    return verbs


_SECRET_READER = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-reader
rules:
  - apiGroups: [""]
    resources: [secrets]
    verbs: [list]
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: backup
  namespace: shop
"""


@rule(
    code="KV403",
    slug="read-all-secrets",
    title="Subject can read every Secret in the cluster",
    category="rbac",
    severity="high",
    scope="group",
    what="A ClusterRoleBinding binds a ClusterRole that can get, list or watch all Secrets "
    "(by name or wildcard, resolving aggregated ClusterRoles from the input; the built-in "
    "`admin` and `edit` roles count) to a subject. A RoleBinding to the same ClusterRole "
    "grants it in one namespace only and is not reported here; bindings to cluster-admin "
    "are KV404's.",
    why="Bound cluster-wide, the role reads every Secret of every namespace: all service "
    "account tokens, TLS keys and credentials, the keys to the whole cluster.",
    how_to_fix="Bind the role with namespaced RoleBindings where it is needed, or restrict "
    "the rule with `resourceNames`.",
    example_bad=_SECRET_READER
    + """\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: backup-secrets
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
subjects:
  - {kind: ServiceAccount, name: backup, namespace: shop}
""",
    example_good=_SECRET_READER
    + """\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: backup-secrets
  namespace: shop
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
subjects:
  - {kind: ServiceAccount, name: backup, namespace: shop}
""",
    unified=("check_59",),
    references=("CIS Kubernetes Benchmark 5.1.2",),
)
def read_all_secrets(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for binding in group.by_kind("ClusterRoleBinding"):
        kind, name = _role_ref(binding)
        if kind != "ClusterRole" or name == "cluster-admin":
            continue
        verbs = reads_all_secrets(group, name)
        subjects = as_list(binding.get(("subjects",)))
        if not verbs or not subjects:
            continue
        who = ", ".join(subject_text(s) for s in subjects)
        yield Violation(
            f"ClusterRole {name!r} ({', '.join(sorted(verbs))} on all secrets) is bound "
            f"cluster-wide to {who}",
            ("roleRef", "name"),
            obj=binding,
        )


@rule(
    code="KV404",
    slug="cluster-admin-binding",
    title="Binding grants cluster-admin",
    category="rbac",
    severity="high",
    scope="object",
    kinds=("ClusterRoleBinding", "RoleBinding"),
    what="A ClusterRoleBinding or RoleBinding refers to the `cluster-admin` ClusterRole.",
    why="cluster-admin allows every verb on every resource: bound cluster-wide it is full "
    "control of the cluster; in a RoleBinding it is full control of the namespace, its "
    "Secrets and RBAC included.",
    how_to_fix="Write a role with the permissions the subject needs and bind that instead.",
    example_bad="""\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: operator
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: ServiceAccount, name: operator, namespace: shop}
""",
    example_good="""\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: operator
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
  - {kind: ServiceAccount, name: operator, namespace: shop}
""",
    unified=("check_65",),
    references=("CIS Kubernetes Benchmark 5.1.1",),
)
def cluster_admin_binding(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    kind, name = _role_ref(obj)
    if kind == "ClusterRole" and name == "cluster-admin":
        who = ", ".join(subject_text(s) for s in as_list(obj.get(("subjects",)))) or "no one"
        scope = "cluster-wide" if obj.kind == "ClusterRoleBinding" else "in its namespace"
        yield Violation(f"grants cluster-admin {scope} to {who}", ("roleRef", "name"))
