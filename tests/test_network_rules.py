"""Services and Ingresses (KV602-KV604)."""

from __future__ import annotations

import pytest

from kubevet.api import check_yaml
from kubevet.context import Options


def hits(text: str, code: str, options: Options | None = None) -> list:
    return [f for f in check_yaml(text, select=[code], options=options) if f.code == code]


def service(selector: str | None = "{app: web}", namespace: str = "shop", extra: str = "") -> str:
    sel = f"  selector: {selector}\n" if selector is not None else ""
    return f"""\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {namespace}
spec:
{sel}{extra}  ports:
    - port: 80
"""


def workload(kind: str, labels: str) -> str:
    prefix = "      " if kind == "CronJob" else ""
    body = f"""\
template:
  metadata:
    labels: {labels}
  spec:
    restartPolicy: OnFailure
    containers:
      - name: app
        image: nginx:1.27
"""
    body = "".join(f"{prefix}  {line}\n" for line in body.splitlines())
    head = '  schedule: "@daily"\n  jobTemplate:\n    spec:\n' if kind == "CronJob" else ""
    return (
        f"---\napiVersion: batch/v1\nkind: {kind}\nmetadata:\n  name: w\n  namespace: shop\n"
        f"spec:\n{head}{body}"
    )


def test_nodeport_fix_removes_node_ports():
    text = service(extra="  type: NodePort\n").replace(
        "port: 80\n", "port: 80\n      nodePort: 30080\n"
    )
    found = hits(text, "KV602")
    assert len(found) == 1 and found[0].path_text == "spec.type"
    edits = {(e.op, e.path) for e in found[0].fix.edits}
    assert edits == {("set", ("spec", "type")), ("remove", ("spec", "ports", 0, "nodePort"))}
    assert hits(service(extra="  type: LoadBalancer\n"), "KV602") == []


@pytest.mark.parametrize(
    ("labels", "dangling"),
    [
        ("{app: web, tier: frontend}", False),  # the selector is a subset of the labels
        ("{app: web}", False),
        ("{app: webapp}", True),
        ("{tier: frontend}", True),
    ],
)
def test_dangling_service_label_matching(labels, dangling):
    found = hits(service() + workload("Job", labels), "KV603")
    assert bool(found) is dangling


def test_dangling_service_matches_cronjob_pods_and_int_labels():
    assert (
        hits(service("{app: web, v: 2}") + workload("CronJob", '{app: web, v: "2"}'), "KV603") == []
    )


def test_dangling_service_needs_pods_in_its_own_namespace():
    text = service(namespace="blog") + workload("Job", "{app: web}")
    assert hits(text, "KV603") == []  # the input runs no pods in blog: cannot judge
    text = service(namespace="shop", selector="{app: api}") + workload("Job", "{app: web}")
    found = hits(text, "KV603")
    assert len(found) == 1 and "app=api" in found[0].message


def test_operator_made_pods_are_not_dangling():
    prom = (
        "---\napiVersion: monitoring.coreos.com/v1\nkind: Prometheus\n"
        "metadata:\n  name: main\n  namespace: shop\n"
    )
    text = service(selector="{prometheus: main}") + workload("Job", "{app: web}")
    assert len(hits(text, "KV603")) == 1
    assert hits(text + prom, "KV603") == []


@pytest.mark.parametrize(
    "text",
    [
        service(selector=None),
        service(
            selector="{app: db}", extra="  type: ExternalName\n  externalName: db.example.com\n"
        ),
    ],
    ids=["no-selector", "external-name"],
)
def test_services_without_pods_by_design(text):
    assert hits(text + workload("Job", "{app: other}"), "KV603") == []


INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  rules:
{rules}"""
BACKEND = (
    "      http:\n        paths:\n          - {path: /, pathType: Prefix, "
    "backend: {service: {name: web, port: {number: 80}}}}\n"
)


@pytest.mark.parametrize(
    ("host", "flagged"),
    [('"*"', True), ('"*.com"', True), ('"*.example.com"', False), ("shop.example.com", False)],
)
def test_ingress_hosts(host, flagged):
    text = INGRESS.format(rules=f"    - host: {host}\n" + BACKEND)
    assert bool(hits(text, "KV604")) is flagged


def test_hostless_rule_only_with_option():
    text = INGRESS.format(rules="    -" + BACKEND[5:])
    assert hits(text, "KV604") == []
    options = Options(rule_settings={"KV604": {"missing_host": True}})
    found = hits(text, "KV604", options)
    assert len(found) == 1 and found[0].path_text == "spec.rules[0]"


def test_nodeport_fix_drops_fields_a_clusterip_service_may_not_have():
    text = """\
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: shop}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: dns}
  ports:
    - port: 53
      nodePort: 30053
"""
    (finding,) = [f for f in check_yaml(text, select=["KV602"]) if f.code == "KV602"]
    edits = {(e.op, e.path) for e in finding.fix.edits}
    assert edits == {
        ("set", ("spec", "type")),
        ("remove", ("spec", "ports", 0, "nodePort")),
        ("remove", ("spec", "externalTrafficPolicy")),
    }
