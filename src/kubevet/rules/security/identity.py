"""Who the containers run as (KV101-KV104): non-root, user 0, low user and group ids."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.model import ContainerView, K8sObject, Path, PodSpecView
from kubevet.rules._helpers import (
    effective,
    sc_path,
    set_fix,
    sites,
    user_namespace_relaxed,
    where,
)
from kubevet.rules.examples import EXAMPLE_POD, example_pod
from kubevet.rules.options import Option
from kubevet.rules.registry import rule
from kubevet.rules.security.pss import (
    pss_ref,
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
    example_bad=EXAMPLE_POD,
    example_good=EXAMPLE_POD
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
    references=(pss_ref("runAsUser"),),
    options={"run_as_user": Option("integer", 10001, "the UID the fix sets")},
)
def run_as_user_zero(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    if ctx.pss_version < (1, 23) or user_namespace_relaxed(ctx.pss_version, pod):
        return
    uid = ctx.setting("run_as_user", 10001)
    for site in sites(pod, ("runAsUser",), lambda v: v == 0 and v is not False, pod_always=True):
        yield Violation(
            f"{where(site.container)} sets runAsUser: 0",
            site.path,
            container=site.container.name if site.container else None,
            fix=set_fix("unsafe", f"run as UID {uid}", (site.path, uid)),
        )


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
