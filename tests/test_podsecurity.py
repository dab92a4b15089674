"""Pod Security Standards: the 19 pod-security-admission controls, per policy version."""

from __future__ import annotations

import pytest
import yaml

from kubevet.api import check_yaml
from kubevet.context import Options
from kubevet.findings import Edit
from kubevet.rules.registry import all_rules, get_rule, select_rules
from kubevet.rules.security.pss import PSS_CONTROLS, safe_sysctls, selinux_types

PSS_IDS = {
    "windowsHostProcess",
    "hostNamespaces",
    "privileged",
    "capabilities_baseline",
    "hostPathVolumes",
    "hostPorts",
    "hostProbesAndHostLifecycle",
    "appArmorProfile",
    "seLinuxOptions",
    "procMount",
    "seccompProfile_baseline",
    "sysctls",
    "restrictedVolumes",
    "allowPrivilegeEscalation",
    "runAsNonRoot",
    "runAsUser",
    "seccompProfile_restricted",
    "capabilities_restricted",
    "procMount_restricted",
}

RESTRICTED_PROFILE = {"type": "RuntimeDefault"}
RESTRICTED_SC = {
    "allowPrivilegeEscalation": False,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pod(container: dict | None = None, spec: dict | None = None, annotations=None) -> str:
    """A Pod with one container `app` (plus whatever `spec` adds)."""
    meta: dict = {"name": "p"}
    if annotations:
        meta["annotations"] = annotations
    body = {"containers": [{"name": "app", "image": "app:1", **(container or {})}], **(spec or {})}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": body})


def run(text: str, code: str, version: str = "latest") -> list:
    return [
        f
        for f in check_yaml(text, select=[code], options=Options(pss_version=version))
        if f.code == code
    ]


# --- the control table --------------------------------------------------------------------


def test_all_19_controls_map_to_a_registered_rule_carrying_the_id():
    assert set(PSS_CONTROLS) == PSS_IDS
    for check_id, (level, code) in PSS_CONTROLS.items():
        r = get_rule(code)
        assert r is not None, f"{check_id} -> {code} is not registered"
        assert check_id in r.pss
        assert level in ("baseline", "restricted")
    assert sum(1 for lv, _ in PSS_CONTROLS.values() if lv == "baseline") == 12


def test_every_pss_id_on_a_rule_is_a_known_control():
    for r in all_rules():
        assert set(r.pss) <= PSS_IDS, r.code


def test_select_pss_baseline_and_restricted():
    baseline = {r.code for r in select_rules(["pss-baseline"])}
    restricted = {r.code for r in select_rules(["pss-restricted"])}
    base_ids = {c for c, (lv, _) in PSS_CONTROLS.items() if lv == "baseline"}
    expected_base = {r.code for r in all_rules() if set(r.pss) & base_ids}
    assert baseline == expected_base
    assert restricted == {r.code for r in all_rules() if r.pss}
    assert {"KV101", "KV106", "KV113", "KV128", "KV120"} <= restricted - baseline
    assert {"KV111", "KV132", "KV133"}.isdisjoint(restricted)
    # the host namespace control is split by field: all three parts are baseline
    assert {"KV121", "KV122", "KV123"} <= baseline


def test_restricted_pod_passes_the_restricted_profile():
    text = pod({"securityContext": RESTRICTED_SC})
    assert check_yaml(text, select=["pss-restricted"]) == []


def test_baseline_pod_passes_baseline_but_not_restricted():
    text = pod({"securityContext": {"capabilities": {"add": ["CHOWN"]}}})
    assert check_yaml(text, select=["pss-baseline"]) == []
    codes = {f.code for f in check_yaml(text, select=["pss-restricted"])}
    assert {"KV101", "KV106", "KV109", "KV113"} <= codes


# --- versioned controls -------------------------------------------------------------------


def test_run_as_user_zero_checked_from_1_23():
    text = pod({"securityContext": {"runAsUser": 0}})
    assert run(text, "KV102", "1.22") == []
    (f,) = run(text, "KV102", "1.23")
    assert f.path_text == "spec.containers[0].securityContext.runAsUser"
    assert f.fix.applicability == "unsafe"
    assert f.fix.edits == (Edit("set", f.path, 10001),)


def test_run_as_user_zero_at_pod_level_is_one_finding():
    text = pod(spec={"securityContext": {"runAsUser": 0}})
    (f,) = run(text, "KV102")
    assert f.path_text == "spec.securityContext.runAsUser" and f.container is None


@pytest.mark.parametrize("code", ["KV101", "KV102"])
def test_user_namespaces_relax_run_as_controls_from_1_35(code):
    text = pod({"securityContext": {"runAsUser": 0}}, spec={"hostUsers": False})
    assert run(text, code, "1.34")
    assert run(text, code, "1.35") == []


def test_proc_mount_relaxed_in_baseline_but_not_restricted_from_1_35():
    text = pod({"securityContext": {"procMount": "Unmasked"}}, spec={"hostUsers": False})
    assert run(text, "KV119", "1.34") and not run(text, "KV120", "1.34")
    assert not run(text, "KV119", "1.35") and run(text, "KV120", "1.35")
    host_users = pod({"securityContext": {"procMount": "Unmasked"}})
    assert run(host_users, "KV119", "1.35") and not run(host_users, "KV120", "1.35")


def test_proc_mount_fix_and_default_value():
    (f,) = run(pod({"securityContext": {"procMount": "Unmasked"}}), "KV119")
    assert f.fix.edits == (Edit("set", f.path, "Default"),)
    assert run(pod({"securityContext": {"procMount": "Default"}}), "KV119") == []


def test_capabilities_restricted_from_1_22():
    text = pod({"securityContext": {"allowPrivilegeEscalation": False}})
    assert run(text, "KV109", "1.21") == []
    (f,) = run(text, "KV109", "1.22")
    assert f.path_text == "spec.containers[0].securityContext.capabilities.drop"
    assert f.fix.edits == (Edit("set", f.path, ["ALL"]),)


@pytest.mark.parametrize("code", ["KV106", "KV109", "KV113"])
def test_windows_pods_exempt_from_linux_only_restricted_controls_from_1_25(code):
    text = pod(spec={"os": {"name": "windows"}})
    assert run(text, code, "1.24")
    assert run(text, code, "1.25") == []


def test_seccomp_baseline_reads_annotations_before_1_19_and_fields_after():
    notes = {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}
    annotated = pod(annotations=notes)
    (f,) = run(annotated, "KV114", "1.18")
    assert f.path_text.endswith("annotations.seccomp.security.alpha.kubernetes.io/pod")
    assert run(annotated, "KV114", "1.19") == []
    field = pod({"securityContext": {"seccompProfile": {"type": "Unconfined"}}})
    assert run(field, "KV114", "1.18") == []
    (f,) = run(field, "KV114", "1.19")
    assert f.path_text == "spec.containers[0].securityContext.seccompProfile.type"


@pytest.mark.parametrize("value", ["runtime/default", "docker/default", "localhost/prof.json"])
def test_seccomp_baseline_accepts_valid_annotations(value):
    notes = {"container.seccomp.security.alpha.kubernetes.io/app": value}
    assert run(pod(annotations=notes), "KV114", "1.18") == []


def test_seccomp_restricted_accepts_annotation_only_before_1_19():
    notes = {"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}
    text = pod(annotations=notes)
    assert run(text, "KV113", "1.18") == []
    assert run(text, "KV113", "1.19")


def test_selinux_container_engine_type_allowed_from_1_31():
    assert "container_engine_t" in selinux_types((1, 31))
    text = pod({"securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}})
    assert run(text, "KV117", "1.30")
    assert run(text, "KV117", "1.31") == []


def test_selinux_user_and_role_are_never_allowed():
    text = pod(spec={"securityContext": {"seLinuxOptions": {"user": "system_u", "role": "r"}}})
    (f,) = run(text, "KV117")
    assert f.path_text == "spec.securityContext.seLinuxOptions" and "user" in f.message


@pytest.mark.parametrize(
    ("name", "since"),
    [
        ("net.ipv4.ip_local_reserved_ports", (1, 27)),
        ("net.ipv4.tcp_keepalive_time", (1, 29)),
        ("net.ipv4.tcp_fin_timeout", (1, 29)),
        ("net.ipv4.tcp_rmem", (1, 32)),
        ("net.ipv4.tcp_wmem", (1, 32)),
    ],
)
def test_safe_sysctl_set_grows_by_version(name, since):
    text = pod(spec={"securityContext": {"sysctls": [{"name": name, "value": "1"}]}})
    before = f"{since[0]}.{since[1] - 1}"
    (f,) = run(text, "KV129", before)
    assert f.path_text == "spec.securityContext.sysctls[0].name"
    assert run(text, "KV129", f"{since[0]}.{since[1]}") == []


def test_safe_sysctls_of_1_0_and_unsafe_ones():
    assert "kernel.shm_rmid_forced" in safe_sysctls((1, 0))
    assert "net.ipv4.tcp_rmem" not in safe_sysctls((1, 31))
    text = pod(spec={"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}})
    assert len(run(text, "KV129", "1.35")) == 1


def test_host_probes_checked_from_1_34():
    text = pod(
        {
            "readinessProbe": {"tcpSocket": {"host": "10.0.0.1", "port": 80}},
            "lifecycle": {"preStop": {"httpGet": {"host": "example.com", "port": 80}}},
        }
    )
    assert run(text, "KV131", "1.33") == []
    found = sorted(f.path_text for f in run(text, "KV131", "1.34"))
    assert found == [
        "spec.containers[0].lifecycle.preStop.httpGet.host",
        "spec.containers[0].readinessProbe.tcpSocket.host",
    ]


def test_latest_is_1_35():
    text = pod({"securityContext": {"runAsUser": 0}}, spec={"hostUsers": False})
    assert run(text, "KV102") == run(text, "KV102", "1.35") == []


# --- unversioned controls -----------------------------------------------------------------


def test_capabilities_baseline_leaves_sys_admin_to_kv108():
    text = pod({"securityContext": {"capabilities": {"add": ["SYS_ADMIN", "NET_ADMIN", "KILL"]}}})
    (f,) = run(text, "KV110")
    assert "NET_ADMIN" in f.message and "SYS_ADMIN" not in f.message
    assert f.fix.edits == (Edit("remove", (*f.path, 1)),)
    (g,) = run(text, "KV108")
    assert g.path_text.endswith("capabilities.add[0]")


def test_apparmor_field_and_annotation():
    assert run(pod({"securityContext": {"appArmorProfile": {"type": "Localhost"}}}), "KV116") == []
    ok = {"container.apparmor.security.beta.kubernetes.io/app": "localhost/k8s-nginx"}
    assert run(pod(annotations=ok), "KV116") == []
    bad = {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}
    (f,) = run(pod(annotations=bad), "KV116")
    assert f.container == "app"
    pod_level = pod(spec={"securityContext": {"appArmorProfile": {"type": "Unconfined"}}})
    (f,) = run(pod_level, "KV116")
    assert f.path_text == "spec.securityContext.appArmorProfile.type"


def test_restricted_volumes_allow_list_and_hostpath_left_to_kv125():
    volumes = [
        {"name": "a", "image": {"reference": "data:1"}},
        {"name": "b", "csi": {"driver": "x"}},
        {"name": "c", "hostPath": {"path": "/data"}},
        {"name": "d", "gitRepo": {"repository": "https://example.com/r.git"}},
    ]
    (f,) = run(pod(spec={"volumes": volumes}), "KV128")
    assert f.path_text == "spec.volumes[3].gitRepo"


def test_windows_host_process_on_container():
    text = pod(
        {"securityContext": {"windowsOptions": {"hostProcess": True}}},
        spec={"os": {"name": "windows"}, "hostNetwork": True},
    )
    (f,) = run(text, "KV130")
    assert f.path_text == "spec.containers[0].securityContext.windowsOptions.hostProcess"


def test_init_and_ephemeral_containers_count():
    spec = {
        "initContainers": [{"name": "init", "image": "i", "securityContext": {"runAsUser": 0}}],
        "ephemeralContainers": [
            {"name": "debug", "image": "d", "securityContext": {"procMount": "Unmasked"}}
        ],
    }
    text = pod(spec=spec)
    assert [f.container for f in run(text, "KV102")] == ["init"]
    (f,) = run(text, "KV119")
    assert f.path_text == "spec.ephemeralContainers[0].securityContext.procMount"


# --- pod-level forms of every control -----------------------------------------------------
#
# pod-security-admission judges a pod-level securityContext value by itself: a bad pod-level
# value fails the pod even when every container overrides it. Each case below is a pod that
# passes the restricted profile except for one pod-level field, with both of its containers
# (a container and an init container) overriding that field with an allowed value.

POD_LEVEL = [
    # (control, pod-level securityContext or spec fields, container override, rule, path)
    ("runAsNonRoot", {"runAsNonRoot": False}, {"runAsNonRoot": True}, "KV101", "runAsNonRoot"),
    ("runAsUser", {"runAsUser": 0}, {"runAsUser": 10001}, "KV102", "runAsUser"),
    (
        "seccompProfile_baseline",
        {"seccompProfile": {"type": "Unconfined"}},
        {"seccompProfile": {"type": "RuntimeDefault"}},
        "KV114",
        "seccompProfile.type",
    ),
    (
        "appArmorProfile",
        {"appArmorProfile": {"type": "Unconfined"}},
        {"appArmorProfile": {"type": "RuntimeDefault"}},
        "KV116",
        "appArmorProfile.type",
    ),
    (
        "seLinuxOptions",
        {"seLinuxOptions": {"type": "spc_t"}},
        {"seLinuxOptions": {"type": "container_t"}},
        "KV117",
        "seLinuxOptions",
    ),
    (
        "windowsHostProcess",
        {"windowsOptions": {"hostProcess": True}},
        {"windowsOptions": {"hostProcess": False}},
        "KV130",
        "windowsOptions.hostProcess",
    ),
]

# Controls whose only form is a pod-level field (no container override exists).
POD_ONLY = [
    ("hostNamespaces", {"hostNetwork": True}, "KV123", "spec.hostNetwork"),
    ("hostNamespaces", {"hostPID": True}, "KV121", "spec.hostPID"),
    ("hostNamespaces", {"hostIPC": True}, "KV122", "spec.hostIPC"),
    (
        "hostPathVolumes",
        {"volumes": [{"name": "h", "hostPath": {"path": "/data"}}]},
        "KV125",
        "spec.volumes[0].hostPath",
    ),
    (
        "restrictedVolumes",
        {"volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}]},
        "KV128",
        "spec.volumes[0].nfs",
    ),
    (
        "sysctls",
        {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}},
        "KV129",
        "spec.securityContext.sysctls[0].name",
    ),
]

# Controls with no pod-level field: the PodSecurityContext has no such member.
CONTAINER_ONLY = {
    "privileged",
    "capabilities_baseline",
    "capabilities_restricted",
    "hostPorts",
    "hostProbesAndHostLifecycle",
    "procMount",
    "procMount_restricted",
    "allowPrivilegeEscalation",
}


def two_container_pod(override: dict, pod_sc: dict | None = None, spec: dict | None = None):
    sc = {**RESTRICTED_SC, **override}
    body = {
        "initContainers": [{"name": "init", "image": "init:1", "securityContext": sc}],
        "securityContext": pod_sc or {},
        **(spec or {}),
    }
    return pod({"securityContext": sc}, spec=body)


def test_every_control_has_a_pod_level_case_or_none_exists():
    covered = {case[0] for case in POD_LEVEL} | {case[0] for case in POD_ONLY} | CONTAINER_ONLY
    # seccompProfile_restricted shares KV114's pod-level case (see the test below)
    assert covered | {"seccompProfile_restricted"} == PSS_IDS


@pytest.mark.parametrize(("control", "pod_sc", "override", "code", "field"), POD_LEVEL)
def test_bad_pod_level_value_fails_even_when_every_container_overrides(
    control, pod_sc, override, code, field
):
    text = two_container_pod(override, pod_sc)
    found = check_yaml(text, select=["pss-restricted"])
    assert [(f.code, f.path_text) for f in found] == [(code, f"spec.securityContext.{field}")]
    assert found[0].container is None, control
    # the same pod with an allowed pod-level value passes
    assert check_yaml(two_container_pod(override), select=["pss-restricted"]) == []


@pytest.mark.parametrize(("control", "spec", "code", "path"), POD_ONLY)
def test_pod_only_controls(control, spec, code, path):
    found = check_yaml(two_container_pod({}, spec=spec), select=["pss-restricted"])
    assert [(f.code, f.path_text) for f in found] == [(code, path)], control


def test_pod_level_seccomp_is_enough_for_restricted_and_bad_pod_level_is_one_finding():
    bare = {k: v for k, v in RESTRICTED_SC.items() if k != "seccompProfile"}
    inherited = pod(
        {"securityContext": bare}, spec={"securityContext": {"seccompProfile": RESTRICTED_PROFILE}}
    )
    assert check_yaml(inherited, select=["pss-restricted"]) == []
    (f,) = check_yaml(pod({"securityContext": bare}), select=["pss-restricted"])
    assert (f.code, f.path_text) == ("KV113", "spec.securityContext.seccompProfile")
    # Unconfined at the pod level fails restricted too, reported once (by the baseline rule)
    unconfined = two_container_pod({}, {"seccompProfile": {"type": "Unconfined"}})
    assert [f.code for f in check_yaml(unconfined, select=["pss-restricted"])] == ["KV114"]


def test_pod_level_run_as_non_root_false_fix_covers_inheriting_containers():
    text = pod({"securityContext": {}}, spec={"securityContext": {"runAsNonRoot": False}})
    (f,) = run(text, "KV101")
    assert f.path_text == "spec.securityContext.runAsNonRoot" and "'app'" in f.message
    assert f.fix.edits == (
        Edit("set", ("spec", "securityContext", "runAsNonRoot"), True),
        Edit("set", ("spec", "securityContext", "runAsUser"), 10001),
    )


@pytest.mark.parametrize(
    ("pod_sc", "code"), [({"runAsNonRoot": False}, "KV101"), ({"runAsUser": 0}, "KV102")]
)
def test_pod_level_run_as_values_relaxed_for_user_namespaces_from_1_35(pod_sc, code):
    text = two_container_pod({}, pod_sc, spec={"hostUsers": False})
    assert [f.code for f in run(text, code, "1.34")] == [code]
    assert run(text, code, "1.35") == []
