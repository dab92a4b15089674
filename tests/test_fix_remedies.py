"""The remedies of KV301/KV302 (a tcpSocket probe) and KV112 (a securityContext), proven
end to end with `kubevet fix`: the findings go, no finding comes, untouched lines stay."""

from __future__ import annotations

import difflib
import json
import shutil
from collections import Counter

import kubernetes_validate
import pytest
import yaml
from conftest import FIXTURES

from kubevet.api import check_yaml
from kubevet.cli import main

REMEDIES = FIXTURES / "fix" / "remedies"
FIXED = {"KV301", "KV302", "KV112"}
POD = ("spec", "template", "spec")


def _copy(tmp_path, name):
    path = tmp_path / name
    shutil.copy(REMEDIES / name, path)
    return path


def _findings(path, capsys, *args):
    capsys.readouterr()
    main(["check", str(path), "--format", "json", *args])
    return json.loads(capsys.readouterr().out)["findings"]


def _by_rule(findings):
    return Counter(f["code"] for f in findings)


def _fix(path, *args):
    assert main(["fix", str(path), "--unsafe-fixes", *args]) == 0


def _docs(path):
    return list(yaml.safe_load_all(path.read_text()))


def test_unsafe_fix_removes_the_findings_and_adds_none(tmp_path, capsys):
    path = _copy(tmp_path, "app.yaml")
    before = _findings(path, capsys)
    _fix(path)
    after = _findings(path, capsys)
    counts_before, counts_after = _by_rule(before), _by_rule(after)
    for code, n in counts_after.items():  # rule by rule: nothing new, nothing more
        assert n <= counts_before[code], f"{code}: {counts_before[code]} -> {n}"
    assert counts_after["KV112"] == 0 < counts_before["KV112"]
    # only the portless sidecar keeps its probe findings, with the reason as display-only
    left = [f for f in after if f["code"] in ("KV301", "KV302")]
    assert {f["container"] for f in left} == {"sidecar"}
    assert counts_before["KV301"] == 3 and counts_before["KV302"] == 3
    for f in left:
        assert f["fix"]["applicability"] == "display-only" and not f["fix"]["edits"]
        assert "no TCP containerPort" in f["fix"]["description"]


def test_pod_context_composes_with_the_other_fixes_of_the_object(tmp_path):
    path = _copy(tmp_path, "app.yaml")
    _fix(path)
    deployment, statefulset = _docs(path)
    for doc in (deployment, statefulset):
        pod = doc["spec"]["template"]["spec"]
        # KV112, KV101 (runAsNonRoot + runAsUser) and KV113 all wrote into the same new map
        assert pod["securityContext"] == {
            "runAsUser": 10001,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    redis = statefulset["spec"]["template"]["spec"]["containers"][0]
    assert redis["securityContext"]["allowPrivilegeEscalation"] is False


def test_probes_check_the_first_tcp_port_with_every_timing_field(tmp_path):
    path = _copy(tmp_path, "app.yaml")
    _fix(path, "--select", ",".join(sorted(FIXED)))
    deployment, statefulset = _docs(path)
    web, sidecar = deployment["spec"]["template"]["spec"]["containers"]
    redis = statefulset["spec"]["template"]["spec"]["containers"][0]
    assert web["livenessProbe"]["tcpSocket"] == {"port": 8080}  # the UDP port is skipped
    assert redis["readinessProbe"]["tcpSocket"] == {"port": 6379}
    assert "livenessProbe" not in sidecar and "readinessProbe" not in sidecar
    assert web["livenessProbe"]["initialDelaySeconds"] == 10
    assert web["readinessProbe"]["periodSeconds"] == 5
    # every timing field written: the opt-in KV303 has nothing to say about the new probes
    kv303 = check_yaml(path.read_text(), select=["KV303"])
    assert not kv303, [f.message for f in kv303]


@pytest.mark.parametrize("name", ["app.yaml", "edge.yaml"])
def test_fixed_objects_validate_strictly(tmp_path, name):
    path = _copy(tmp_path, name)
    _fix(path)
    assert path.read_text() != (REMEDIES / name).read_text()
    version = kubernetes_validate.latest_version()
    for doc in _docs(path):
        kubernetes_validate.validate(doc, version, strict=True)


def test_untouched_lines_keep_their_bytes_and_comments(tmp_path):
    path = _copy(tmp_path, "app.yaml")
    old = path.read_text()
    _fix(path, "--select", ",".join(sorted(FIXED)))
    new = path.read_text()
    matcher = difflib.SequenceMatcher(a=old.splitlines(True), b=new.splitlines(True))
    changed = [op for op in matcher.get_opcodes() if op[0] in ("replace", "delete")]
    assert not changed, "the remedies only insert lines"
    assert len(new.splitlines()) > len(old.splitlines())
    assert "  name: storefront   # the public site\n" in new


def test_edge_cases_empty_flow_context_windows_and_named_port(tmp_path, capsys):
    path = _copy(tmp_path, "edge.yaml")
    before = _findings(path, capsys)
    _fix(path, "--select", ",".join(sorted(FIXED)))
    api, agent = _docs(path)
    api_pod, agent_pod = api["spec"]["template"]["spec"], agent["spec"]["template"]["spec"]
    assert api_pod["securityContext"] == {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert "# left empty by a chart default" in path.read_text()
    assert api_pod["containers"][0]["livenessProbe"]["tcpSocket"] == {"port": 50051}
    # Windows: no seccompProfile, no Linux-only container field, no probe on a UDP port
    assert agent_pod["securityContext"] == {"runAsNonRoot": True}
    assert "securityContext" not in agent_pod["containers"][0]
    after = _findings(path, capsys)
    counts_before = _by_rule(before)
    for code, n in _by_rule(after).items():
        assert n <= counts_before[code], f"{code}: {counts_before[code]} -> {n}"
    left = {(f["code"], f["container"]) for f in after if f["code"] in FIXED}
    assert left == {("KV112", "agent"), ("KV301", "agent"), ("KV302", "agent")}


def test_without_unsafe_fixes_only_the_safe_container_context_is_applied(tmp_path, capsys):
    path = _copy(tmp_path, "app.yaml")
    assert main(["fix", str(path), "--select", ",".join(sorted(FIXED))]) == 0
    statefulset = _docs(path)[1]
    pod = statefulset["spec"]["template"]["spec"]
    assert "securityContext" not in pod and "livenessProbe" not in pod["containers"][0]
    assert pod["containers"][0]["securityContext"] == {"allowPrivilegeEscalation": False}
    assert "unsafe fix (use --unsafe-fixes)" in capsys.readouterr().out
