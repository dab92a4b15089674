"""False answers reported against kubevet rules (issue 21), each pinned by a fixture."""

from __future__ import annotations

from collections import defaultdict

from conftest import FIXTURES

from kubevet.api import check_yaml
from kubevet.context import Options

HERE = FIXTURES / "accuracy"


def findings(fixture: str, *codes: str, version: str = "latest") -> dict[str, list]:
    text = (HERE / fixture).read_text()
    out: dict[str, list] = defaultdict(list)
    for f in check_yaml(text, select=codes, options=Options(pss_version=version)):
        out[f.code].append(f)
    return out


def test_low_ids_in_a_user_namespace_are_not_reported():
    for version in ("1.22", "1.30", "latest"):
        found = findings("user-namespace.yaml", "KV103", "KV104", version=version)
        assert {f.object.name for f in found["KV103"]} == {"host-users"}, version
        assert {f.object.name for f in found["KV104"]} == {"host-users"}, version
        (uid,) = found["KV103"]
        assert uid.path_text == "spec.template.spec.securityContext.runAsUser"


def test_runtime_socket_directories_and_their_parents_are_reported():
    found = findings("runtime-socket-dirs.yaml", "KV126")["KV126"]
    volumes = {f.path[2] for f in found}
    # volumes[0..8] expose a socket; /var/lib/docker, /var, /run/lock and logs do not
    assert volumes == set(range(9))
    by_index = {f.path[2]: f.message for f in found}
    assert "socket's directory /var/run/docker" in by_index[0]
    assert "runtime socket /run/containerd/containerd.sock" in by_index[7]
    assert all(f.path[3:] == ("hostPath", "path") for f in found)


def test_explicit_automount_is_accepted_only_with_a_granting_binding():
    found = findings("automount-explicit.yaml", "KV133")["KV133"]
    assert sorted(f.object.name for f in found) == ["lonely", "pusher"]
    for f in found:
        assert "no binding in the input grants it" in f.message
        assert f.fix.applicability == "unsafe"  # a binding elsewhere may be the reason


def test_empty_pull_policy_is_unset_not_invalid():
    found = findings("pull-policy-empty.yaml", "KV503", "KV506")
    assert [f.container for f in found["KV506"]] == ["typo"]
    (tagged,) = found["KV503"]
    assert tagged.container == "empty-tag" and "defaults to IfNotPresent" in tagged.message


def test_literal_credentials_in_env_are_reported_references_and_paths_are_not():
    found = findings("env-entries.yaml", "KV139")["KV139"]
    assert sorted(f.path_text for f in found) == [
        "spec.template.spec.containers[0].env[0].value",
        "spec.template.spec.containers[0].env[1].value",
    ]


def test_duplicate_env_entries_and_when_removing_the_earlier_one_is_safe():
    found = {f.path[-1]: f for f in findings("env-entries.yaml", "KV313")["KV313"]}
    assert sorted(found) == [6, 9]  # the earlier MODE and the earlier LEVEL
    # $(MODE) between the two MODE entries sees the earlier value: removing it is unsafe
    assert found[6].fix.applicability == "unsafe"
    assert found[9].fix.applicability == "safe"
    assert "env[10]" in found[9].message


def test_replicas_on_autoscaled_workloads_only_with_an_autoscaler_of_the_namespace():
    (f,) = findings("autoscaled.yaml", "KV314")["KV314"]
    assert (f.object.kind, f.object.name, f.path_text) == ("StatefulSet", "db", "spec.replicas")
    assert f.fix.applicability == "unsafe"


def test_apparmor_annotation_must_name_a_container_of_the_pod():
    (found,) = findings("apparmor-names.yaml", "KV141")["KV141"]
    assert found.object.name == "renamed"
    key = "container.apparmor.security.beta.kubernetes.io/nginx"
    assert found.path_text == f"spec.template.metadata.annotations.{key}"
    assert "'nginx'" in found.message and "'app'" in found.message


def test_policy_peers_meant_for_the_release_must_select_its_pods():
    found = findings("policy-peers.yaml", "KV610")["KV610"]
    assert sorted(f.path_text for f in found) == [
        "spec.egress[0].to[1].podSelector",
        "spec.ingress[0].from[0].podSelector",
        "spec.ingress[0].from[4].podSelector",
        "spec.ingress[0].from[6].podSelector",
    ]
    by_peer = {f.path[4]: f.message for f in found if f.path[1] == "ingress"}
    assert "app.kubernetes.io/instance=shop in shop" in by_peer[0]
    assert "in other" in by_peer[4]
    assert "release=shop" in by_peer[6]


def test_policy_peer_instance_labels_are_an_option():
    text = (HERE / "policy-peers.yaml").read_text()
    options = Options(rule_settings={"KV610": {"instance_labels": ["release"]}})
    found = [f for f in check_yaml(text, select=["KV610"], options=options)]
    assert [f.path_text for f in found] == ["spec.ingress[0].from[6].podSelector"]
    # without pods of the release in the input nothing is judged
    policy_only = text.split("---\napiVersion: networking.k8s.io/v1")[1]
    assert check_yaml("apiVersion: networking.k8s.io/v1" + policy_only, select=["KV610"]) == []
