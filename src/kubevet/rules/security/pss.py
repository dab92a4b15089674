"""The Pod Security Standards tables, and nothing else: which rule implements each
control, and the versioned allow-lists the controls check against.

The Pod Security Standards are the checks kubernetes/pod-security-admission runs
(`policy/check_*.go`), evaluated per policy version (`--pss-version`, `ctx.pss_version`).
`PSS_CONTROLS` maps each of its 19 check ids to its level and the rule that implements it;
a control that is also a unified check of the seven-tool study is one rule carrying both ids,
so one problem in one container is one finding.
"""

from __future__ import annotations

from typing import Any

Version = tuple[int, int]


# check id -> (level, rule code). Where one control is split by field (hostNamespaces,
# capabilities_baseline), every rule carrying the id in `pss=` implements a part of it.
PSS_CONTROLS: dict[str, tuple[str, str]] = {
    "hostNamespaces": ("baseline", "KV123"),
    "privileged": ("baseline", "KV105"),
    "capabilities_baseline": ("baseline", "KV110"),
    "hostPathVolumes": ("baseline", "KV125"),
    "hostPorts": ("baseline", "KV124"),
    "hostProbesAndHostLifecycle": ("baseline", "KV131"),
    "appArmorProfile": ("baseline", "KV116"),
    "seLinuxOptions": ("baseline", "KV117"),
    "procMount": ("baseline", "KV119"),
    "seccompProfile_baseline": ("baseline", "KV114"),
    "sysctls": ("baseline", "KV129"),
    "windowsHostProcess": ("baseline", "KV130"),
    "restrictedVolumes": ("restricted", "KV128"),
    "allowPrivilegeEscalation": ("restricted", "KV106"),
    "runAsNonRoot": ("restricted", "KV101"),
    "runAsUser": ("restricted", "KV102"),
    "seccompProfile_restricted": ("restricted", "KV113"),
    "capabilities_restricted": ("restricted", "KV109"),
    "procMount_restricted": ("restricted", "KV120"),
}


# Versioned allow-lists, as pod-security-admission defines them (policy version -> additions).
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


_SAFE_SYSCTLS: dict[Version, tuple[str, ...]] = {
    (1, 0): (
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    ),
    (1, 27): ("net.ipv4.ip_local_reserved_ports",),
    (1, 29): (
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    ),
    (1, 32): ("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"),
    (1, 37): ("net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"),
}


_SELINUX_TYPES: dict[Version, tuple[str, ...]] = {
    (1, 0): ("", "container_t", "container_init_t", "container_kvm_t"),
    (1, 31): ("container_engine_t",),
}


RESTRICTED_VOLUME_SOURCES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


SECCOMP_OK = frozenset({"RuntimeDefault", "Localhost"})


APPARMOR_OK = frozenset({"RuntimeDefault", "Localhost"})


APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"


SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"


_PSS_REF = "Kubernetes Pod Security Standards (pod-security-admission check `{}`)"


def _versioned(table: dict[Version, tuple[str, ...]], version: Version) -> frozenset[str]:
    return frozenset(v for since, items in table.items() if version >= since for v in items)


def safe_sysctls(version: Version) -> frozenset[str]:
    return _versioned(_SAFE_SYSCTLS, version)


def selinux_types(version: Version) -> frozenset[str]:
    return _versioned(_SELINUX_TYPES, version)


def valid_seccomp_annotation(value: Any) -> bool:
    text = str(value)
    return text in ("runtime/default", "docker/default") or text.startswith("localhost/")


def pss_ref(check: str) -> str:
    return _PSS_REF.format(check)
