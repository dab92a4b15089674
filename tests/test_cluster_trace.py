"""`kubevet check --cluster` traces the findings of a Helm release's objects to the values key
and template line behind them, through the release Secret (built here from a fixture chart
exactly as Helm stores it) re-rendered locally with the stored values."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import FIXTURES
from helm_release import chart_release, helm_secret
from kube_api import Behaviour, serve

from kubevet.cli import main

CHART = FIXTURES / "cluster" / "chart"
CONFIG = {"securityContext": {"privileged": True}, "replicas": 3}  # helm install --set ...
HELM = {"meta.helm.sh/release-name": "shop", "meta.helm.sh/release-namespace": "shop"}
# The Deployment as the API server returns it: rendered by Helm with CONFIG, then
# defaulted and annotated by the server.
LIVE = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "shop-web",
        "namespace": "shop",
        "labels": {"app": "web", "app.kubernetes.io/managed-by": "Helm"},
        "annotations": {**HELM, "deployment.kubernetes.io/revision": "1"},
        "uid": "0d6c",
        "resourceVersion": "812",
        "generation": 1,
    },
    "spec": {
        "replicas": 3,
        "progressDeadlineSeconds": 600,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "registry.example/web:1.0",
                        "imagePullPolicy": "IfNotPresent",
                        "securityContext": {"privileged": True},
                        "terminationMessagePath": "/dev/termination-log",
                    }
                ],
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
            },
        },
    },
    "status": {"replicas": 3, "readyReplicas": 3},
}


HPA = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "shop-web", "namespace": "shop", "annotations": HELM},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-web"},
        "minReplicas": 2,
        "maxReplicas": 5,
    },
}


def _objects(live: dict) -> list[dict]:
    release = chart_release(CHART, "shop", "shop", CONFIG)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    return [namespace, live, HPA, helm_secret(release)]


@pytest.fixture
def api(tmp_path):
    server = serve(tmp_path, Behaviour(_objects(copy.deepcopy(LIVE))))
    yield server
    server.stop()


def _check(capsys, server, *argv: str) -> tuple[dict, str]:
    main(["check", "--kubeconfig", str(server.kubeconfig), "--format", "json", "-j", "1", *argv])
    out = capsys.readouterr()
    return json.loads(out.out), out.err


def _finding(report: dict, code: str) -> dict:
    (found,) = [f for f in report["findings"] if f["code"] == code]
    return found


def test_a_release_finding_names_the_values_key_and_template_line(api, capsys):
    report, err = _check(capsys, api)
    privileged = _finding(report, "KV105")
    assert privileged["object"]["name"] == "shop-web"
    trace = privileged["trace"]
    assert trace["valuesKeys"] == ["securityContext.privileged"] and trace["status"] == "values"
    assert trace["template"] == "shop/templates/deployment.yaml"
    template = (CHART / "templates" / "deployment.yaml").read_text().splitlines()
    assert "privileged:" in template[trace["templateLine"] - 1]
    image = _finding(report, "KV502")  # not pinned by digest: the image keys
    assert image["trace"]["valuesKeys"] == ["image.repository", "image.tag"]
    assert "not traced" not in err


def test_the_text_report_says_which_key_to_change(api, capsys):
    main(["check", "--kubeconfig", str(api.kubeconfig), "--select", "KV105", "-j", "1"])
    out = capsys.readouterr().out
    assert "(cluster, release shop)" in out
    assert "values: securityContext.privileged" in out
    assert "[shop/templates/deployment.yaml:" in out


def test_changes_made_on_the_cluster_are_counted_not_traced(tmp_path, capsys):
    live = copy.deepcopy(LIVE)  # someone added a sidecar with kubectl edit
    sidecar = {"name": "debug", "image": "busybox", "securityContext": {"privileged": True}}
    live["spec"]["template"]["spec"]["containers"].append(sidecar)
    server = serve(tmp_path, Behaviour(_objects(live)))
    try:
        report, err = _check(capsys, server, "--select", "KV105")
    finally:
        server.stop()
    by_container = {f["container"]: f for f in report["findings"]}
    assert by_container["web"]["trace"]["valuesKeys"] == ["securityContext.privileged"]
    assert by_container["debug"].get("trace") is None
    assert "1 of 2 findings have no counterpart in the stored chart" in err


def test_without_leave_to_read_secrets_it_says_so(api, capsys):
    api.behaviour.forbidden.add("secrets")
    report, err = _check(capsys, api, "--select", "KV105")
    assert _finding(report, "KV105").get("trace") is None
    assert "cannot list secrets (v1): forbidden, skipped" in err
    assert "release shop/shop: no deployed release Secret was read" in err


def test_release_secrets_are_read_by_label_and_never_checked(api, capsys):
    report, _ = _check(capsys, api)
    assert "Secret" not in {f["object"]["kind"] for f in report["findings"]}
    assert {m for m, _ in api.behaviour.requests} == {"GET"}


def test_a_snapshot_dump_is_traced_like_the_live_cluster(tmp_path, capsys):
    import yaml

    dump = tmp_path / "dump.yaml"  # kubectl get deploy,hpa,secret -A -o yaml
    items = _objects(copy.deepcopy(LIVE))
    dump.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}))
    main(["check", str(dump), "--snapshot", "--format", "json", "-j", "1"])
    report = json.loads(capsys.readouterr().out)
    assert _finding(report, "KV105")["trace"]["valuesKeys"] == ["securityContext.privileged"]
    assert "Secret" not in {f["object"]["kind"] for f in report["findings"]}


def test_policy_reports_carry_the_values_key(api, capsys):
    import jsonschema
    import yaml
    from test_cluster import POLICY_REPORT

    main(["check", "--kubeconfig", str(api.kubeconfig), "--format", "policyreport", "-j", "1"])
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    for doc in docs:
        jsonschema.validate(doc, POLICY_REPORT)
    shop = next(d for d in docs if d["metadata"]["name"] == "kubevet-shop")
    (privileged,) = [r for r in shop["results"] if r["policy"] == "KV105"]
    props = privileged["properties"]
    assert props["helmRelease"] == "shop" and props["helmChart"] == "shop-0.3.0"
    assert props["valuesKeys"] == "securityContext.privileged"
    assert props["template"].startswith("shop/templates/deployment.yaml:")
