"""What a pod shares with its node (KV121-KV127, KV130, KV131): host namespaces and
ports, hostPath volumes, runtime sockets, Windows host processes, host probes and hooks."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Edit, Fix, Violation
from kubevet.model import ContainerView, K8sObject, Path, PodSpecView
from kubevet.rules._helpers import (
    as_dict,
    as_list,
    edit_fix,
    set_fix,
    sites,
    where,
)
from kubevet.rules.examples import example_pod
from kubevet.rules.registry import rule
from kubevet.rules.security.pss import (
    pss_ref,
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
        if isinstance(volume, dict) and "hostPath" in volume:
            path = str(as_dict(volume["hostPath"]).get("path") or "")
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
    "that truly need host files belong in an exempted namespace. The fix is display-only: "
    "another volume type cannot hold what the node has there.",
    example_bad=example_pod(spec={"volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}]}),
    example_good=example_pod(spec={"volumes": [{"name": "tmp", "emptyDir": {}}]}),
    fix_applicability="display-only",
    unified=("check_47",),
    pss=("hostPathVolumes",),
    references=("CIS Kubernetes Benchmark 5.2.12",),
)
def host_path_volume(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    for i, name, path in _host_paths(pod):
        yield Violation(
            f"volume {name!r} mounts host path {path}",
            (*pod.path, "volumes", i, "hostPath"),
            fix=Fix(
                "display-only",
                f"replace host path {path} with an emptyDir, a PersistentVolumeClaim or a "
                "projected volume: not done for you, since what the container reads or "
                "writes there on the node (logs, a socket, a device, other pods' data) is "
                "why it mounts it, and no other volume holds that",
            ),
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
    if not os_volumes:  # nearly every pod: no mount to look at
        return
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
    references=(pss_ref("windowsHostProcess"),),
)
def windows_host_process(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    key = ("windowsOptions", "hostProcess")
    for site in sites(pod, key, lambda v: v is True, pod_always=True):
        yield Violation(
            f"{where(site.container)} runs as a Windows HostProcess",
            site.path,
            container=site.container.name if site.container else None,
        )


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


_HOOKS = ("postStart", "preStop")


def _handlers(c: ContainerView) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(path, handler) of each probe and lifecycle hook the container sets."""
    for probe in _PROBES:
        handler = c.data.get(probe)
        if isinstance(handler, dict):
            yield (*c.path, probe), handler
    lifecycle = c.data.get("lifecycle")
    if isinstance(lifecycle, dict):
        for hook in _HOOKS:
            handler = lifecycle.get(hook)
            if isinstance(handler, dict):
                yield (*c.path, "lifecycle", hook), handler


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
    references=(pss_ref("hostProbesAndHostLifecycle"),),
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
