"""Kernel confinement (KV113-KV120, KV129, KV141): seccomp, AppArmor, SELinux, /proc masks,
sysctls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.model import ContainerView, K8sObject, Path, PodSpecView
from kubevet.rules._helpers import (
    Site,
    as_dict,
    as_list,
    effective,
    is_windows,
    linux_only_exempt,
    sc_path,
    set_fix,
    sites,
    user_namespace_relaxed,
    where,
)
from kubevet.rules.examples import EXAMPLE_POD, example_pod
from kubevet.rules.registry import rule
from kubevet.rules.security.pss import (
    APPARMOR_ANNOTATION,
    APPARMOR_OK,
    SECCOMP_CONTAINER_ANNOTATION,
    SECCOMP_OK,
    SECCOMP_POD_ANNOTATION,
    pss_ref,
    safe_sysctls,
    selinux_types,
    valid_seccomp_annotation,
)


def _seccomp_annotated(pod: PodSpecView, c: ContainerView | None) -> bool:
    keys = [SECCOMP_POD_ANNOTATION] + ([SECCOMP_CONTAINER_ANNOTATION + c.name] if c else [])
    return any(valid_seccomp_annotation(pod.annotations[k]) for k in keys if k in pod.annotations)


def _who(site: Site) -> str:
    if site.container:
        return f"container {site.container.name!r}"
    return f"the pod (containers {', '.join(map(repr, site.inheriting))})"


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
    example_bad=EXAMPLE_POD,
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


def _seccomp_annotations(pod: PodSpecView) -> Iterator[tuple[str, Any, ContainerView | None]]:
    """Pre-1.19 seccomp annotations: (key, value, container or None for the pod one)."""
    notes = pod.annotations
    if SECCOMP_POD_ANNOTATION in notes:
        yield SECCOMP_POD_ANNOTATION, notes[SECCOMP_POD_ANNOTATION], None
    for c in pod.containers:
        key = SECCOMP_CONTAINER_ANNOTATION + c.name
        if key in notes:
            yield key, notes[key], c


def _bad_profile(allowed: frozenset[str]) -> Any:
    """A `sites` predicate: a profile object present whose type is not allowed."""
    return lambda v: v is not None and as_dict(v).get("type") not in allowed


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
    references=(pss_ref("seccompProfile_baseline"),),
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
            f"{where(site.container)} sets seccompProfile.type {as_dict(site.value).get('type')!r}",
            path,
            container=site.container.name if site.container else None,
            fix=set_fix("unsafe", "use the RuntimeDefault profile", (path, "RuntimeDefault")),
        )


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
    example_bad=EXAMPLE_POD,
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
    references=(pss_ref("appArmorProfile"),),
)
def apparmor_unconfined(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    for site in sites(pod, ("appArmorProfile",), _bad_profile(APPARMOR_OK), pod_always=True):
        path = (*site.path, "type")
        yield Violation(
            f"{where(site.container)} sets appArmorProfile.type "
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


def _every_container_named(pod: PodSpecView) -> bool:
    """Whether the pod's container lists are fully known (no unrendered or nameless entry)."""
    keys = ("containers", "initContainers", "ephemeralContainers")
    listed = sum(len(as_list(pod.spec.get(k))) for k in keys)
    return listed == len(pod.containers) and not any(c.name.startswith("#") for c in pod.containers)


@rule(
    code="KV141",
    slug="apparmor-unknown-container",
    title="AppArmor annotation names a container the pod does not have",
    category="security",
    severity="medium",
    scope="pod",
    what="A `container.apparmor.security.beta.kubernetes.io/<name>` annotation names no "
    "container, init container or ephemeral container of the pod.",
    why='The API server rejects the pod or pod template ("container not found"); usually a '
    "container was renamed and the profile meant for it no longer applies to anything.",
    how_to_fix="Rename the annotation after the container, or set `appArmorProfile` in the "
    "container's securityContext (Kubernetes 1.30+), which cannot name the wrong container.",
    example_bad=example_pod(annotations={APPARMOR_ANNOTATION + "nginx": "runtime/default"}),
    example_good=example_pod(annotations={APPARMOR_ANNOTATION + "web": "runtime/default"}),
    references=("https://kubernetes.io/docs/tutorials/security/apparmor/",),
)
def apparmor_unknown_container(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    if not _every_container_named(pod):
        return
    names = {c.name for c in pod.containers}
    for key in pod.annotations:
        name = key.removeprefix(APPARMOR_ANNOTATION)
        if key.startswith(APPARMOR_ANNOTATION) and name not in names:
            yield Violation(
                f"annotation {key} names container {name!r}; the pod has "
                f"{', '.join(map(repr, sorted(names)))}",
                (*pod.metadata_path, "annotations", key),
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
    references=(pss_ref("seLinuxOptions"),),
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
                f"{where(c)} sets seLinuxOptions {', '.join(problems)}",
                path,
                container=c.name if c else None,
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
    example_bad=EXAMPLE_POD,
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
    references=(pss_ref("procMount"),),
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
    references=(pss_ref("procMount_restricted"),),
)
def proc_mount_restricted(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    # Other pods are reported by KV119: one finding per problem.
    if _unmasked(c) and user_namespace_relaxed(ctx.pss_version, pod):
        yield _proc_mount_violation(c, " (allowed by baseline only)")


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
