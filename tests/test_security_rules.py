"""Container and pod hardening rules (rules/security/): findings, paths and fixes."""

from __future__ import annotations

import pytest
import yaml

from kubevet.api import check_yaml
from kubevet.context import Options
from kubevet.findings import Edit
from kubevet.rules.registry import get_rule, select_rules


def deployment(container: dict | None = None, spec: dict | None = None, extra=()) -> str:
    """A Deployment with one container `app`, followed by `extra` documents."""
    body = {"containers": [{"name": "app", "image": "app:1", **(container or {})}], **(spec or {})}
    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {"spec": body}},
    }
    return yaml.safe_dump_all([doc, *extra])


def run(text: str, code: str, version: str = "latest", settings=None) -> list:
    options = Options(pss_version=version, rule_settings=settings or {})
    return [f for f in check_yaml(text, select=[code], options=options) if f.code == code]


C0 = "spec.template.spec.containers[0]"


def test_run_as_non_root_pod_level_covers_containers_but_container_false_wins():
    assert run(deployment(spec={"securityContext": {"runAsNonRoot": True}}), "KV101") == []
    text = deployment(
        {"securityContext": {"runAsNonRoot": False}},
        spec={"securityContext": {"runAsNonRoot": True}},
    )
    assert len(run(text, "KV101")) == 1


def test_allow_privilege_escalation_safe_fix_at_container_path():
    (f,) = run(deployment(), "KV106")
    assert f.path_text == f"{C0}.securityContext.allowPrivilegeEscalation"
    assert f.fix.applicability == "safe"
    assert f.fix.edits == (Edit("set", f.path, False),)


@pytest.mark.parametrize(
    "sc",
    [{"privileged": True}, {"capabilities": {"add": ["CAP_SYS_ADMIN"]}}],
)
def test_no_escalation_fix_where_the_api_would_reject_it(sc):
    (f,) = run(deployment({"securityContext": sc}), "KV106")
    assert f.fix is None and "rejects" in f.message


def test_low_uid_pod_level_is_one_finding_and_container_override_passes():
    spec = {
        "securityContext": {"runAsUser": 1000},
        "initContainers": [{"name": "init", "image": "i"}],
    }
    (f,) = run(deployment(spec=spec), "KV103")
    assert f.path_text == "spec.template.spec.securityContext.runAsUser"
    assert f.fix.edits == (Edit("set", f.path, 10001),) and f.fix.applicability == "unsafe"
    spec["securityContext"] = {"runAsUser": 20000}
    assert run(deployment(spec=spec), "KV103") == []


def test_low_uid_option_and_uid_zero_left_to_kv102():
    text = deployment({"securityContext": {"runAsUser": 5000}})
    assert len(run(text, "KV103")) == 1
    assert run(text, "KV103", settings={"KV103": {"min_uid": 1000}}) == []
    zero = deployment({"securityContext": {"runAsUser": 0}})
    assert run(zero, "KV103", "1.35") == []
    assert len(run(zero, "KV103", "1.22")) == 1  # KV102 does not check before 1.23


def test_off_by_default_rules():
    default = {r.code for r in select_rules()}
    assert {"KV104", "KV107", "KV115", "KV118", "KV136"}.isdisjoint(default)
    assert {"KV101", "KV106", "KV109", "KV111", "KV113", "KV133"} <= default


def test_low_gid():
    (f,) = run(deployment({"securityContext": {"runAsGroup": 0}}), "KV104")
    assert f.path_text == f"{C0}.securityContext.runAsGroup"


def test_drop_net_raw_appends_to_existing_drop_list():
    (f,) = run(deployment({"securityContext": {"capabilities": {"drop": ["CHOWN"]}}}), "KV107")
    assert f.fix.edits == (Edit("append", f.path, "NET_RAW"),)
    assert run(deployment({"securityContext": {"capabilities": {"drop": ["all"]}}}), "KV107") == []


