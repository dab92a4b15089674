"""Bindings whose subject is everyone: anonymous requests or every authenticated user (KV407)."""

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
