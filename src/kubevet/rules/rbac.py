"""RBAC: wildcards, dangerous grants, cluster-wide secret readers, service accounts (KV4xx).

Grants follow the RBAC authorizer: a rule applies when its apiGroups, resources and verbs
each contain the requested value or `*`, and `resourceNames` (when set) restrict it to
named objects. An aggregated ClusterRole's own `rules` are overwritten by the controller
with the rules of the ClusterRoles its `aggregationRule` selects, so they are resolved
from the input instead of read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.model import WORKLOAD_KINDS, K8sObject, Path
from kubevet.rules._helpers import as_dict, as_list
from kubevet.rules.examples import example_deployment
from kubevet.rules.registry import rule
from kubevet.selectors import matches_or_none

RBAC_GROUP = "rbac.authorization.k8s.io"
AGGREGATE_LABEL = "rbac.authorization.k8s.io/aggregate-to-"
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
READ_VERBS = frozenset({"get", "list", "watch"})
# Built-in ClusterRoles that read every Secret of the namespaces they are bound in.
BUILTIN_SECRET_READERS = frozenset({"admin", "edit"})


@dataclass(frozen=True)
class Danger:
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


def _strings(value: Any) -> list[str]:
    return [str(v) for v in as_list(value)]


def rbac_rules(obj: K8sObject) -> list[tuple[int, dict[str, Any]]]:
    return [(i, r) for i, r in enumerate(as_list(obj.get(("rules",)))) if isinstance(r, dict)]


def is_aggregated(obj: K8sObject) -> bool:
    return obj.kind == "ClusterRole" and bool(obj.get(("aggregationRule",)))


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


def cluster_role(group: InputGroup, name: str) -> K8sObject | None:
    """ClusterRoles are cluster-scoped: look them up by name only."""
    return next((r for r in group.by_kind("ClusterRole") if r.name == name), None)


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
            items = _strings(r.get(field))
            j = next((j for j, item in enumerate(items) if "*" in item), None)
            if j is not None:
                yield Violation(
                    f"rule {i} has the wildcard {items[j]!r} in {field}{note}",
                    ("rules", i, field, j),
                )


def _dangers(r: dict[str, Any]) -> Iterator[tuple[int, str, set[str], Danger]]:
    """(resource index, resource, verbs, danger) for each explicitly named dangerous grant."""
    for j, resource in enumerate(_strings(r.get("resources"))):
        for danger in DANGERS:
            if resource not in danger.resources:
                continue
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


def service_account_of(obj: K8sObject) -> str:
    spec = obj.pod.spec if obj.pod else {}
    return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")


def _sa_path(obj: K8sObject) -> Path:
    """Where the account is named: the deprecated `serviceAccount` only if used alone."""
    if obj.pod is None:
        return ()
    spec = obj.pod.spec
    legacy = "serviceAccount" in spec and "serviceAccountName" not in spec
    return (*obj.pod.path, "serviceAccount" if legacy else "serviceAccountName")


def workloads(group: InputGroup) -> Iterable[K8sObject]:
    return (o for o in group.objects if o.kind in WORKLOAD_KINDS and o.pod is not None)


_WORKLOAD = example_deployment(pod_spec="      serviceAccountName: web\n")
_SA = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
  namespace: shop
"""


@rule(
    code="KV405",
    slug="missing-service-account",
    title="Workload uses a ServiceAccount the input does not define",
    category="rbac",
    severity="medium",
    scope="group",
    what="A workload's `serviceAccountName` names a ServiceAccount that is not in the input "
    "(same namespace), while the input defines at least one ServiceAccount. The `default` "
    "account is never reported.",
    why="The API server accepts the workload, but its pods are never created (the "
    "ServiceAccount admission controller rejects them), so a typo or a disabled "
    "`serviceAccount.create` breaks the release silently. Only inputs that define their own "
    "accounts are checked: charts and manifests often use an account created elsewhere, "
    "which made this check a frequent false positive in KubeLinter (issues #137 and #179).",
    how_to_fix="Create the ServiceAccount with the workload, or fix the name.",
    example_bad=_SA.format(name="other") + "---\n" + _WORKLOAD,
    example_good=_SA.format(name="web") + "---\n" + _WORKLOAD,
    unified=("check_58",),
    references=(
        "https://kubernetes.io/docs/concepts/security/service-accounts/",
        "https://github.com/stackrox/kube-linter/issues/137",
    ),
)
def missing_service_account(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    accounts = {(sa.namespace, sa.name) for sa in group.by_kind("ServiceAccount")}
    if not accounts:
        return
    for obj in workloads(group):
        name = service_account_of(obj)
        if name != "default" and (obj.namespace, name) not in accounts:
            yield Violation(
                f"ServiceAccount {name!r} is not defined in the input", _sa_path(obj), obj=obj
            )


def _mounts_token(group: InputGroup, obj: K8sObject, account: str) -> bool:
    """Pod setting wins over the ServiceAccount's; both default to mounting the token."""
    own = obj.pod.spec.get("automountServiceAccountToken") if obj.pod else None
    if isinstance(own, bool):
        return own
    sa = group.find("ServiceAccount", account, obj.namespace)
    return (sa.data.get("automountServiceAccountToken") if sa else None) is not False


@rule(
    code="KV406",
    slug="shared-service-account",
    title="ServiceAccount shared between workloads",
    category="rbac",
    severity="low",
    scope="group",
    what="Two or more workloads of the input run with the same ServiceAccount (the `default` "
    "one included) and mount its token. Helm hooks and pods that do not mount the token "
    "(`automountServiceAccountToken: false` on the pod or the account) are skipped.",
    why="Every workload sharing an account holds all the permissions any of them needs, and "
    "a compromise of one yields a token valid for all: least privilege needs one account "
    "per workload.",
    how_to_fix="Give each workload its own ServiceAccount with only the roles it needs, or "
    "disable token mounting where the API is not used.",
    example_bad=_WORKLOAD
    + "---\n"
    + _WORKLOAD.replace("name: web\n  namespace", "name: api\n  namespace"),
    example_good=_SA.format(name="web") + "---\n" + _WORKLOAD,
    unified=("check_62",),
    references=("https://kubernetes.io/docs/concepts/security/service-accounts/",),
    enabled_by_default=False,
)
def shared_service_account(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    users: dict[tuple[str | None, str], list[K8sObject]] = defaultdict(list)
    for obj in workloads(group):
        account = service_account_of(obj)
        if "helm.sh/hook" not in obj.annotations and _mounts_token(group, obj, account):
            users[(obj.namespace, account)].append(obj)
    for (_, account), objs in users.items():
        if len(objs) < 2:
            continue
        for obj in objs:
            others = ", ".join(f"{o.kind} {o.name}" for o in objs if o is not obj)
            yield Violation(
                f"ServiceAccount {account!r} is shared with {others}", _sa_path(obj), obj=obj
            )
