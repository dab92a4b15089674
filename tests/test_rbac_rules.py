"""RBAC rules (KV401-KV406): wildcards, dangerous grants, bindings, service accounts."""

from __future__ import annotations

import pytest

from kubevet.api import check_yaml


def hits(text: str, code: str) -> list:
    return [f for f in check_yaml(text, select=[code]) if f.code == code]


def role(rules: str, kind: str = "Role", meta: str = "") -> str:
    ns = "  namespace: shop\n" if kind == "Role" else ""
    return f"""\
apiVersion: rbac.authorization.k8s.io/v1
kind: {kind}
metadata:
  name: r
{ns}{meta}rules:
{rules}"""


def rule_(groups: str, resources: str, verbs: str, extra: str = "") -> str:
    return f"  - apiGroups: {groups}\n    resources: {resources}\n    verbs: {verbs}\n{extra}"


@pytest.mark.parametrize(
    ("rules", "fields"),
    [
        (rule_('["*"]', "[deployments]", "[get]"), ["apiGroups"]),
        (rule_('[""]', '["*"]', "[get]"), ["resources"]),
        (rule_('[""]', "[configmaps]", '["*"]'), ["verbs"]),
        (rule_('["*"]', '["*"]', '["*"]'), ["apiGroups", "resources", "verbs"]),
        (rule_('[""]', '["pods/*"]', "[get]"), ["resources"]),
        (rule_('[""]', "[pods, pods/log]", "[get, list]"), []),
    ],
)
def test_wildcard_fields(rules, fields):
    found = hits(role(rules), "KV401")
    assert sorted(f.path[2] for f in found) == fields
    assert all(f.path[:2] == ("rules", 0) for f in found)


def test_wildcard_in_role_aggregated_into_builtin_roles_says_so():
    meta = '  labels:\n    rbac.authorization.k8s.io/aggregate-to-edit: "true"\n'
    found = hits(role(rule_('["*"]', '["*"]', "[get]"), "ClusterRole", meta), "KV401")
    assert found and all("aggregated into the edit role" in f.message for f in found)


AGGREGATED = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: {shop.example/aggregate-to-monitoring: "true"}
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["*"]
"""


def test_aggregated_cluster_role_rules_are_ignored():
    # The controller overwrites them; the roles it selects are checked on their own.
    assert hits(AGGREGATED, "KV401") == []
    assert hits(AGGREGATED, "KV402") == []


def test_dangerous_grants_one_finding_each():
    rules = rule_('[""]', "[pods, pods/exec, secrets, configmaps]", "[get, create]")
    rules += rule_('["rbac.authorization.k8s.io"]', "[clusterroles]", "[bind, escalate]")
    rules += rule_('[""]', "[serviceaccounts]", "[impersonate]")
    rules += rule_('["admissionregistration.k8s.io"]', "[mutatingwebhookconfigurations]", "[patch]")
    rules += rule_('["certificates.k8s.io"]', "[certificatesigningrequests/approval]", "[update]")
    rules += rule_('[""]', "[nodes/proxy]", "[get]")
    found = hits(role(rules, "ClusterRole"), "KV402")
    where = sorted((f.path[1], f.path[3]) for f in found)
    assert where == [(0, 0), (0, 1), (0, 2), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)]
    messages = " | ".join(sorted(f.message for f in found))
    for phrase in (
        "create on pods",
        "create, get on pods/exec",
        "get on secrets",
        "bind, escalate on clusterroles",
        "impersonate on serviceaccounts",
        "admission webhooks",
        "certificate signing requests",
        "nodes/proxy",
    ):
        assert phrase in messages


@pytest.mark.parametrize(
    ("rules", "count"),
    [
        (rule_('[""]', "[secrets]", '["*"]'), 1),  # a verb wildcard still reads secrets
        (rule_('["*"]', "[secrets]", "[list]"), 1),
        (rule_('[""]', "[secrets]", "[get]", "    resourceNames: [tls]\n"), 0),
        (rule_('["apps"]', "[secrets]", "[get]"), 0),  # not the core group
        (rule_('[""]', '["*"]', "[get]"), 0),  # wildcard resources: KV401's finding
        (rule_('[""]', "[secrets]", "[create, delete]"), 0),
        (rule_('[""]', "[pods]", "[get, list, delete]"), 0),
    ],
)
def test_dangerous_grant_semantics(rules, count):
    assert len(hits(role(rules), "KV402")) == count


def binding(kind: str, role_name: str, subject_ns: str = "shop") -> str:
    ns = "  namespace: shop\n" if kind == "RoleBinding" else ""
    return f"""\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: {kind}
