"""Namespaces and labels (KV801-KV803)."""

from __future__ import annotations

import pytest

from kubevet.api import check_yaml, load_yaml
from kubevet.context import Options
from kubevet.engine import check_group
from kubevet.rules.registry import select_rules


def hits(text: str, code: str, options: Options | None = None) -> list:
    return [f for f in check_yaml(text, select=[code], options=options) if f.code == code]


def obj(kind: str = "ConfigMap", meta: str = "", api: str = "v1") -> str:
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: x\n{meta}"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (obj(meta="  namespace: default\n"), "metadata.namespace"),
        (obj(), "metadata"),
        (obj("Service", "  namespace: default\n"), "metadata.namespace"),
    ],
)
def test_default_namespace_in_manifests(text, path):
    found = hits(text, "KV801")
    assert [f.path_text for f in found] == [path]


def test_own_namespace_and_cluster_scoped_kinds_pass():
    assert hits(obj(meta="  namespace: shop\n"), "KV801") == []
    assert hits(obj("ClusterRole", api="rbac.authorization.k8s.io/v1"), "KV801") == []
    assert hits(obj("Namespace"), "KV801") == []


def chart_findings(text: str, release_namespace: str) -> list:
    group = load_yaml(text)
    group.source = "chart"
    for o in group.objects:
        o.default_namespace = release_namespace
    rules = select_rules(["KV801"], include_disabled=True)
    return check_group(group, rules, Options())


def test_chart_objects_get_the_release_namespace():
    # Helm fills the namespace at install time; `.Release.Namespace` renders as `default`.
    assert chart_findings(obj(), "default") == []
    assert chart_findings(obj(meta="  namespace: default\n"), "default") == []
    found = chart_findings(obj(meta="  namespace: default\n"), "shop")
    assert [f.message for f in found] == ["chart hard-codes the default namespace"]


def workload(labels: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: ops
  labels: {labels}
spec:
  selector:
    matchLabels: {{app: agent}}
  template:
    metadata:
      labels: {{app: agent}}
    spec:
      containers:
        - name: agent
          image: busybox:1.36
"""


def test_recommended_labels_missing_and_invalid():
    found = hits(workload('{app.kubernetes.io/name: "-bad-"}'), "KV802")
    messages = sorted(f.message for f in found)
    assert messages == [
        "label app.kubernetes.io/name has an invalid value '-bad-'",
        "missing label(s): app.kubernetes.io/instance",
    ]


def test_recommended_labels_from_options():
    options = Options(rule_settings={"KV802": {"labels": ["team"]}})
    assert hits(workload("{team: ops}"), "KV802", options) == []
    assert len(hits(workload("{app: agent}"), "KV802", options)) == 1


def test_owner_label():
    assert len(hits(workload("{app: agent}"), "KV803")) == 1
    assert len(hits(workload('{owner: ""}'), "KV803")) == 1
    assert hits(workload("{owner: team-ops}"), "KV803") == []
    options = Options(rule_settings={"KV803": {"label": "team"}})
    assert hits(workload("{team: ops}"), "KV803", options) == []


def test_label_rules_off_by_default():
    assert not {"KV802", "KV803"} & {f.code for f in check_yaml(workload("{a: b}"))}
