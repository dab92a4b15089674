"""Bindings whose subject is everyone: anonymous requests or every authenticated user (KV407),
or the system:masters group, which RBAC never restricts (KV408)."""

from __future__ import annotations

from collections.abc import Iterator

from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject
from kubevet.rules._helpers import as_dict, as_list
from kubevet.rules.registry import rule

# The subjects that stand for everyone, and whom they reach.
PUBLIC_SUBJECTS: dict[tuple[str, str], str] = {
    ("User", "system:anonymous"): "every unauthenticated request",
    ("Group", "system:unauthenticated"): "every unauthenticated request",
    ("Group", "system:authenticated"): "every authenticated user and service account",
}
# The built-in ClusterRoles Kubernetes itself binds to those groups: API discovery, version
# and health information, and reviews of one's own access. Binding them again adds nothing.
PUBLIC_ROLES = frozenset({"system:public-info-viewer", "system:discovery", "system:basic-user"})

_BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: metrics-readers
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-reader}}
subjects:
  - {subject}
"""


@rule(
    code="KV407",
    slug="public-binding",
    title="Binding grants a role to anonymous or all authenticated users",
    category="rbac",
    severity="high",
    scope="object",
    kinds=("ClusterRoleBinding", "RoleBinding"),
    what="A ClusterRoleBinding or RoleBinding has the subject `system:anonymous` (User), "
    "`system:unauthenticated` or `system:authenticated` (Group). Bindings of the built-in "
    "roles Kubernetes binds to these groups itself (system:public-info-viewer, "
    "system:discovery, system:basic-user) are left alone.",
    why="`system:unauthenticated` and `system:anonymous` are every request without "
    "credentials (when anonymous auth is on, the default); `system:authenticated` is every "
    "user and every service account token of every namespace. Whatever the role allows, "
    "anyone who reaches the API server can do.",
    how_to_fix="Bind the role to the ServiceAccounts, users or groups that need it.",
    example_bad=_BINDING.format(subject="{kind: Group, name: system:authenticated}"),
    example_good=_BINDING.format(
        subject="{kind: ServiceAccount, name: prometheus, namespace: monitoring}"
    ),
    references=(
        "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles",
        "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests",
    ),
)
def public_binding(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    ref = as_dict(obj.get(("roleRef",)))
    kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
    if kind == "ClusterRole" and name in PUBLIC_ROLES:
        return
    for i, subject in enumerate(as_list(obj.get(("subjects",)))):
        s = as_dict(subject)
        who = PUBLIC_SUBJECTS.get((str(s.get("kind", "")), str(s.get("name", ""))))
        if who:
            yield Violation(
                f"grants {kind} {name!r} to {s.get('name')}: {who}", ("subjects", i, "name")
            )


# Kubernetes' own bootstrap binding: cluster-admin to system:masters (recreated at start-up).
BOOTSTRAP_MASTERS_BINDING = "cluster-admin"

_MASTERS = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ops-admins
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}
subjects:
  - {{kind: Group, apiGroup: rbac.authorization.k8s.io, name: {group}}}
"""


@rule(
    code="KV408",
    slug="masters-group-binding",
    title="Binding names the system:masters group",
    category="rbac",
    severity="medium",
    scope="object",
    kinds=("ClusterRoleBinding", "RoleBinding"),
    what="A ClusterRoleBinding or RoleBinding has the subject Group `system:masters`. The "
    "bootstrap binding Kubernetes creates itself (ClusterRoleBinding `cluster-admin` to "
    "ClusterRole `cluster-admin`) is left alone.",
    why="Members of `system:masters` pass every authorization check before RBAC is asked, "
    "and their access cannot be revoked by deleting a binding, only by rotating the "
    "certificate authority. A binding to the group grants nothing it lacks; it shows that "
    "credentials in the group are in use beyond bootstrapping, which the Kubernetes "
    "security checklist advises against.",
    how_to_fix="Bind the role to a group of your own that RBAC governs, and issue user "
    "credentials in that group instead of system:masters.",
    example_bad=_MASTERS.format(group="system:masters"),
    example_good=_MASTERS.format(group="platform-admins"),
    references=(
        "https://kubernetes.io/docs/concepts/security/security-checklist/#authentication-authorization",
        "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
    ),
)
def masters_group_binding(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    ref = as_dict(obj.get(("roleRef",)))
    if (
        obj.kind == "ClusterRoleBinding"
        and obj.name == BOOTSTRAP_MASTERS_BINDING
        and ref.get("kind") == "ClusterRole"
        and ref.get("name") == BOOTSTRAP_MASTERS_BINDING
    ):
        return
    for i, subject in enumerate(as_list(obj.get(("subjects",)))):
        s = as_dict(subject)
        if s.get("kind") == "Group" and s.get("name") == "system:masters":
            yield Violation(
                f"grants {ref.get('kind')} {ref.get('name')!r} to the group system:masters, "
                "which bypasses RBAC",
                ("subjects", i, "name"),
            )
