"""Workload shape (KV111, KV112, KV128, KV136-KV138): the security context itself, the
root filesystem, volume types and subPath mounts, and what a container is (SSH, the
Kubernetes dashboard)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Fix, Violation
from kubevet.model import ContainerView, K8sObject, Path, PodSpecView
from kubevet.rules._helpers import (
    as_dict,
    as_list,
    is_windows,
    sc_path,
    set_fix,
)
from kubevet.rules.examples import EXAMPLE_POD, example_pod
from kubevet.rules.registry import rule
from kubevet.rules.security.pss import (
    RESTRICTED_VOLUME_SOURCES,
    pss_ref,
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
    example_bad=EXAMPLE_POD,
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
    example_bad=EXAMPLE_POD,
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
    references=(pss_ref("restrictedVolumes"),),
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
