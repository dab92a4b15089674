"""Pod Security Standards controls with no counterpart in the seven-tool study (KV1xx).

The Pod Security Standards are the checks kubernetes/pod-security-admission runs
(`policy/check_*.go`), evaluated per policy version (`--pss-version`, `ctx.pss_version`).
`PSS_CONTROLS` maps each of its 19 check ids to its level and the rule that implements it;
controls that are also unified checks live in `security.py` and carry both ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Edit, Violation
from kubevet.model import ContainerView, K8sObject, Path, PodSpecView
from kubevet.rules._helpers import (
    as_dict,
    as_list,
    cap_name,
    capabilities,
    edit_fix,
    example_pod,
    sc_path,
    set_fix,
    sites,
    user_namespace_relaxed,
)
from kubevet.rules.options import Option
from kubevet.rules.registry import rule

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


def _ref(check: str) -> str:
    return _PSS_REF.format(check)


def _where(container: ContainerView | None) -> str:
    return f"container {container.name!r}" if container else "the pod"


@rule(
    code="KV102",
    slug="run-as-user-zero",
    title="runAsUser set to 0 (root)",
    category="podsecurity",
    severity="high",
    scope="pod",
    what="The pod or a container sets `securityContext.runAsUser: 0` (policy v1.23+).",
    why="UID 0 in the container is root on the node once a process escapes; the restricted "
    "profile forbids it explicitly.",
    how_to_fix="Set a non-zero `runAsUser` (for example 10001) and make sure the image works "
    "as that user.",
    example_bad=example_pod({"securityContext": {"runAsUser": 0}}),
    example_good=example_pod({"securityContext": {"runAsUser": 10001}}),
    fix_applicability="unsafe",
    pss=("runAsUser",),
    references=(_ref("runAsUser"),),
    options={"run_as_user": Option("integer", 10001, "the UID the fix sets")},
)
def run_as_user_zero(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    if ctx.pss_version < (1, 23) or user_namespace_relaxed(ctx.pss_version, pod):
        return
    uid = ctx.setting("run_as_user", 10001)
    for site in sites(pod, ("runAsUser",), lambda v: v == 0 and v is not False, pod_always=True):
        yield Violation(
            f"{_where(site.container)} sets runAsUser: 0",
            site.path,
            container=site.container.name if site.container else None,
            fix=set_fix("unsafe", f"run as UID {uid}", (site.path, uid)),
        )


@rule(
    code="KV110",
    slug="capabilities-baseline",
    title="Capability added beyond the baseline set",
    category="podsecurity",
    severity="high",
    scope="container",
    what="`securityContext.capabilities.add` names a capability outside the container "
    "runtime's default set (SYS_ADMIN is reported by KV108).",
    why="Capabilities such as NET_ADMIN, SYS_PTRACE or SYS_MODULE let a process reconfigure or "
    "inspect the node; the baseline profile allows only the runtime's defaults.",
    how_to_fix="Remove the capability from `add`; if the process really needs it, run the "
    "workload in a namespace with an explicit exemption.",
    example_bad=example_pod({"securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}),
    example_good=example_pod({"securityContext": {"capabilities": {"add": ["CHOWN"]}}}),
    fix_applicability="unsafe",
    pss=("capabilities_baseline",),
    references=(_ref("capabilities_baseline"),),
)
def capabilities_baseline(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    add, _ = capabilities(c)
    bad = [
        i
        for i, cap in enumerate(add)
        if cap not in BASELINE_CAPABILITIES and cap_name(cap) != "SYS_ADMIN"
    ]
    if not bad:
        return
    names = ", ".join(str(add[i]) for i in bad)
    add_path = sc_path(c, "capabilities", "add")
    yield Violation(
        f"container {c.name!r} adds capabilities outside the baseline set: {names}",
        add_path,
        fix=edit_fix(
            "unsafe",
            f"remove {names} from capabilities.add",
            *(Edit("remove", (*add_path, i)) for i in reversed(bad)),
        ),
    )


def _seccomp_annotations(pod: PodSpecView) -> Iterator[tuple[str, Any, ContainerView | None]]:
    """Pre-1.19 seccomp annotations: (key, value, container or None for the pod one)."""
    notes = pod.annotations
    if SECCOMP_POD_ANNOTATION in notes:
        yield SECCOMP_POD_ANNOTATION, notes[SECCOMP_POD_ANNOTATION], None
    for c in pod.containers:
        key = SECCOMP_CONTAINER_ANNOTATION + c.name
        if key in notes:
            yield key, notes[key], c


@rule(
    code="KV114",
    slug="seccomp-unconfined",
    title="Seccomp profile set to Unconfined",
    category="podsecurity",
    severity="high",
    scope="pod",
    what="The pod or a container sets a seccomp profile other than RuntimeDefault or Localhost "
    "(policy < v1.19: the seccomp alpha annotations, other than runtime/default, docker/default "
    "or localhost/*).",
    why="Unconfined seccomp exposes every system call to the process, including those used in "
    "most container escapes.",
    how_to_fix="Use `seccompProfile: {type: RuntimeDefault}` (or a Localhost profile).",
    example_bad=example_pod({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}),
    example_good=example_pod({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}),
    fix_applicability="unsafe",
    pss=("seccompProfile_baseline",),
    references=(_ref("seccompProfile_baseline"),),
)
def seccomp_unconfined(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    if ctx.pss_version < (1, 19):
        for key, value, c in _seccomp_annotations(pod):
            if not valid_seccomp_annotation(value):
                path = (*pod.metadata_path, "annotations", key)
                yield Violation(
                    f"annotation {key}={value!r} disables seccomp",
                    path,
                    container=c.name if c else None,
                    fix=set_fix(
                        "unsafe", "use the runtime's default profile", (path, "runtime/default")
                    ),
                )
        return
    for site in sites(pod, ("seccompProfile",), _bad_profile(SECCOMP_OK), pod_always=True):
        path = (*site.path, "type")
        yield Violation(
            f"{_where(site.container)} sets seccompProfile.type "
            f"{as_dict(site.value).get('type')!r}",
            path,
            container=site.container.name if site.container else None,
            fix=set_fix("unsafe", "use the RuntimeDefault profile", (path, "RuntimeDefault")),
        )


def _bad_profile(allowed: frozenset[str]) -> Any:
    """A `sites` predicate: a profile object present whose type is not allowed."""
    return lambda v: v is not None and as_dict(v).get("type") not in allowed


@rule(
    code="KV116",
    slug="apparmor-unconfined",
    title="AppArmor profile set to Unconfined",
    category="podsecurity",
    severity="high",
    scope="pod",
    what="`appArmorProfile.type` (pod or container) is not RuntimeDefault or Localhost, or a "
    "`container.apparmor.security.beta.kubernetes.io/*` annotation is not runtime/default, "
    "localhost/* or empty.",
    why="An unconfined AppArmor profile removes the mandatory access control the runtime "
    "applies by default.",
    how_to_fix="Remove the override, or set `appArmorProfile: {type: RuntimeDefault}`.",
    example_bad=example_pod({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}),
    example_good=example_pod({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}),
    fix_applicability="unsafe",
    pss=("appArmorProfile",),
    references=(_ref("appArmorProfile"),),
)
def apparmor_unconfined(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    for site in sites(pod, ("appArmorProfile",), _bad_profile(APPARMOR_OK), pod_always=True):
        path = (*site.path, "type")
        yield Violation(
            f"{_where(site.container)} sets appArmorProfile.type "
            f"{as_dict(site.value).get('type')!r}",
            path,
            container=site.container.name if site.container else None,
            fix=set_fix("unsafe", "use the RuntimeDefault profile", (path, "RuntimeDefault")),
        )
    names = {c.name for c in pod.containers}
    for key, value in pod.annotations.items():
        text = str(value or "")
        if not key.startswith(APPARMOR_ANNOTATION) or text in ("", "runtime/default"):
            continue
        if text.startswith("localhost/"):
            continue
        name = key.removeprefix(APPARMOR_ANNOTATION)
        path = (*pod.metadata_path, "annotations", key)
        yield Violation(
            f"annotation {key}={text!r} disables AppArmor",
            path,
            container=name if name in names else None,
            fix=set_fix("unsafe", "use the runtime's default profile", (path, "runtime/default")),
        )


@rule(
    code="KV117",
    slug="selinux-options",
    title="Custom SELinux type, user or role",
    category="podsecurity",
    severity="high",
    scope="pod",
    what="`seLinuxOptions` (pod or container) sets a `user` or `role`, or a `type` other than "
    "container_t, container_init_t, container_kvm_t (and container_engine_t from policy v1.31).",
    why="A custom SELinux user, role or type can lift the confinement that separates the "
    "container from the host.",
    how_to_fix="Remove `user` and `role`, and use one of the allowed container types.",
    example_bad=example_pod({"securityContext": {"seLinuxOptions": {"type": "spc_t"}}}),
    example_good=example_pod({"securityContext": {"seLinuxOptions": {"level": "s0:c123,c456"}}}),
    pss=("seLinuxOptions",),
    references=(_ref("seLinuxOptions"),),
)
def selinux_options(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    allowed = selinux_types(ctx.pss_version)
    places: list[tuple[Path, dict[str, Any], ContainerView | None]] = [
        ((*pod.path, "securityContext", "seLinuxOptions"), pod.security_context, None)
    ]
    places += [(sc_path(c, "seLinuxOptions"), c.security_context, c) for c in pod.containers]
    for path, sc, c in places:
        opts = as_dict(sc.get("seLinuxOptions"))
        problems = [f"{k} {opts[k]!r}" for k in ("user", "role") if opts.get(k)]
        if str(opts.get("type") or "") not in allowed:
            problems.insert(0, f"type {opts['type']!r}")
        if problems:
            yield Violation(
                f"{_where(c)} sets seLinuxOptions {', '.join(problems)}",
                path,
                container=c.name if c else None,
            )


def _proc_mount_violation(c: ContainerView, note: str = "") -> Violation:
    path = sc_path(c, "procMount")
    value = c.security_context.get("procMount")
    return Violation(
        f"container {c.name!r} sets procMount: {value}{note}",
        path,
        fix=set_fix("unsafe", "use the default masked /proc", (path, "Default")),
    )


def _unmasked(c: ContainerView) -> bool:
    value = c.security_context.get("procMount")
    return value is not None and value != "Default"


@rule(
    code="KV119",
    slug="proc-mount",
    title="Unmasked /proc mount",
    category="podsecurity",
    severity="high",
    scope="container",
    what="`securityContext.procMount` is set to something other than `Default` (from policy "
    "v1.35 the baseline allows it for pods with `hostUsers: false`).",
    why="The default /proc masks hide kernel interfaces that leak host information or allow "
    "changing host settings.",
    how_to_fix="Remove `procMount` or set it to `Default`.",
    example_bad=example_pod({"securityContext": {"procMount": "Unmasked"}}),
    example_good=example_pod({"securityContext": {"procMount": "Default"}}),
    fix_applicability="unsafe",
    pss=("procMount",),
    references=(_ref("procMount"),),
)
def proc_mount(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if _unmasked(c) and not user_namespace_relaxed(ctx.pss_version, pod):
        yield _proc_mount_violation(c)


@rule(
    code="KV120",
    slug="proc-mount-restricted",
    title="Unmasked /proc mount in a user-namespace pod",
    category="podsecurity",
    severity="medium",
    scope="container",
    what="Policy v1.35+: a pod with `hostUsers: false` sets `procMount` other than `Default`. "
    "The baseline allows this; the restricted profile does not (other pods: KV119).",
    why="Even inside a user namespace, an unmasked /proc exposes kernel interfaces the "
    "restricted profile keeps hidden.",
    how_to_fix="Remove `procMount` or set it to `Default`.",
    example_bad=example_pod(
        {"securityContext": {"procMount": "Unmasked"}}, spec={"hostUsers": False}
    ),
    example_good=example_pod({}, spec={"hostUsers": False}),
    fix_applicability="unsafe",
    pss=("procMount_restricted",),
    references=(_ref("procMount_restricted"),),
)
def proc_mount_restricted(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    # Other pods are reported by KV119: one finding per problem.
    if _unmasked(c) and user_namespace_relaxed(ctx.pss_version, pod):
        yield _proc_mount_violation(c, " (allowed by baseline only)")


def volume_source(volume: dict[str, Any]) -> str | None:
    return next((k for k in volume if k != "name"), None)


@rule(
    code="KV128",
    slug="restricted-volume-types",
    title="Volume type not allowed by the restricted profile",
    category="podsecurity",
    severity="medium",
    scope="pod",
    what="A volume uses a source other than configMap, csi, downwardAPI, emptyDir, ephemeral, "
    "image, persistentVolumeClaim, projected or secret (hostPath is reported by KV125).",
    why="Direct node or network storage volumes (nfs, iscsi, rbd, gitRepo...) bypass the "
    "PersistentVolume layer and its access control; some execute code on the node.",
    how_to_fix="Use a PersistentVolumeClaim (backed by a CSI driver) or an ephemeral volume.",
    example_bad=example_pod(
        {"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
        spec={"volumes": [{"name": "data", "nfs": {"server": "nfs.local", "path": "/exports"}}]},
    ),
    example_good=example_pod(
        {"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
        spec={"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]},
    ),
    pss=("restrictedVolumes",),
    references=(_ref("restrictedVolumes"),),
)
def restricted_volume_types(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    for i, volume in enumerate(as_list(pod.spec.get("volumes"))):
        source = volume_source(as_dict(volume))
        if source is None or source in RESTRICTED_VOLUME_SOURCES or source == "hostPath":
            continue
        yield Violation(
            f"volume {volume.get('name')!r} uses the {source} source",
            (*pod.path, "volumes", i, source),
        )


@rule(
    code="KV130",
    slug="windows-host-process",
    title="Windows HostProcess container",
    category="podsecurity",
    severity="critical",
    scope="pod",
    what="`securityContext.windowsOptions.hostProcess: true` on the pod or a container.",
    why="A HostProcess container runs directly on the Windows node with host privileges; it is "
    "the Windows equivalent of a privileged container.",
    how_to_fix="Remove `hostProcess: true`; node-level tasks belong in a dedicated, exempted "
    "namespace.",
    example_bad=example_pod(
        spec={
            "os": {"name": "windows"},
            "hostNetwork": True,
            "securityContext": {"windowsOptions": {"hostProcess": True}},
        }
    ),
    example_good=example_pod(spec={"os": {"name": "windows"}}),
    pss=("windowsHostProcess",),
    references=(_ref("windowsHostProcess"),),
)
def windows_host_process(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    key = ("windowsOptions", "hostProcess")
    for site in sites(pod, key, lambda v: v is True, pod_always=True):
        yield Violation(
            f"{_where(site.container)} runs as a Windows HostProcess",
            site.path,
            container=site.container.name if site.container else None,
        )


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_HOOKS = ("postStart", "preStop")


def _handlers(c: ContainerView) -> Iterator[tuple[Path, dict[str, Any]]]:
    for probe in _PROBES:
        yield (*c.path, probe), as_dict(c.data.get(probe))
    lifecycle = as_dict(c.data.get("lifecycle"))
    for hook in _HOOKS:
        yield (*c.path, "lifecycle", hook), as_dict(lifecycle.get(hook))


@rule(
    code="KV131",
    slug="host-probes-lifecycle",
    title="Probe or lifecycle hook targets another host",
    category="podsecurity",
    severity="medium",
    scope="container",
    what="Policy v1.34+: a probe or lifecycle hook sets `httpGet.host` or `tcpSocket.host`.",
    why="The kubelet makes these requests from the node, so a host field turns the pod spec "
    "into a way to reach any address the node can (server-side request forgery).",
    how_to_fix="Remove `host`; the kubelet then targets the pod's own IP.",
    example_bad=example_pod(
        {"livenessProbe": {"httpGet": {"host": "169.254.169.254", "path": "/", "port": 80}}}
    ),
    example_good=example_pod({"livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}}),
    fix_applicability="unsafe",
    pss=("hostProbesAndHostLifecycle",),
    references=(_ref("hostProbesAndHostLifecycle"),),
)
def host_probes_lifecycle(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if ctx.pss_version < (1, 34):
        return
    for base, handler in _handlers(c):
        for kind in ("httpGet", "tcpSocket"):
            host = as_dict(handler.get(kind)).get("host")
            if host:
                path = (*base, kind, "host")
                yield Violation(
                    f"container {c.name!r} {base[-1]} {kind} targets host {host!r}",
                    path,
                    fix=edit_fix("unsafe", "target the pod itself", Edit("remove", path)),
                )
