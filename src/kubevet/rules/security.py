"""Container and pod hardening rules (KV1xx), Pod Security Standards controls included.

Each PSS control (pod-security-admission check id) maps to one rule, named in `pss=`;
where a control is also a unified check of the seven-tool study, the same rule carries
both ids, so one problem in one container is one finding.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Edit, Fix, Violation
from kubevet.model import ContainerView, K8sObject, Path, PodSpecView
from kubevet.rules._helpers import (
    Site,
    as_dict,
    as_list,
    cap_name,
    capabilities,
    edit_fix,
    effective,
    example_pod,
    is_windows,
    linux_only_exempt,
    sc_path,
    service_account,
    set_fix,
    sites,
    user_namespace_relaxed,
)
from kubevet.rules.options import Option
from kubevet.rules.podsecurity import (
    APPARMOR_ANNOTATION,
    BASELINE_CAPABILITIES,
    SECCOMP_CONTAINER_ANNOTATION,
    SECCOMP_POD_ANNOTATION,
    safe_sysctls,
    valid_seccomp_annotation,
)
from kubevet.rules.registry import rule

_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.27
"""


@rule(
    code="KV101",
    slug="run-as-non-root",
    title="Container may run as root",
    category="security",
    severity="medium",
    scope="pod",
    what="Neither the container nor the pod sets `securityContext.runAsNonRoot: true`, or the "
    "pod sets `runAsNonRoot: false` (pod-security-admission rejects that pod-level value even "
    "when every container overrides it).",
    why="A process running as UID 0 inside the container is root on the node if it escapes "
    "the container; with runAsNonRoot the kubelet refuses to start an image whose user is root.",
    how_to_fix="Set `runAsNonRoot: true` (and a non-zero `runAsUser`) in the pod or container "
    "securityContext, and make sure the image runs as a non-root user.",
    example_bad=_POD,
    example_good=_POD
    + "      securityContext:\n        runAsNonRoot: true\n        runAsUser: 10001\n",
    fix_applicability="unsafe",
    unified=("check_28",),
    pss=("runAsNonRoot",),
    references=("CIS Kubernetes Benchmark 5.2.6", "NSA/CISA Kubernetes Hardening Guide: non-root"),
    options={"run_as_user": Option("integer", 10001, "the UID the fix sets")},
)
def run_as_non_root(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    if user_namespace_relaxed(ctx.pss_version, pod):
        return  # user namespaces: PSS v1.35 relaxes this control
    pod_value = pod.security_context.get("runAsNonRoot")
    pod_false = pod_value is False
    if pod_false:
        # One finding at the pod level; its fix also covers the containers inheriting it.
        path = (*pod.path, "securityContext", "runAsNonRoot")
        inheriting = [c.name for c in pod.containers if "runAsNonRoot" not in c.security_context]
        who = f" (containers {', '.join(map(repr, inheriting))})" if inheriting else ""
        yield Violation(
            f"the pod{who} sets runAsNonRoot: false",
            path,
            fix=set_fix("unsafe", "run as a non-root user", *_non_root_edits(ctx, pod, path)),
        )
    for c in pod.containers:
        own = c.security_context.get("runAsNonRoot")
        if own is True or (own is None and (pod_false or pod_value is True)):
            continue  # its own true, or inherited: the pod's true, or the pod finding above
        path = sc_path(c, "runAsNonRoot")
        yield Violation(
            f"container {c.name!r} does not set runAsNonRoot: true",
            path,
            container=c.name,
            fix=set_fix("unsafe", "run as a non-root user", *_non_root_edits(ctx, pod, path, c)),
        )


def _non_root_edits(
    ctx: RuleContext, pod: PodSpecView, path: Path, c: ContainerView | None = None
) -> list[tuple[Path, Any]]:
    """Set runAsNonRoot: true at `path`, and a non-zero runAsUser beside it when the UID that
    applies there is unset or 0."""
    uid = effective(pod, c, "runAsUser") if c else pod.security_context.get("runAsUser")
    edits: list[tuple[Path, Any]] = [(path, True)]
    if not isinstance(uid, int) or uid == 0:
        edits.append(((*path[:-1], "runAsUser"), ctx.setting("run_as_user", 10001)))
    return edits


@rule(
    code="KV105",
    slug="privileged-container",
    title="Privileged container",
    category="security",
    severity="critical",
    scope="container",
    what="The container sets `securityContext.privileged: true`.",
    why="A privileged container has every capability and all host devices; it is root on the "
    "node in all but name.",
    how_to_fix="Remove `privileged: true`; grant only the capabilities the process needs.",
    example_bad=_POD + "      securityContext:\n        privileged: true\n",
    example_good=_POD + "      securityContext:\n        privileged: false\n",
    fix_applicability="unsafe",
    unified=("check_21",),
    pss=("privileged",),
    references=("CIS Kubernetes Benchmark 5.2.1",),
)
def privileged_container(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if c.security_context.get("privileged") is True:
        yield Violation(
            f"container {c.name!r} is privileged",
            sc_path(c, "privileged"),
            fix=set_fix("unsafe", "drop privileged mode", (sc_path(c, "privileged"), False)),
        )


def _escalation_forced(c: ContainerView) -> str | None:
    """Why the API would reject allowPrivilegeEscalation: false here, if it would."""
    if c.security_context.get("privileged") is True:
        return "is privileged"
    if any(cap_name(cap) == "SYS_ADMIN" for cap in capabilities(c)[0]):
        return "adds SYS_ADMIN"
    return None


@rule(
    code="KV106",
    slug="allow-privilege-escalation",
    title="Privilege escalation not disabled",
    category="security",
    severity="medium",
    scope="container",
    what="The container does not set `securityContext.allowPrivilegeEscalation: false` "
    "(Windows pods are exempt from policy v1.25).",
    why="Without it, setuid binaries and file capabilities let a process gain more privileges "
    "than its parent (no_new_privs is off).",
    how_to_fix="Set `allowPrivilegeEscalation: false` in each container's securityContext.",
    example_bad=_POD,
    example_good=_POD + "      securityContext:\n        allowPrivilegeEscalation: false\n",
    fix_applicability="safe",
    unified=("check_22",),
    pss=("allowPrivilegeEscalation",),
    references=("CIS Kubernetes Benchmark 5.2.5",),
)
def allow_privilege_escalation(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if c.security_context.get("allowPrivilegeEscalation") is False:
        return
    if linux_only_exempt(ctx.pss_version, pod):
        return
    path = sc_path(c, "allowPrivilegeEscalation")
    message = f"container {c.name!r} does not set allowPrivilegeEscalation: false"
    forced = _escalation_forced(c)
    if forced:  # the API rejects allowPrivilegeEscalation: false on such a container
        yield Violation(
            f"{message} (the API rejects it while the container {forced}; fix that first)", path
        )
        return
    yield Violation(
        message, path, fix=set_fix("safe", "set allowPrivilegeEscalation: false", (path, False))
    )


@rule(
    code="KV103",
    slug="low-uid",
    title="Container UID below the host user range",
    category="security",
    severity="low",
    scope="pod",
    what="The effective `runAsUser` is unset or below `min_uid` (10000). UID 0 is reported by "
    "KV102 where the policy version checks it. Pods with `hostUsers: false` are exempt: in a "
    "user namespace the container's UIDs map to unprivileged UIDs on the node.",
    why="A low UID may coincide with a real user on the node; if the process escapes the "
    "container it acts as that user.",
    how_to_fix="Set `runAsUser` to a high UID (10000 or more) in the pod or container "
    "securityContext, and build the image to work with it.",
    example_bad=example_pod({"securityContext": {"runAsUser": 1000}}),
    example_good=example_pod({"securityContext": {"runAsUser": 10001}}),
    fix_applicability="unsafe",
    unified=("check_13",),
    references=("NSA/CISA Kubernetes Hardening Guide: non-root containers",),
    options={
        "min_uid": Option("integer", 10000, "the lowest UID accepted"),
        "run_as_user": Option("integer", 10001, "the UID the fix sets"),
    },
)
def low_uid(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    if pod.spec.get("hostUsers") is False:
        return  # user namespace: no container UID is a real user on the node
    zero_elsewhere = ctx.pss_version >= (1, 23) and not user_namespace_relaxed(ctx.pss_version, pod)
    yield from _low_id(ctx, pod, "runAsUser", "min_uid", "run_as_user", zero_elsewhere)


@rule(
    code="KV104",
    slug="low-gid",
    title="Container GID below the host group range",
    category="security",
    severity="low",
    scope="pod",
    what="The effective `runAsGroup` is unset or below `min_gid` (10000). Pods with "
    "`hostUsers: false` are exempt: in a user namespace GIDs map to unprivileged host GIDs.",
    why="A low GID may coincide with a real group on the node (0 is root's group), giving an "
    "escaped process that group's file access.",
    how_to_fix="Set `runAsGroup` to a high GID (10000 or more) in the pod or container "
    "securityContext.",
    example_bad=example_pod({"securityContext": {"runAsGroup": 0}}),
    example_good=example_pod({"securityContext": {"runAsGroup": 10001}}),
    fix_applicability="unsafe",
    unified=("check_14",),
    enabled_by_default=False,
    options={
        "min_gid": Option("integer", 10000, "the lowest GID accepted"),
        "run_as_group": Option("integer", 10001, "the GID the fix sets"),
    },
)
def low_gid(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    if pod.spec.get("hostUsers") is False:
        return  # user namespace: no container GID is a real group on the node
    yield from _low_id(ctx, pod, "runAsGroup", "min_gid", "run_as_group", False)


def _low_id(
    ctx: RuleContext, pod: PodSpecView, field: str, floor: str, fix_key: str, skip_zero: bool
) -> Iterator[Violation]:
    minimum = int(ctx.setting(floor, 10000))
    new = ctx.setting(fix_key, minimum + 1)

    def bad(value: Any) -> bool:
        if value is None:
            return True
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        return value < minimum and not (skip_zero and value == 0)

    for site in sites(pod, (field,), bad):
        state = "is not set" if site.value is None else f"is {site.value}"
        who = f"container {site.container.name!r}" if site.container else "the pod"
        if site.container is None:
            who += f" (containers {', '.join(map(repr, site.inheriting))})"
        yield Violation(
            f"{field} of {who} {state}, below {minimum}",
            site.path,
            container=site.container.name if site.container else None,
            fix=set_fix("unsafe", f"set {field}: {new}", (site.path, new)),
        )


@rule(
    code="KV107",
    slug="drop-net-raw",
    title="NET_RAW capability not dropped",
    category="security",
    severity="low",
    scope="container",
    what="The container drops neither `NET_RAW` nor `ALL`. Off by default: KV109 (drop ALL) "
    "reports the same containers; enable this one instead when dropping ALL is too strict.",
    why="NET_RAW lets a process craft raw packets (ARP and DNS spoofing on the node network).",
    how_to_fix="Add `NET_RAW` (better: `ALL`) to `securityContext.capabilities.drop`.",
    example_bad=_POD,
    example_good=example_pod({"securityContext": {"capabilities": {"drop": ["NET_RAW"]}}}),
    fix_applicability="unsafe",
    enabled_by_default=False,
)
def drop_net_raw(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    _, drop = capabilities(c)
    if is_windows(pod) or {cap_name(d) for d in drop} & {"NET_RAW", "ALL"}:
        return
    drop_path = sc_path(c, "capabilities", "drop")
    edit = Edit("append", drop_path, "NET_RAW") if drop else Edit("set", drop_path, ["NET_RAW"])
    yield Violation(
        f"container {c.name!r} does not drop NET_RAW",
        drop_path,
        fix=edit_fix("unsafe", "drop NET_RAW", edit),
    )


@rule(
    code="KV108",
    slug="sys-admin-capability",
    title="SYS_ADMIN capability added",
    category="security",
    severity="high",
    scope="container",
    what="`securityContext.capabilities.add` includes `SYS_ADMIN`.",
    why="CAP_SYS_ADMIN covers mount, namespace and many kernel administration calls; it is "
    "close to full root and a common container-escape path.",
    how_to_fix="Remove SYS_ADMIN and grant the narrower capability the process needs.",
    example_bad=example_pod({"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}),
    example_good=example_pod({"securityContext": {"capabilities": {"drop": ["ALL"]}}}),
    fix_applicability="unsafe",
    unified=("check_24",),
    pss=("capabilities_baseline",),
)
def sys_admin_capability(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    add, _ = capabilities(c)
    for i, cap in enumerate(add):
        if cap_name(cap) == "SYS_ADMIN":
            path = sc_path(c, "capabilities", "add", i)
            yield Violation(
                f"container {c.name!r} adds {cap}",
                path,
                fix=edit_fix("unsafe", f"remove {cap}", Edit("remove", path)),
            )


@rule(
    code="KV109",
    slug="capabilities-restricted",
    title="Capabilities not minimised (drop ALL, add only NET_BIND_SERVICE)",
    category="security",
    severity="medium",
    scope="container",
    what="Policy v1.22+: `capabilities.drop` lacks `ALL`, or `capabilities.add` holds a "
    "default capability other than NET_BIND_SERVICE (others: KV108, KV110). Windows pods are "
    "exempt from v1.25.",
    why="Every capability the runtime grants by default (CHOWN, SETUID, NET_RAW...) is attack "
    "surface the process rarely needs.",
    how_to_fix="Set `capabilities.drop: [ALL]` and add back only NET_BIND_SERVICE if the "
    "process binds a port below 1024.",
    example_bad=_POD,
    example_good=example_pod(
        {"securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}
    ),
    fix_applicability="unsafe",
    unified=("check_34", "check_23"),
    pss=("capabilities_restricted",),
    references=("CIS Kubernetes Benchmark 5.2.9",),
)
def capabilities_restricted(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if ctx.pss_version < (1, 22) or linux_only_exempt(ctx.pss_version, pod):
        return
    add, drop = capabilities(c)
    if "ALL" not in drop:
        path = sc_path(c, "capabilities", "drop")
        yield Violation(
            f"container {c.name!r} does not drop ALL capabilities",
            path,
            fix=set_fix("unsafe", "drop all capabilities", (path, ["ALL"])),
        )
    extra = [i for i, cap in enumerate(add) if cap in BASELINE_CAPABILITIES - {"NET_BIND_SERVICE"}]
    if extra:
        names = ", ".join(str(add[i]) for i in extra)
        add_path = sc_path(c, "capabilities", "add")
        yield Violation(
            f"container {c.name!r} adds {names} (only NET_BIND_SERVICE is allowed)",
            add_path,
            fix=edit_fix(
                "unsafe",
                f"remove {names}",
                *(Edit("remove", (*add_path, i)) for i in reversed(extra)),
            ),
        )


@rule(
    code="KV111",
    slug="read-only-root-filesystem",
    title="Root filesystem is writable",
    category="security",
    severity="low",
    scope="container",
    what="The container does not set `securityContext.readOnlyRootFilesystem: true` "
    "(Windows pods are skipped: the field does not apply).",
    why="A writable root filesystem lets an attacker drop tools or modify binaries inside the "
    "running container.",
    how_to_fix="Set `readOnlyRootFilesystem: true` and mount an emptyDir where the process "
    "must write (/tmp, caches).",
    example_bad=_POD,
    example_good=example_pod({"securityContext": {"readOnlyRootFilesystem": True}}),
    fix_applicability="unsafe",
    unified=("check_27",),
    references=("CIS Kubernetes Benchmark 5.7.3",),
)
def read_only_root_filesystem(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if c.security_context.get("readOnlyRootFilesystem") is True or is_windows(pod):
        return
    path = sc_path(c, "readOnlyRootFilesystem")
    yield Violation(
        f"container {c.name!r} has a writable root filesystem",
        path,
        fix=set_fix("unsafe", "make the root filesystem read-only", (path, True)),
    )


@rule(
    code="KV112",
    slug="missing-security-context",
    title="No securityContext",
    category="security",
    severity="low",
    scope="pod",
    what="The pod, or a container, has no (or an empty) `securityContext`.",
    why="Without one, every hardening setting is left at the runtime's permissive defaults.",
    how_to_fix="Add a securityContext to the pod and to each container (see KV101, KV106, "
    "KV109, KV111, KV113 for what to put in it). The unsafe fix gives the pod "
    "`{runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}` (runAsNonRoot only on "
    "Windows pods); an image that needs root then fails to start. A container without one gets "
    "`allowPrivilegeEscalation: false` (a safe fix, as for KV106).",
    example_bad=_POD,
    example_good=example_pod(
        {"securityContext": {"allowPrivilegeEscalation": False}},
        spec={"securityContext": {"runAsNonRoot": True}},
    ),
    fix_applicability="unsafe",
    unified=("check_30",),
)
def missing_security_context(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    if not pod.security_context:
        path = (*pod.path, "securityContext")
        yield Violation("the pod has no securityContext", path, fix=_pod_context_fix(pod, path))
    for c in pod.containers:
        if not c.security_context:
            yield Violation(
                f"container {c.name!r} has no securityContext",
                (*c.path, "securityContext"),
                container=c.name,
                fix=_container_context_fix(pod, c),
            )


def _container_context_fix(pod: PodSpecView, c: ContainerView) -> Fix:
    """What KV106 would set: with no securityContext the container is neither privileged nor
    adds SYS_ADMIN, so the API accepts it; Windows containers may not set it at all."""
    if is_windows(pod):
        return Fix(
            "display-only",
            "add a securityContext (the Linux-only hardening fields are forbidden on Windows "
            "pods: set windowsOptions as the image needs)",
        )
    return set_fix(
        "safe",
        "set allowPrivilegeEscalation: false",
        (sc_path(c, "allowPrivilegeEscalation"), False),
    )


def _pod_context_fix(pod: PodSpecView, path: Path) -> Fix:
    """runAsNonRoot and the RuntimeDefault seccomp profile for the pod, one leaf per edit, so
    the fix composes with KV101 (runAsNonRoot, runAsUser) and KV113 (seccompProfile) fixing
    the same new map in the same run: a whole-map set would drop what they add."""
    edits: list[tuple[Path, Any]] = [((*path, "runAsNonRoot"), True)]
    if not is_windows(pod):  # the API rejects seccompProfile on Windows pods
        edits.append(((*path, "seccompProfile", "type"), "RuntimeDefault"))
    return set_fix(
        "unsafe", "give the pod a non-root, RuntimeDefault-seccomp securityContext", *edits
    )


def _seccomp_annotated(pod: PodSpecView, c: ContainerView | None) -> bool:
    keys = [SECCOMP_POD_ANNOTATION] + ([SECCOMP_CONTAINER_ANNOTATION + c.name] if c else [])
    return any(valid_seccomp_annotation(pod.annotations[k]) for k in keys if k in pod.annotations)


@rule(
    code="KV113",
    slug="seccomp-profile",
    title="No seccomp profile",
    category="security",
    severity="medium",
    scope="pod",
    what="Neither the pod nor the container sets `seccompProfile` (RuntimeDefault or "
    "Localhost). Below policy v1.19 a valid seccomp annotation counts; Windows pods are exempt "
    "from v1.25; an explicit Unconfined is reported by KV114.",
    why="Without a profile, containers run Unconfined on most runtimes: every system call is "
    "available to an attacker.",
    how_to_fix="Set `seccompProfile: {type: RuntimeDefault}` in the pod securityContext.",
    example_bad=_POD,
    example_good=example_pod(
        spec={"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}
    ),
    fix_applicability="unsafe",
    unified=("check_31",),
    pss=("seccompProfile_restricted",),
    references=("CIS Kubernetes Benchmark 5.7.2",),
)
def seccomp_profile(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    if linux_only_exempt(ctx.pss_version, pod):
        return
    old = ctx.pss_version < (1, 19)
    for site in sites(pod, ("seccompProfile",), lambda v: v is None):
        if old and _seccomp_annotated(pod, site.container):
            continue
        if site.container is None and old:
            # some inheriting containers may carry their own annotation
            names = [
                c.name
                for c in pod.containers
                if c.name in site.inheriting and not _seccomp_annotated(pod, c)
            ]
            if not names:
                continue
        who = _who(site)
        fix_value = {"type": "RuntimeDefault"}
        yield Violation(
            f"{who} sets no seccomp profile",
            site.path,
            container=site.container.name if site.container else None,
            fix=set_fix("unsafe", "use the RuntimeDefault seccomp profile", (site.path, fix_value)),
        )


def _who(site: Site) -> str:
    if site.container:
        return f"container {site.container.name!r}"
    return f"the pod (containers {', '.join(map(repr, site.inheriting))})"


@rule(
    code="KV115",
    slug="apparmor-profile",
    title="No AppArmor profile",
    category="security",
    severity="low",
    scope="container",
    what="No AppArmor profile applies to the container: no `appArmorProfile` (container or "
    "pod) and no `container.apparmor.security.beta.kubernetes.io/<name>` annotation. Off by "
    "default: runtimes apply their default profile where AppArmor is enabled.",
    why="An explicit profile keeps the confinement when nodes or runtimes change.",
    how_to_fix="Set `appArmorProfile: {type: RuntimeDefault}` in the securityContext "
    "(Kubernetes 1.30+), or the annotation on older clusters.",
    example_bad=_POD,
    example_good=example_pod({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}),
    fix_applicability="unsafe",
    unified=("check_32",),
    enabled_by_default=False,
)
def apparmor_profile(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if is_windows(pod) or effective(pod, c, "appArmorProfile") is not None:
        return
    if APPARMOR_ANNOTATION + c.name in pod.annotations:
        return
    path = sc_path(c, "appArmorProfile")
    yield Violation(
        f"container {c.name!r} has no AppArmor profile",
        path,
        fix=set_fix(
            "unsafe", "use the runtime's default profile", (path, {"type": "RuntimeDefault"})
        ),
    )


@rule(
    code="KV118",
    slug="selinux-configured",
    title="No SELinux options",
    category="security",
    severity="info",
    scope="container",
    what="Neither the container nor the pod sets `seLinuxOptions`. Off by default: runtimes "
    "assign a confined type and a per-pod level where SELinux is enabled.",
    why="Explicit SELinux levels keep volumes and processes of different workloads apart even "
    "when defaults change.",
    how_to_fix="Set `seLinuxOptions` (for example a `level`) in the pod securityContext.",
    example_bad=_POD,
    example_good=example_pod(spec={"securityContext": {"seLinuxOptions": {"level": "s0:c1,c2"}}}),
    unified=("check_61",),
    enabled_by_default=False,
)
def selinux_configured(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if not is_windows(pod) and not effective(pod, c, "seLinuxOptions"):
        yield Violation(
            f"container {c.name!r} sets no SELinux options", sc_path(c, "seLinuxOptions")
        )


def _host_namespace(pod: PodSpecView, field: str, what: str) -> Iterator[Violation]:
    if pod.spec.get(field) is True:
        path = (*pod.path, field)
        yield Violation(
            f"the pod shares the host's {what}",
            path,
            fix=set_fix("unsafe", f"stop sharing the host {what}", (path, False)),
        )


_HOSTNS_WHY = "PSS baseline forbids sharing host namespaces."


@rule(
    code="KV121",
    slug="host-pid",
    title="Pod shares the host PID namespace",
    category="security",
    severity="high",
    scope="pod",
    what="`spec.hostPID: true`.",
    why="The pod sees and can signal every process on the node, and read their environment "
    "through /proc. " + _HOSTNS_WHY,
    how_to_fix="Remove `hostPID` (or set it to false).",
    example_bad=example_pod(spec={"hostPID": True}),
    example_good=example_pod(spec={"hostPID": False}),
    fix_applicability="unsafe",
    unified=("check_10",),
    pss=("hostNamespaces",),
    references=("CIS Kubernetes Benchmark 5.2.2",),
)
def host_pid(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    yield from _host_namespace(pod, "hostPID", "PID namespace")


@rule(
    code="KV122",
    slug="host-ipc",
    title="Pod shares the host IPC namespace",
    category="security",
    severity="high",
    scope="pod",
    what="`spec.hostIPC: true`.",
    why="The pod can read and write the shared memory of every process on the node. " + _HOSTNS_WHY,
    how_to_fix="Remove `hostIPC` (or set it to false).",
    example_bad=example_pod(spec={"hostIPC": True}),
    example_good=example_pod(spec={"hostIPC": False}),
    fix_applicability="unsafe",
    unified=("check_11",),
    pss=("hostNamespaces",),
    references=("CIS Kubernetes Benchmark 5.2.3",),
)
def host_ipc(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    yield from _host_namespace(pod, "hostIPC", "IPC namespace")


@rule(
    code="KV123",
    slug="host-network",
    title="Pod uses the host network",
    category="security",
    severity="high",
    scope="pod",
    what="`spec.hostNetwork: true`.",
    why="The pod binds the node's interfaces, can sniff node traffic and reach services bound "
    "to localhost, and bypasses NetworkPolicy. " + _HOSTNS_WHY,
    how_to_fix="Remove `hostNetwork` and expose the pod through a Service.",
    example_bad=example_pod(spec={"hostNetwork": True}),
    example_good=example_pod(spec={"hostNetwork": False}),
    fix_applicability="unsafe",
    unified=("check_12",),
    pss=("hostNamespaces",),
    references=("CIS Kubernetes Benchmark 5.2.4",),
)
def host_network(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    yield from _host_namespace(pod, "hostNetwork", "network namespace")


@rule(
    code="KV124",
    slug="host-port",
    title="Container binds a host port",
    category="security",
    severity="medium",
    scope="container",
    what="A container port sets a non-zero `hostPort`.",
    why="A host port exposes the pod on the node's address outside Services and NetworkPolicy, "
    "and limits scheduling to one such pod per node.",
    how_to_fix="Remove `hostPort`; expose the port through a Service (NodePort or "
    "LoadBalancer if it must be reachable from outside).",
    example_bad=example_pod({"ports": [{"containerPort": 8080, "hostPort": 8080}]}),
    example_good=example_pod({"ports": [{"containerPort": 8080}]}),
    fix_applicability="unsafe",
    unified=("check_29",),
    pss=("hostPorts",),
)
def host_port(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    for i, port in enumerate(as_list(c.data.get("ports"))):
        host = as_dict(port).get("hostPort")
        if host not in (None, 0, "0"):
            path = (*c.path, "ports", i, "hostPort")
            yield Violation(
                f"container {c.name!r} binds host port {host}",
                path,
                fix=edit_fix("unsafe", "stop binding the host port", Edit("remove", path)),
            )


def _host_paths(pod: PodSpecView) -> Iterator[tuple[int, str, str]]:
    """(volume index, volume name, normalised host path) of every hostPath volume."""
    for i, volume in enumerate(as_list(pod.spec.get("volumes"))):
        source = as_dict(as_dict(volume).get("hostPath"))
        if "hostPath" in as_dict(volume):
            path = str(source.get("path") or "")
            yield i, str(volume.get("name")), (path.rstrip("/") or "/")


@rule(
    code="KV125",
    slug="host-path-volume",
    title="hostPath volume",
    category="security",
    severity="high",
    scope="pod",
    what="A volume uses `hostPath`.",
    why="hostPath gives the pod the node's filesystem: credentials, other pods' data, and "
    "(when writable) a path to code execution on the node.",
    how_to_fix="Use a PersistentVolumeClaim, an emptyDir or a projected volume; node agents "
    "that truly need host files belong in an exempted namespace.",
    example_bad=example_pod(spec={"volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}]}),
    example_good=example_pod(spec={"volumes": [{"name": "tmp", "emptyDir": {}}]}),
    unified=("check_47",),
    pss=("hostPathVolumes",),
    references=("CIS Kubernetes Benchmark 5.2.12",),
)
def host_path_volume(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    for i, name, path in _host_paths(pod):
        yield Violation(
            f"volume {name!r} mounts host path {path}", (*pod.path, "volumes", i, "hostPath")
        )


RUNTIME_SOCKETS = ("docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock", "podman.sock")

# Where the runtimes put their sockets, under /run (and /var/run, its symlink on every
# mainstream distribution). A hostPath of one of these paths or of a directory above one
# exposes the socket as surely as the socket's own path. `/var` is not listed: there
# `/var/run` is a symlink, which resolves inside the container, not on the node.
_SOCKET_HOMES = (
    "docker.sock",
    "cri-dockerd.sock",
    "docker/containerd/containerd.sock",
    "containerd/containerd.sock",
    "crio/crio.sock",
    "k3s/containerd/containerd.sock",
    "podman/podman.sock",
)
_SOCKET_DIRS = frozenset(
    {"/"}
    | {
        posixpath.join(root, *home.split("/")[:depth])
        for root in ("/run", "/var/run")
        for home in _SOCKET_HOMES
        for depth in range(home.count("/") + 1)
    }
)


def exposes_runtime_socket(path: str) -> bool:
    """Is `path` a runtime socket, or a directory that holds one (or holds its directory)?"""
    return (
        path.endswith(RUNTIME_SOCKETS)
        or posixpath.normpath("/" + path.lstrip("/")) in _SOCKET_DIRS  # "//run" is "/run"
    )


@rule(
    code="KV126",
    slug="container-runtime-socket",
    title="Container runtime socket mounted",
    category="security",
    severity="critical",
    scope="pod",
    what="A hostPath volume points at a container runtime socket (docker.sock, "
    "containerd.sock, crio.sock, cri-dockerd.sock, podman.sock) or at a directory that holds "
    "one: `/run/containerd`, `/var/run/crio`, `/run/k3s/containerd`, `/var/run/docker`, and "
    "their parents `/run`, `/var/run` and `/`.",
    why="Whoever can talk to the runtime socket can start a privileged container on the node: "
    "it is root on the node.",
    how_to_fix="Remove the volume; build images with a daemonless builder (BuildKit rootless, "
    "kaniko) and read container data through the Kubernetes API.",
    example_bad=example_pod(
        spec={"volumes": [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]}
    ),
    example_good=example_pod(spec={"volumes": [{"name": "tmp", "emptyDir": {}}]}),
    unified=("check_15",),
)
def container_runtime_socket(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    for i, name, path in _host_paths(pod):
        if exposes_runtime_socket(path):
            what = "socket" if path.endswith(RUNTIME_SOCKETS) else "socket's directory"
            yield Violation(
                f"volume {name!r} mounts the container runtime {what} {path}",
                (*pod.path, "volumes", i, "hostPath", "path"),
            )


# Host OS directories: the directory itself or anything under it (a trailing "/*"),
# or only the directory itself.
_OS_TREES = ("/bin", "/boot", "/etc", "/lib", "/lib64", "/sbin", "/usr", "/proc", "/sys", "/root")
_OS_DIRS = ("/", "/dev", "/home", "/run", "/srv", "/var", "/var/run", "/var/lib")


def is_os_dir(path: str) -> bool:
    return path in _OS_DIRS or any(path == t or path.startswith(t + "/") for t in _OS_TREES)


@rule(
    code="KV127",
    slug="writable-host-os-mount",
    title="Host OS directory mounted writable",
    category="security",
    severity="high",
    scope="container",
    what="A container mounts a hostPath volume of a host OS directory (/, /etc, /usr, /bin, "
    "/boot, /lib, /proc, /sys, /var...) without `readOnly: true`.",
    why="Writing to the node's system directories (binaries, configuration, kernel "
    "interfaces) is code execution on the node.",
    how_to_fix="Set `readOnly: true` on the volumeMount (and on the hostPath where possible), "
    "or mount a narrower path.",
    example_bad=example_pod(
        {"volumeMounts": [{"name": "etc", "mountPath": "/host/etc"}]},
        spec={"volumes": [{"name": "etc", "hostPath": {"path": "/etc"}}]},
    ),
    example_good=example_pod(
        {"volumeMounts": [{"name": "etc", "mountPath": "/host/etc", "readOnly": True}]},
        spec={"volumes": [{"name": "etc", "hostPath": {"path": "/etc"}}]},
    ),
    fix_applicability="unsafe",
    unified=("check_55",),
)
def writable_host_os_mount(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    os_volumes = {name: path for _, name, path in _host_paths(pod) if is_os_dir(path)}
    for i, mount in enumerate(as_list(c.data.get("volumeMounts"))):
        mount = as_dict(mount)
        host = os_volumes.get(str(mount.get("name")))
        if host is None or mount.get("readOnly") is True:
            continue
        path = (*c.path, "volumeMounts", i, "readOnly")
        yield Violation(
            f"container {c.name!r} mounts host {host} writable at {mount.get('mountPath')}",
            path,
            fix=set_fix("unsafe", "mount it read-only", (path, True)),
        )


@rule(
    code="KV129",
    slug="unsafe-sysctls",
    title="Unsafe sysctl",
    category="security",
    severity="high",
    scope="pod",
    what="`spec.securityContext.sysctls` names a sysctl outside the policy version's safe set "
    "(which grew at v1.27, v1.29 and v1.32).",
    why="Unsafe sysctls are not namespaced per pod, or not isolated: they change kernel "
    "behaviour for the whole node.",
    how_to_fix="Remove the sysctl; tune it on the node (or allow it on dedicated nodes with "
    "kubelet `--allowed-unsafe-sysctls` and an exempted namespace).",
    example_bad=example_pod(
        spec={"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}}
    ),
    example_good=example_pod(
        spec={"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]}}
    ),
    unified=("check_41",),
    pss=("sysctls",),
)
def unsafe_sysctls(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    allowed = safe_sysctls(ctx.pss_version)
    for i, item in enumerate(as_list(pod.security_context.get("sysctls"))):
        name = as_dict(item).get("name")
        if name not in allowed:
            yield Violation(
                f"sysctl {name!r} is not in the safe set of policy "
                f"v{ctx.pss_version[0]}.{ctx.pss_version[1]}",
                (*pod.path, "securityContext", "sysctls", i, "name"),
            )


@rule(
    code="KV132",
    slug="secret-in-env",
    title="Secret exposed as an environment variable",
    category="security",
    severity="low",
    scope="container",
    what="An `env[].valueFrom.secretKeyRef` or `envFrom[].secretRef` passes a Secret to the "
    "container as environment variables.",
    why="Environment variables leak into logs, crash dumps, `/proc/<pid>/environ` and child "
    "processes; mounted files can be permissioned and rotated.",
    how_to_fix="Mount the Secret as a volume and have the application read the file.",
    example_bad=example_pod(
        {
            "env": [
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}
            ]
        }
    ),
    example_good=example_pod(
        {"volumeMounts": [{"name": "db", "mountPath": "/run/secrets/db", "readOnly": True}]},
        spec={"volumes": [{"name": "db", "secret": {"secretName": "db"}}]},
    ),
    unified=("check_33",),
)
def secret_in_env(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    for i, env in enumerate(as_list(c.data.get("env"))):
        ref = as_dict(as_dict(as_dict(env).get("valueFrom")).get("secretKeyRef"))
        if ref:
            yield Violation(
                f"container {c.name!r} reads Secret {ref.get('name')!r} into "
                f"${as_dict(env).get('name')}",
                (*c.path, "env", i, "valueFrom", "secretKeyRef"),
            )
    for i, src in enumerate(as_list(c.data.get("envFrom"))):
        ref = as_dict(as_dict(src).get("secretRef"))
        if ref:
            yield Violation(
                f"container {c.name!r} loads Secret {ref.get('name')!r} into its environment",
                (*c.path, "envFrom", i, "secretRef"),
            )


def _sa_bound(group: InputGroup, name: str, namespace: str | None) -> bool:
    """Does a RoleBinding or ClusterRoleBinding in the input grant this service account
    something? A binding to a role of the input with no rules (and no aggregation) grants
    nothing; a role outside the input (built-in or installed elsewhere) is assumed to."""
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for binding in group.by_kind(kind):
            if _names_sa(binding, name, namespace) and _role_grants(group, binding):
                return True
    return False


def _names_sa(binding: K8sObject, name: str, namespace: str | None) -> bool:
    for subject in as_list(binding.data.get("subjects")):
        subject = as_dict(subject)
        if subject.get("kind") != "ServiceAccount" or subject.get("name") != name:
            continue
        ns = subject.get("namespace") or binding.namespace
        if not ns or not namespace or ns == namespace:
            return True
    return False


def _role_grants(group: InputGroup, binding: K8sObject) -> bool:
    ref = as_dict(binding.data.get("roleRef"))
    kind, role_name = ref.get("kind"), ref.get("name")
    if kind not in ("Role", "ClusterRole") or not isinstance(role_name, str):
        return False  # the API server rejects such a binding: it grants nothing
    role = group.find(kind, role_name, binding.namespace if kind == "Role" else None)
    if role is None:
        return True
    return bool(as_list(role.data.get("rules"))) or "aggregationRule" in role.data


def _sa_automount(group: InputGroup, name: str, namespace: str | None) -> Any:
    sa = group.find("ServiceAccount", name, namespace)
    return sa.data.get("automountServiceAccountToken") if sa else None


@rule(
    code="KV133",
    slug="automount-service-account-token",
    title="Service account token mounted automatically",
    category="security",
    severity="low",
    scope="pod",
    what="Neither the pod nor its ServiceAccount (when in the same input) sets "
    "`automountServiceAccountToken: false`. An explicit `true` on the pod is accepted only "
    "when a RoleBinding or ClusterRoleBinding of the input grants the service account "
    "something (a role with rules, or one defined elsewhere): a token no binding grants "
    "anything is of no use to the app and of use to an attacker.",
    why="Every container gets an API token it usually does not need; a compromised process "
    "can use it against the API server.",
    how_to_fix="Set `automountServiceAccountToken: false` in the pod spec (or on the "
    "ServiceAccount), and mount a projected token only where the API is used.",
    example_bad=_POD,
    example_good=example_pod(spec={"automountServiceAccountToken": False}),
    fix_applicability="safe",
    unified=("check_35",),
    references=("CIS Kubernetes Benchmark 5.1.6",),
)
def automount_service_account_token(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    value = pod.spec.get("automountServiceAccountToken")
    sa = service_account(pod)
    if value is False:
        return
    if value is None and _sa_automount(ctx.group, sa, obj.namespace) is False:
        return
    bound = _sa_bound(ctx.group, sa, obj.namespace)
    if value is True and bound:
        return  # asked for explicitly, and the account can do something with it
    path = (*pod.path, "automountServiceAccountToken")
    why = " (a binding grants it API access: check the app does not use it)" if bound else ""
    how = "automatically"
    if value is True:  # a binding outside the input may be why it was asked for: unsafe
        how = "(automountServiceAccountToken: true), yet no binding in the input grants it"
        why = " (check no binding outside this input is why it was enabled)"
    yield Violation(
        f"the pod mounts the token of service account {sa!r} {how}",
        path,
        fix=set_fix(
            "unsafe" if bound or value is True else "safe",
            f"do not mount the token{why}",
            (path, False),
        ),
    )


@rule(
    code="KV134",
    slug="default-service-account",
    title="Workload uses the default service account",
    category="security",
    severity="low",
    scope="pod",
    what="The pod runs as the namespace's `default` service account (no `serviceAccountName`) "
    "and mounts its token.",
    why="Permissions granted to `default` reach every workload in the namespace that does not "
    "choose its own account; a dedicated account keeps grants per workload.",
    how_to_fix="Create a ServiceAccount per workload and set `serviceAccountName`, or set "
    "`automountServiceAccountToken: false` when the workload does not call the API.",
    example_bad=_POD,
    example_good=example_pod(spec={"serviceAccountName": "web"}),
    unified=("check_36",),
    references=("CIS Kubernetes Benchmark 5.1.5",),
)
def default_service_account(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    if (
        service_account(pod) == "default"
        and pod.spec.get("automountServiceAccountToken") is not False
    ):
        yield Violation(
            "the pod runs as the namespace's default service account",
            (*pod.path, "serviceAccountName"),
        )


@rule(
    code="KV135",
    slug="deprecated-service-account-field",
    title="Deprecated serviceAccount field",
    category="security",
    severity="low",
    scope="pod",
    what="The pod spec sets the deprecated `serviceAccount` field.",
    why="`serviceAccount` is a deprecated alias of `serviceAccountName`; tools that read only "
    "the new field see the wrong account.",
    how_to_fix="Rename the field to `serviceAccountName`.",
    example_bad=example_pod(spec={"serviceAccount": "web"}),
    example_good=example_pod(spec={"serviceAccountName": "web"}),
    fix_applicability="safe",
    unified=("check_37",),
)
def deprecated_service_account_field(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    old = pod.spec.get("serviceAccount")
    if not old:
        return
    edits = [Edit("remove", (*pod.path, "serviceAccount"))]
    if not pod.spec.get("serviceAccountName"):
        edits.insert(0, Edit("set", (*pod.path, "serviceAccountName"), old))
    yield Violation(
        f"the pod sets the deprecated serviceAccount: {old}",
        (*pod.path, "serviceAccount"),
        fix=edit_fix("safe", "use serviceAccountName", *edits),
    )


@rule(
    code="KV136",
    slug="subpath-mount",
    title="volumeMount uses subPath",
    category="security",
    severity="low",
    scope="container",
    what="A volumeMount sets `subPath` or `subPathExpr`. Off by default: it matters on "
    "clusters without the CVE-2021-25741 fix (before 1.19.15, 1.20.11, 1.21.5, 1.22.2).",
    why="On unpatched kubelets a symlink in a subPath lets the container reach any file on "
    "the node (CVE-2021-25741).",
    how_to_fix="Upgrade the cluster, or mount the whole volume (or a projected item) instead.",
    example_bad=example_pod(
        {"volumeMounts": [{"name": "cfg", "mountPath": "/etc/app.conf", "subPath": "app.conf"}]},
        spec={"volumes": [{"name": "cfg", "configMap": {"name": "app"}}]},
    ),
    example_good=example_pod(
        {"volumeMounts": [{"name": "cfg", "mountPath": "/etc/app"}]},
        spec={"volumes": [{"name": "cfg", "configMap": {"name": "app"}}]},
    ),
    unified=("check_50",),
    references=("CVE-2021-25741",),
    enabled_by_default=False,
)
def subpath_mount(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    for i, mount in enumerate(as_list(c.data.get("volumeMounts"))):
        for key in ("subPath", "subPathExpr"):
            if as_dict(mount).get(key):
                yield Violation(
                    f"container {c.name!r} mounts {mount.get('name')!r} with {key}",
                    (*c.path, "volumeMounts", i, key),
                )


@rule(
    code="KV137",
    slug="ssh-port",
    title="Container exposes SSH (port 22)",
    category="security",
    severity="medium",
    scope="container",
    what="A container port is 22.",
    why="An SSH server in a container is a second, unaudited way in, with its own credentials "
    "to leak; use `kubectl exec` or ephemeral debug containers instead.",
    how_to_fix="Remove the SSH server and the port.",
    example_bad=example_pod({"ports": [{"containerPort": 22}]}),
    example_good=example_pod({"ports": [{"containerPort": 8080}]}),
    unified=("check_68",),
)
def ssh_port(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    for i, port in enumerate(as_list(c.data.get("ports"))):
        if as_dict(port).get("containerPort") in (22, "22"):
            yield Violation(
                f"container {c.name!r} exposes port 22 (SSH)",
                (*c.path, "ports", i, "containerPort"),
            )


def _is_dashboard(image: str) -> bool:
    repo = image.split("@")[0].rsplit(":", 1)[0] if "/" in image else image.split(":")[0]
    return "kubernetesui/dashboard" in repo or "kubernetes-dashboard" in repo


@rule(
    code="KV138",
    slug="kubernetes-dashboard",
    title="Kubernetes dashboard deployed",
    category="security",
    severity="medium",
    scope="container",
    what="A container runs the Kubernetes dashboard image (kubernetesui/dashboard*, "
    "kubernetes-dashboard).",
    why="The dashboard is a web front end to the API server; exposed or over-privileged, it "
    "has been the entry point of well-known cluster takeovers.",
    how_to_fix="Do not deploy it; if you must, keep it private (kubectl proxy), with a "
    "read-only service account and no skip-login.",
    example_bad=example_pod(image="kubernetesui/dashboard:v2.7.0"),
    example_good=example_pod(image="registry.example.com/web:1.4.2"),
    unified=("check_38",),
)
def kubernetes_dashboard(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    image = str(c.data.get("image") or "")
    if _is_dashboard(image):
        yield Violation(
            f"container {c.name!r} runs the Kubernetes dashboard ({image})", (*c.path, "image")
        )


# Names that say "this is a credential"; names of files, paths or Secret objects are not.
_SECRET_NAME = re.compile(r"secret|passw(or)?d|token|api[_-]?key|private[_-]?key|credential", re.I)
_SECRET_NAME_NOT = re.compile(r"(_|-)(file|path|dir|name|ref)$", re.I)


@rule(
    code="KV139",
    slug="secret-literal-in-env",
    title="Credential written as a literal environment value",
    category="security",
    severity="high",
    scope="container",
    what="An `env` entry whose name says it holds a credential (secret, password, token, "
    "api key, private key, credential; names ending in _FILE, _PATH, _DIR, _NAME or _REF "
    "excepted) sets a literal non-empty `value` instead of `valueFrom`.",
    why="The value is stored in the manifest or chart, in every render, in Git history and "
    "in the object anyone with read access to the workload can see; it cannot be rotated "
    "without a new release.",
    how_to_fix="Move the value into a Secret and reference it with `valueFrom.secretKeyRef` "
    "(or mount the Secret as a file).",
    example_bad=example_pod({"env": [{"name": "DB_PASSWORD", "value": "hunter2"}]}),
    example_good=example_pod(
        {
            "env": [
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
                }
            ]
        }
    ),
    references=("CIS Kubernetes Benchmark 5.4.1",),
)
def secret_literal_in_env(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    for i, entry in enumerate(as_list(c.data.get("env"))):
        entry = as_dict(entry)
        name, value = str(entry.get("name") or ""), entry.get("value")
        if not value or not isinstance(value, str) or not _SECRET_NAME.search(name):
            continue
        if _SECRET_NAME_NOT.search(name):
            continue
        yield Violation(
            f"container {c.name!r} sets {name} to a literal value", (*c.path, "env", i, "value")
        )