def test_capabilities_restricted_allows_net_bind_service_only():
    sc = {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SETUID"]}}
    (f,) = run(deployment({"securityContext": sc}), "KV109")
    assert "SETUID" in f.message
    assert f.fix.edits == (Edit("remove", (*f.path, 1)),)


def test_sys_admin_in_any_spelling():
    sc = {"capabilities": {"add": ["NET_BIND_SERVICE", "cap_sys_admin"]}}
    (f,) = run(deployment({"securityContext": sc}), "KV108")
    assert f.path_text == f"{C0}.securityContext.capabilities.add[1]"


def test_read_only_root_filesystem():
    (f,) = run(deployment(), "KV111")
    assert f.fix.edits == (Edit("set", f.path, True),) and f.fix.applicability == "unsafe"
    assert run(deployment({"securityContext": {"readOnlyRootFilesystem": True}}), "KV111") == []


def test_missing_security_context_pod_and_container():
    found = {f.path_text for f in run(deployment(), "KV112")}
    assert found == {"spec.template.spec.securityContext", f"{C0}.securityContext"}


def test_seccomp_one_pod_level_finding_when_nothing_set():
    spec = {"initContainers": [{"name": "init", "image": "i"}]}
    (f,) = run(deployment(spec=spec), "KV113")
    assert f.path_text == "spec.template.spec.securityContext.seccompProfile"
    assert f.fix.edits == (Edit("set", f.path, {"type": "RuntimeDefault"}),)
    assert f.fix.applicability == "unsafe"


def test_seccomp_pod_level_finding_names_only_inheriting_containers():
    spec = {
        "initContainers": [
            {
                "name": "init",
                "image": "i",
                "securityContext": {"seccompProfile": {"type": "Localhost"}},
            }
        ]
    }
    (f,) = run(deployment(spec=spec), "KV113")
    # the pod-level profile is the one place to fix: it reaches only the inheriting container
    assert f.path_text == "spec.template.spec.securityContext.seccompProfile"
    assert "'app'" in f.message and "'init'" not in f.message


def test_seccomp_unconfined_is_kv114_not_kv113():
    text = deployment({"securityContext": {"seccompProfile": {"type": "Unconfined"}}})
    assert run(text, "KV113") == []
    assert len(run(text, "KV114")) == 1


@pytest.mark.parametrize(
    ("field", "code"), [("hostPID", "KV121"), ("hostIPC", "KV122"), ("hostNetwork", "KV123")]
)
def test_host_namespaces(field, code):
    (f,) = run(deployment(spec={field: True}), code)
    assert f.path_text == f"spec.template.spec.{field}"
    assert f.fix.edits == (Edit("set", f.path, False),) and f.fix.applicability == "unsafe"
    assert run(deployment(spec={field: False}), code) == []


def test_host_port_per_port():
    ports = [
        {"containerPort": 80, "hostPort": 80},
        {"containerPort": 81},
        {"containerPort": 82, "hostPort": 0},
    ]
    (f,) = run(deployment({"ports": ports}), "KV124")
    assert f.path_text == f"{C0}.ports[0].hostPort"
    assert f.fix.edits == (Edit("remove", f.path),)


def test_host_paths_sockets_and_writable_os_mounts():
    volumes = [
        {"name": "sock", "hostPath": {"path": "/run/containerd/containerd.sock"}},
        {"name": "etc", "hostPath": {"path": "/etc/"}},
        {"name": "data", "hostPath": {"path": "/srv/data"}},
    ]
    mounts = [
        {"name": "etc", "mountPath": "/host/etc"},
        {"name": "data", "mountPath": "/data"},
        {"name": "sock", "mountPath": "/run/containerd.sock"},
    ]
    text = deployment({"volumeMounts": mounts}, spec={"volumes": volumes})
    assert len(run(text, "KV125")) == 3
    (sock,) = run(text, "KV126")
    assert sock.path_text == "spec.template.spec.volumes[0].hostPath.path"
    (os_mount,) = run(text, "KV127")
    assert os_mount.path_text == f"{C0}.volumeMounts[0].readOnly"
    assert os_mount.fix.edits == (Edit("set", os_mount.path, True),)


def test_secret_in_env_and_env_from():
    container = {
        "env": [
            {"name": "A", "value": "1"},
            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        ],
        "envFrom": [{"configMapRef": {"name": "c"}}, {"secretRef": {"name": "s"}}],
    }
    found = {f.path_text for f in run(deployment(container), "KV132")}
    assert found == {f"{C0}.env[1].valueFrom.secretKeyRef", f"{C0}.envFrom[1].secretRef"}


BINDING = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "RoleBinding",
    "metadata": {"name": "web", "namespace": "shop"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
    "subjects": [{"kind": "ServiceAccount", "name": "web"}],
}


def test_automount_fix_safe_without_binding_unsafe_with_one():
    spec = {"serviceAccountName": "web"}
    (f,) = run(deployment(spec=spec), "KV133")
    assert f.path_text == "spec.template.spec.automountServiceAccountToken"
    assert f.fix.applicability == "safe" and f.fix.edits == (Edit("set", f.path, False),)
    (g,) = run(deployment(spec=spec, extra=[BINDING]), "KV133")
    assert g.fix.applicability == "unsafe"


def test_automount_disabled_on_the_service_account():
    sa = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "web", "namespace": "shop"},
        "automountServiceAccountToken": False,
    }
    assert run(deployment(spec={"serviceAccountName": "web"}, extra=[sa]), "KV133") == []
    explicit = {"serviceAccountName": "web", "automountServiceAccountToken": True}
    assert len(run(deployment(spec=explicit), "KV133")) == 1  # nothing granted: no use for it
    assert run(deployment(spec=explicit, extra=[BINDING]), "KV133") == []


