"""KV701-KV703 in `kubevet check`: removed, deprecated and CRD-deprecated API versions."""

from __future__ import annotations

from conftest import FIXTURES

from kubevet.api import check_yaml
from kubevet.context import Options

CRONJOB = (
    "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: a}\n"
    "spec: {schedule: '* * * * *', jobTemplate: {spec: {template: {spec: "
    "{restartPolicy: Never, containers: [{name: a, image: 'a:1'}]}}}}}\n"
)


def codes(text: str, kube_version: str | None) -> dict[str, str]:
    found = check_yaml(text, select=["upgrade"], options=Options(kube_version=kube_version))
    return {f.code: f.message for f in found}


def test_target_before_deprecation_is_silent():
    assert codes(CRONJOB, "1.20") == {}


def test_deprecated_but_served_is_kv702():
    found = codes(CRONJOB, "1.24")
    assert set(found) == {"KV702"}
    assert "removed in 1.25" in found["KV702"] and "use batch/v1" in found["KV702"]


def test_removed_at_target_is_kv701():
    found = codes(CRONJOB, "v1.25.3")
    assert set(found) == {"KV701"} and "target 1.25" in found["KV701"]


def test_default_target_is_the_newest_table_release():
    flow = "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\n"
    flow += "metadata: {name: a}\n"
    assert set(codes(flow, None)) == {"KV701"}
    assert set(codes(flow, "1.30")) == {"KV702"}


def test_removed_finding_points_at_api_version_line():
    found = check_yaml(CRONJOB, select=["KV701"], options=Options(kube_version="1.29"))
    assert found[0].line == 1 and found[0].path == ("apiVersion",)


def test_crd_versions_across_a_file():
    text = (FIXTURES / "upgrade" / "crds.yaml").read_text()
    found = check_yaml(text, select=["KV703"])
    assert {(f.object.name, f.code) for f in found} == {("old", "KV703"), ("older", "KV703")}
