"""`kubevet check --cluster` against a Kubernetes API served by the test (tests/kube_api.py):
discovery, paging, 403/410/500 handling, read-only, pods folded into their owners, and the
same findings as the same objects checked as files."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import FIXTURES
from kube_api import Behaviour, serve

from kubevet.cli import main

OBJECTS = list(yaml.safe_load_all((FIXTURES / "cluster" / "objects.yaml").read_text()))


@pytest.fixture
def api(tmp_path):
    server = serve(tmp_path, Behaviour(objects=[dict(o) for o in OBJECTS]))
    yield server
    server.stop()


def _check(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(["check", *argv, "--format", "json", "-j", "1"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else {}, out.err


def _keys(report: dict) -> set[tuple]:
    return {
        (
            f["code"],
            f["object"]["kind"],
            f["object"]["namespace"],
            f["object"]["name"],
            f["path"],
            f["container"],
        )
        for f in report["findings"]
    }


def test_cluster_findings_equal_the_same_objects_as_files(api, tmp_path, capsys):
    code, live, _ = _check(capsys, "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert code == 1 and live["summary"]["errors"] == 0
    # The same objects as files: what a controller made (the ReplicaSet, its pods) is left
    # out, since its owner is checked; status and server metadata do not matter to rules.
    made = {"web-7d9c", "web-7d9c-aaaa", "web-7d9c-bbbb"}
    files = [o for o in OBJECTS if o["metadata"]["name"] not in made]
    (tmp_path / "objects.yaml").write_text(yaml.safe_dump_all(files))
    _, offline, _ = _check(capsys, str(tmp_path / "objects.yaml"))
    assert _keys(live) == _keys(offline)
    names = {f["object"]["name"] for f in live["findings"]}
    assert "web" in names and "debug" in names and "etcd-node1" in names
    assert not names & made  # one finding per Deployment, not per replica
    privileged = [f for f in live["findings"] if f["code"] == "KV105"]
    assert [f["object"]["name"] for f in privileged] == ["web"]


def test_paging_restarts_on_410_and_retries_a_500(api, capsys):
    api.behaviour.expire_once.add("pods")
    api.behaviour.flaky_once.add("deployments")
    code, live, _ = _check(capsys, "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert code == 1 and live["summary"]["errors"] == 0
    pods = {f["object"]["name"] for f in live["findings"] if f["object"]["kind"] == "Pod"}
    assert pods == {"debug", "etcd-node1"}
    assert {"web"} <= {f["object"]["name"] for f in live["findings"]}
    lists = [p for m, p in api.behaviour.requests if p == "/api/v1/pods"]
    assert len(lists) >= 4  # two pages, the expired one, then the list again


def test_forbidden_kinds_are_skipped_with_one_line(api, capsys):
    api.behaviour.forbidden.add("clusterroles")
    code, live, err = _check(capsys, "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert "cannot list clusterroles (rbac.authorization.k8s.io/v1): forbidden, skipped" in err
    assert "ClusterRole" not in {f["object"]["kind"] for f in live["findings"]}
    assert code == 1  # the rest is still checked and reported


def test_nothing_is_written_to_the_cluster(api, capsys):
    _check(capsys, "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert api.behaviour.requests and {m for m, _ in api.behaviour.requests} == {"GET"}


def test_one_namespace(api, capsys):
    _, live, _ = _check(capsys, "--kubeconfig", str(api.kubeconfig), "--cluster", "-n", "shop")
    assert {f["object"]["namespace"] for f in live["findings"]} == {"shop"}
    assert not [p for _, p in api.behaviour.requests if p.endswith("/clusterroles")]


def test_release_is_named_in_text(api, capsys):
    main(["check", "--kubeconfig", str(api.kubeconfig), "--cluster", "--select", "KV105"])
    assert "(cluster, release shop)" in capsys.readouterr().out


def test_a_bad_token_is_an_input_error(api, capsys):
    config = json.loads(api.kubeconfig.read_text())
    config["users"][0]["user"]["token"] = "wrong"
    api.kubeconfig.write_text(json.dumps(config))
    code, _, err = _check(capsys, "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert code == 2 and "401" in err


# The PolicyReport CRD's v1alpha2 schema, the parts kubevet writes (kubernetes-sigs
# wg-policy-prototypes, policy-report/crd/v1alpha2: wgpolicyk8s.io_policyreports.yaml).
_RESULT = {
    "type": "object",
    "required": ["policy"],
    "properties": {
        "policy": {"type": "string"},
        "rule": {"type": "string"},
        "category": {"type": "string"},
        "severity": {"enum": ["critical", "high", "low", "medium", "info"]},
        "result": {"enum": ["pass", "fail", "warn", "error", "skip"]},
        "source": {"type": "string"},
        "message": {"type": "string"},
        "properties": {"type": "object", "additionalProperties": {"type": "string"}},
        "resources": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    k: {"type": "string"}
                    for k in ("apiVersion", "kind", "name", "namespace", "uid")
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}
POLICY_REPORT = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata"],
    "properties": {
        "apiVersion": {"const": "wgpolicyk8s.io/v1alpha2"},
        "kind": {"enum": ["PolicyReport", "ClusterPolicyReport"]},
        "metadata": {"type": "object", "required": ["name"]},
        "summary": {
            "type": "object",
            "properties": {
                k: {"type": "integer"} for k in ("pass", "fail", "warn", "error", "skip")
            },
            "additionalProperties": False,
        },
        "results": {"type": "array", "items": _RESULT},
    },
    "additionalProperties": False,
}


def test_policy_reports_per_namespace_validate(api, capsys):
    import jsonschema

    main(["check", "--kubeconfig", str(api.kubeconfig), "--cluster", "--format", "policyreport"])
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    for doc in docs:
        jsonschema.validate(doc, POLICY_REPORT)
    by_name = {d["metadata"]["name"]: d for d in docs}
    assert set(by_name) == {"kubevet-cluster", "kubevet-kube-system", "kubevet-shop"}
    assert by_name["kubevet-cluster"]["kind"] == "ClusterPolicyReport"
    shop = by_name["kubevet-shop"]
    assert shop["metadata"]["namespace"] == "shop"
    assert shop["summary"]["fail"] == len(shop["results"]) > 0
    web = [r for r in shop["results"] if r["policy"] == "KV105"]
    assert web[0]["resources"][0]["name"] == "web"
    assert web[0]["properties"]["helmRelease"] == "shop"


def test_snapshot_dump_is_checked_like_the_live_cluster(api, tmp_path, capsys):
    _, live, _ = _check(capsys, "--kubeconfig", str(api.kubeconfig), "--cluster")
    dump = {"apiVersion": "v1", "kind": "List", "items": OBJECTS}  # kubectl get -A -o yaml
    (tmp_path / "dump.yaml").write_text(yaml.safe_dump(dump))
    _, snap, _ = _check(capsys, str(tmp_path / "dump.yaml"), "--snapshot")
    assert _keys(snap) == _keys(live)
    _, raw, _ = _check(capsys, str(tmp_path / "dump.yaml"))
    assert len(raw["findings"]) > len(snap["findings"])  # without --snapshot, every replica


def test_an_unreachable_server_is_an_input_error(api, capsys):
    api.stop()
    code, _, err = _check(capsys, "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert code == 2 and "cannot reach the cluster" in err and "internal error" not in err


def test_a_kind_is_read_in_the_version_the_cluster_serves(tmp_path, capsys):
    """A 1.22 cluster serves HorizontalPodAutoscalers in autoscaling/v2beta2 only."""
    from kube_api import RESOURCES

    hpa = {
        "apiVersion": "autoscaling/v2beta2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 4,
        },
    }
    resources = {k: v for k, v in RESOURCES.items() if k[0] != "autoscaling"}
    resources[("autoscaling", "v2beta2")] = [
        ("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)
    ]
    server = serve(tmp_path, Behaviour([*[dict(o) for o in OBJECTS], hpa], resources=resources))
    try:
        _, live, _ = _check(capsys, "--kubeconfig", str(server.kubeconfig), "--select", "KV314")
    finally:
        server.stop()
    assert [f["object"]["name"] for f in live["findings"]] == ["web"]  # the HPA was read
    assert (
        "GET",
        "/apis/autoscaling/v2beta2/horizontalpodautoscalers",
    ) in server.behaviour.requests


def test_aggregated_discovery_takes_two_requests_and_finds_the_same(api, capsys):
    _, legacy, _ = _check(capsys, "--kubeconfig", str(api.kubeconfig), "--cluster")
    api.behaviour.requests.clear()
    api.behaviour.aggregated = True
    _, aggregated, _ = _check(capsys, "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert _keys(aggregated) == _keys(legacy) and aggregated["findings"]
    asked = [p for _, p in api.behaviour.requests]
    assert "/apis/apps/v1" not in asked and "/api/v1" not in asked  # no per-version documents
    assert "/apis/apps/v1/deployments" in asked