metadata:
  name: b
{ns}roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role_name}}}
subjects:
  - {{kind: ServiceAccount, name: backup, namespace: {subject_ns}}}
"""


SECRET_LISTER = role(rule_('[""]', "[secrets]", "[list, watch]"), "ClusterRole").replace(
    "name: r", "name: lister"
)


def test_cluster_wide_binding_reads_all_secrets():
    found = hits(SECRET_LISTER + binding("ClusterRoleBinding", "lister"), "KV403")
    assert len(found) == 1
    assert found[0].object.kind == "ClusterRoleBinding"
    assert "list, watch" in found[0].message and "ServiceAccount shop/backup" in found[0].message


def test_namespaced_binding_to_cluster_role_is_not_cluster_wide():
    assert hits(SECRET_LISTER + binding("RoleBinding", "lister"), "KV403") == []


def test_builtin_edit_role_reads_secrets_and_cluster_admin_is_kv404():
    assert len(hits(binding("ClusterRoleBinding", "edit").lstrip("-\n"), "KV403")) == 1
    assert hits(binding("ClusterRoleBinding", "view").lstrip("-\n"), "KV403") == []
    admin = binding("ClusterRoleBinding", "cluster-admin").lstrip("-\n")
    assert hits(admin, "KV403") == []
    assert len(hits(admin, "KV404")) == 1


def test_aggregated_role_resolved_through_its_selector():
    source = role(rule_('[""]', "[secrets]", "[get]"), "ClusterRole").replace(
        "name: r\n", 'name: part\n  labels: {shop.example/aggregate-to-monitoring: "true"}\n'
    )
    other = role(rule_('[""]', "[secrets]", "[get]"), "ClusterRole").replace("name: r", "name: x")
    bound = binding("ClusterRoleBinding", "monitoring")
    assert len(hits(AGGREGATED + "---\n" + source + bound, "KV403")) == 1
    assert hits(AGGREGATED + "---\n" + other + bound, "KV403") == []


def test_cluster_admin_in_role_binding_is_namespace_wide():
    found = hits(binding("RoleBinding", "cluster-admin").lstrip("-\n"), "KV404")
    assert len(found) == 1 and "in its namespace" in found[0].message


def workload(name: str, account: str | None, extra: str = "") -> str:
    sa = f"      serviceAccountName: {account}\n" if account else ""
    return f"""\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: shop
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
{sa}{extra}      containers:
        - name: app
          image: nginx:1.27
"""


def account(name: str, namespace: str = "shop", extra: str = "") -> str:
    return (
        f"---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n"
        f"  namespace: {namespace}\n{extra}"
    )


def test_missing_service_account_only_when_input_defines_accounts():
    # The account may be created outside the input (KubeLinter false positives #137, #179).
    assert hits(workload("web", "external"), "KV405") == []
    found = hits(account("web") + workload("web", "wbe"), "KV405")
    assert len(found) == 1 and "'wbe'" in found[0].message
    assert found[0].path_text == "spec.template.spec.serviceAccountName"


def test_missing_service_account_namespace_and_default():
    assert hits(account("web") + workload("web", None), "KV405") == []
    assert hits(account("web") + workload("web", "web"), "KV405") == []
    assert len(hits(account("web", "other") + workload("web", "web"), "KV405")) == 1


def test_shared_service_account():
    text = account("app") + workload("web", "app") + workload("api", "app")
    found = hits(text, "KV406")
    assert sorted(f.object.name for f in found) == ["api", "web"]
    assert any("Deployment api" in f.message for f in found)


def test_shared_account_without_token_is_fine():
    no_token = "      automountServiceAccountToken: false\n"
    text = workload("web", "app", no_token) + workload("api", "app")
    assert hits(text, "KV406") == []
    text = account("app", extra="automountServiceAccountToken: false\n")
    assert hits(text + workload("web", "app") + workload("api", "app"), "KV406") == []
