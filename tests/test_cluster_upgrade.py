"""`kubevet upgrade --cluster --to X` on the test API server (tests/kube_api.py): the running
release from /version, CRDs from discovery in the charts' capabilities, removed versions
found through the deployed Helm releases and last-applied configurations (the live object
is served in any version), an audit log, all in one verdict; GETs only."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES
from helm_release import chart_release, helm_secret
from kube_api import RESOURCES, Behaviour, serve

from kubevet.cli import main

CHART = FIXTURES / "cluster" / "chart"
# What Helm stored when the release was installed on 1.22, where autoscaling/v2 was not served.
MANIFEST = """\
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "registry.example/web:1.0"}]
---
# Source: shop/templates/hpa.yaml
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata: {name: shop-web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: shop-web}
  minReplicas: 2
  maxReplicas: 5
"""
HELM = {"meta.helm.sh/release-name": "shop", "meta.helm.sh/release-namespace": "shop"}


def _hpa(name: str, annotations: dict) -> dict:
    return {
        "apiVersion": "autoscaling/v2",  # how the server answers, whatever was applied
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": "shop", "annotations": annotations},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 1,
            "maxReplicas": 3,
        },
    }


def _objects() -> list[dict]:
    applied = _hpa("api", {})
    applied["apiVersion"] = "autoscaling/v2beta2"
    last = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)}
    old = chart_release(CHART, "shop", "shop", {}, MANIFEST, revision=1, status="superseded")
    new = chart_release(CHART, "shop", "shop", {"replicas": 3}, MANIFEST, revision=2)
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        _hpa("shop-web", HELM),
        _hpa("api", last),
        _hpa("plain", {}),  # applied as autoscaling/v2: nothing to say
        helm_secret(old),
        helm_secret(new),
    ]


def _resources() -> dict:
    out = dict(RESOURCES)
    out[("autoscaling", "v2")] = [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)]
    out[("autoscaling", "v2beta2")] = out[("autoscaling", "v2")]
    out[("monitoring.coreos.com", "v1")] = [("servicemonitors", "ServiceMonitor", True)]
    return out


@pytest.fixture
def api(tmp_path):
    server = serve(tmp_path, Behaviour(_objects(), version="v1.25.9", resources=_resources()))
    yield server
    server.stop()


def _upgrade(capsys, server, *argv: str) -> tuple[int, dict, str]:
    code = main(["upgrade", "--kubeconfig", str(server.kubeconfig), "--format", "json", *argv])
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


def _blockers(report: dict, source: str) -> list[tuple[str, str, str]]:
    return [
        (o["apiVersion"], o["kind"], o["name"])
        for o in report["objects"]
        if o["source"] == source and any(p["blocker"] for p in o["problems"])
    ]


def test_one_verdict_from_releases_last_applied_and_audit_log(api, tmp_path, capsys):
    audit = tmp_path / "audit.log"
    event = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": "a1",
        "stage": "ResponseComplete",
        "verb": "list",
        "requestURI": "/apis/autoscaling/v2beta2/horizontalpodautoscalers",
        "user": {"username": "system:serviceaccount:ops:scaler"},
        "userAgent": "old-scaler/1.0",
        "objectRef": {"resource": "horizontalpodautoscalers", "apiGroup": "autoscaling"}
        | {"apiVersion": "v2beta2"},
        "requestReceivedTimestamp": "2026-11-20T08:00:00Z",
        "annotations": {"k8s.io/deprecated": "true", "k8s.io/removed-release": "1.26"},
    }
    audit.write_text(json.dumps(event) + "\n")
    code, report, err = _upgrade(capsys, api, "--to", "1.26", "--audit-log", str(audit))
    assert code == 1 and report["blocked"], err
    assert report["from"] == "1.25" and not report["from_assumed"]  # from /version
    assert report["cluster"]["version"] == "v1.25.9"
    # the stored manifest of the deployed revision (v2), not the superseded one
    stored = _blockers(report, "release")
    assert stored == [("autoscaling/v2beta2", "HorizontalPodAutoscaler", "shop-web")]
    assert _blockers(report, "last-applied") == [
        ("autoscaling/v2beta2", "HorizontalPodAutoscaler", "api")
    ]
    assert _blockers(report, "cluster") == []  # live objects come back as autoscaling/v2
    assert [u["user_agent"] for u in report["audit"] if u["removed_by_target"]] == [
        "old-scaler/1.0"
    ]
    assert report["blockers"] == 3  # one verdict over the three sources
    labels = [i["label"] for i in report["inputs"]]
    assert "release shop/shop v2 (shop-0.3.0) stored manifest" in labels
    assert not any(" v1 " in label for label in labels)


def test_the_stored_chart_renders_with_the_clusters_crds(api, capsys):
    _, report, _ = _upgrade(capsys, api, "--to", "1.26")
    inputs = {i["label"]: i for i in report["inputs"]}
    rerendered = inputs["release shop/shop v2 (shop-0.3.0) chart re-rendered"]
    # Deployment, HPA in autoscaling/v2, and the ServiceMonitor the discovered CRD enables
    assert rerendered["objects"] == 3 and rerendered["state"] == "OK"
    assert "monitoring.coreos.com/v1/ServiceMonitor" in report["cluster"]["custom_api_versions"]


def test_each_kind_is_read_once_in_a_version_the_target_serves(api, capsys):
    _upgrade(capsys, api, "--to", "1.26")
    paths = [p for _, p in api.behaviour.requests]
    assert "/apis/autoscaling/v2/horizontalpodautoscalers" in paths
    assert "/apis/autoscaling/v2beta2/horizontalpodautoscalers" not in paths
    assert {m for m, _ in api.behaviour.requests} == {"GET"}  # never a write


def test_a_kind_only_served_in_a_removed_version_blocks(tmp_path, capsys):
    psp = {
        "apiVersion": "policy/v1beta1",
        "kind": "PodSecurityPolicy",
        "metadata": {"name": "restricted"},
        "spec": {
            "privileged": False,
            "seLinux": {"rule": "RunAsAny"},
            "runAsUser": {"rule": "MustRunAsNonRoot"},
            "supplementalGroups": {"rule": "RunAsAny"},
            "fsGroup": {"rule": "RunAsAny"},
        },
    }
    resources = _resources()
    resources[("policy", "v1beta1")] = [("podsecuritypolicies", "PodSecurityPolicy", False)]
    server = serve(tmp_path, Behaviour([psp], version="v1.24.17", resources=resources))
    try:
        code, report, _ = _upgrade(capsys, server, "--to", "1.25")
    finally:
        server.stop()
    assert _blockers(report, "cluster") == [("policy/v1beta1", "PodSecurityPolicy", "restricted")]
    assert code == 1 and report["from"] == "1.24"
    assert any("policy/v1beta1" in line for line in report["cluster"]["notes"])


def test_a_cluster_newer_than_the_target_is_an_error(api, capsys):
    code, _, err = _upgrade(capsys, api, "--to", "1.24")
    assert code == 2 and "newer than the target 1.24" in err


def test_text_names_the_cluster(api, capsys):
    main(["upgrade", "--kubeconfig", str(api.kubeconfig), "--to", "1.26"])
    out = capsys.readouterr().out
    assert out.startswith("Upgrade from 1.25 to Kubernetes 1.26: BLOCKED")
    assert "cluster: context test, Kubernetes v1.25.9 (/version)" in out
    assert "(cluster)  HorizontalPodAutoscaler shop/api  (autoscaling/v2beta2)" in out


def test_a_snapshot_dump_gives_the_live_verdict(api, tmp_path, capsys):
    import yaml

    dump = tmp_path / "dump.yaml"
    dump.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": _objects()}))
    _, live, _ = _upgrade(capsys, api, "--to", "1.26")
    argv = ["upgrade", str(dump), "--snapshot", "--to", "1.26", "--from", "1.25"]
    code = main([*argv, "--format", "json"])
    snap = json.loads(capsys.readouterr().out)
    assert code == 1 and snap["blockers"] == live["blockers"] == 2
    for source in ("release", "last-applied"):
        assert _blockers(snap, source) == _blockers(live, source)