def test_default_and_deprecated_service_account():
    assert len(run(deployment(), "KV134")) == 1
    assert run(deployment(spec={"automountServiceAccountToken": False}), "KV134") == []
    (f,) = run(deployment(spec={"serviceAccount": "web"}), "KV135")
    spec_path = ("spec", "template", "spec")
    assert f.fix.applicability == "safe"
    assert f.fix.edits == (
        Edit("set", (*spec_path, "serviceAccountName"), "web"),
        Edit("remove", (*spec_path, "serviceAccount")),
    )
    assert run(deployment(spec={"serviceAccount": "web"}), "KV134") == []


def test_subpath_ssh_and_dashboard():
    mounts = [{"name": "v", "mountPath": "/a", "subPathExpr": "$(POD)"}]
    assert len(run(deployment({"volumeMounts": mounts}), "KV136")) == 1
    assert len(run(deployment({"ports": [{"containerPort": 22}]}), "KV137")) == 1
    assert len(run(deployment(image_of("kubernetesui/dashboard-api:1.10.1")), "KV138")) == 1
    assert len(run(deployment(image_of("docker.io/kubernetesui/dashboard:v2.7.0")), "KV138")) == 1
    assert run(deployment(image_of("kubernetesui/metrics-scraper:v1.0.9")), "KV138") == []


def image_of(image: str) -> dict:
    return {"image": image}


def test_cronjob_paths_reach_the_job_template():
    doc = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 1 * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {"hostPID": True, "containers": [{"name": "c", "image": "c:1"}]}
                    }
                }
            },
        },
    }
    (f,) = run(yaml.safe_dump(doc), "KV121")
    assert f.path_text == "spec.jobTemplate.spec.template.spec.hostPID"


def test_unified_ids_are_carried_once():
    owners: dict[str, str] = {}
    for code in ("KV101", "KV103", "KV105", "KV106", "KV108", "KV109", "KV113", "KV121", "KV129"):
        for check in get_rule(code).unified:
            assert check not in owners, f"{check} on {owners.get(check)} and {code}"
            owners[check] = code
    assert owners["check_23"] == "KV109" and owners["check_24"] == "KV108"
