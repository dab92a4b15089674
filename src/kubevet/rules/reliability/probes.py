"""Probes and graceful shutdown (KV301-KV304): liveness, readiness, explicit probe
timing, preStop hooks."""

from __future__ import annotations

from collections.abc import Iterator

from kubevet.context import RuleContext
from kubevet.findings import Fix, Violation
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.rules._helpers import as_dict, as_list, set_fix
from kubevet.rules.examples import EXAMPLE_DEPLOYMENT as _DEPLOYMENT
from kubevet.rules.registry import rule
from kubevet.rules.reliability.kinds import (
    is_long_running,
)

_PROBES = """\
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
"""


_PROBE_DOC = (
    "Only regular containers of long-running workloads are checked (Deployment, StatefulSet, "
    "DaemonSet, ReplicaSet, ReplicationController, and bare Pods that restart): init and "
    "ephemeral containers, Jobs, CronJobs, Pods owned by a Job and Helm hook Pods run to "
    "completion, and flagging them was a long-standing source of false positives in other "
    "tools (Checkov flagged Jobs and init containers until it learned to skip them)."
)


def _probe_target(obj: K8sObject, pod: PodSpecView, c: ContainerView) -> bool:
    return c.kind == "container" and is_long_running(obj, pod)


# Timing of the probes the fix writes: every field KV303 asks for is set, the liveness probe
# waits and tolerates three misses before a restart, readiness reacts twice as fast.
_PROBE_TIMING: dict[str, dict[str, int]] = {
    "livenessProbe": {
        "initialDelaySeconds": 10,
        "periodSeconds": 10,
        "timeoutSeconds": 3,
        "successThreshold": 1,
        "failureThreshold": 3,
    },
    "readinessProbe": {
        "initialDelaySeconds": 5,
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "successThreshold": 1,
        "failureThreshold": 3,
    },
}


def _tcp_port(c: ContainerView) -> int | str | None:
    """The first declared TCP containerPort (its number, else its name), or None."""
    for port in as_list(c.data.get("ports")):
        port = as_dict(port)
        if port.get("protocol", "TCP") != "TCP":
            continue  # a tcpSocket probe cannot check a UDP or SCTP port
        number = port.get("containerPort")
        if isinstance(number, int) and not isinstance(number, bool) and 0 < number < 65536:
            return number
        if isinstance(port.get("name"), str) and port["name"]:
            return port["name"]
    return None


def _probe_fix(c: ContainerView, probe: str) -> Fix:
    """A tcpSocket `probe` on the container's first TCP port; unsafe because an open port
    says nothing about the app's health (and a slow start may still fail it)."""
    port = _tcp_port(c)
    if port is None:
        return Fix(
            "display-only",
            f"add a {probe}: the container declares no TCP containerPort to check, so the "
            "fix cannot tell which port or command shows it works",
        )
    value = {"tcpSocket": {"port": port}, **_PROBE_TIMING[probe]}
    return set_fix("unsafe", f"add a tcpSocket {probe} on port {port}", ((*c.path, probe), value))


@rule(
    code="KV301",
    slug="liveness-probe",
    title="Container has no liveness probe",
    category="reliability",
    severity="low",
    scope="container",
    what="A regular container of a long-running workload defines no `livenessProbe`. " + _PROBE_DOC,
    why="Without a liveness probe the kubelet restarts the container only when its process "
    "exits; a deadlocked or wedged process keeps its pod Running and serving errors.",
    how_to_fix="Add a `livenessProbe` that fails only when the process cannot recover by "
    "itself (a cheap endpoint; not one that checks downstream dependencies). The unsafe fix "
    "adds a `tcpSocket` probe on the first declared TCP containerPort, with every timing field "
    "set (10 s delay and period, 3 s timeout, 3 failures; no fix without a TCP port); replace it "
    "with a real health check.",
    example_bad=_DEPLOYMENT,
    example_good=_DEPLOYMENT + _PROBES,
    fix_applicability="unsafe",
    unified=("check_7",),
    references=(
        "https://kubernetes.io/docs/tasks/configure-pod-container/"
        "configure-liveness-readiness-startup-probes/",
    ),
)
def liveness_probe(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if _probe_target(obj, pod, c) and not c.data.get("livenessProbe"):
        yield Violation(
            f"container {c.name!r} has no liveness probe",
            (*c.path, "livenessProbe"),
            fix=_probe_fix(c, "livenessProbe"),
        )


@rule(
    code="KV302",
    slug="readiness-probe",
    title="Container has no readiness probe",
    category="reliability",
    severity="low",
    scope="container",
    what="A regular container of a long-running workload defines no `readinessProbe`. "
    + _PROBE_DOC,
    why="Without a readiness probe a pod receives Service traffic as soon as its containers "
    "start, before the application is ready, and keeps receiving it while it is overloaded; "
    "rolling updates also proceed without waiting for the new pods to work.",
    how_to_fix="Add a `readinessProbe` that succeeds once the container can serve requests. "
    "The unsafe fix adds a `tcpSocket` probe on the first declared TCP containerPort, with "
    "every timing field set (5 s delay and period, 3 s timeout, 3 failures; no fix without a TCP "
    "port).",
    example_bad=_DEPLOYMENT,
    example_good=_DEPLOYMENT + _PROBES,
    fix_applicability="unsafe",
    unified=("check_8",),
    references=(
        "https://kubernetes.io/docs/tasks/configure-pod-container/"
        "configure-liveness-readiness-startup-probes/",
    ),
)
def readiness_probe(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if _probe_target(obj, pod, c) and not c.data.get("readinessProbe"):
        yield Violation(
            f"container {c.name!r} has no readiness probe",
            (*c.path, "readinessProbe"),
            fix=_probe_fix(c, "readinessProbe"),
        )


_PROBES_EXPLICIT = """\
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
            initialDelaySeconds: 5
            periodSeconds: 10
            timeoutSeconds: 2
            successThreshold: 1
            failureThreshold: 3
"""


# Kubernetes defaults, so writing them down keeps behaviour (the fix is safe).
PROBE_DEFAULTS: dict[str, int] = {
    "initialDelaySeconds": 0,
    "periodSeconds": 10,
    "timeoutSeconds": 1,
    "successThreshold": 1,
    "failureThreshold": 3,
}


PROBES = ("startupProbe", "livenessProbe", "readinessProbe")


@rule(
    code="KV303",
    slug="probe-settings-explicit",
    title="Probe timing left to defaults",
    category="reliability",
    severity="info",
    scope="container",
    what="A probe does not set one of `initialDelaySeconds`, `periodSeconds`, "
    "`timeoutSeconds`, `successThreshold`, `failureThreshold`; one finding per missing field.",
    why="The defaults (no delay, every 10 s, 1 s timeout, 3 failures) suit few applications: "
    "a 1 s timeout restarts slow-but-healthy containers under load. Writing the values down "
    "makes the choice visible in review.",
    how_to_fix="Set each timing field on every probe; the fix writes the Kubernetes defaults, "
    "which keeps behaviour, for you to tune.",
    example_bad=_DEPLOYMENT
    + "          readinessProbe:\n            httpGet: {path: /, port: 80}\n",
    example_good=_DEPLOYMENT + _PROBES_EXPLICIT,
    fix_applicability="safe",
    unified=("check_16", "check_17", "check_18", "check_19", "check_20"),
    references=(
        "https://kubernetes.io/docs/tasks/configure-pod-container/"
        "configure-liveness-readiness-startup-probes/#configure-probes",
    ),
    enabled_by_default=False,
)
def probe_settings_explicit(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    for probe in PROBES:
        spec = c.data.get(probe)
        if not isinstance(spec, dict):
            continue
        for name, default in PROBE_DEFAULTS.items():
            if name not in spec:
                path = (*c.path, probe, name)
                yield Violation(
                    f"container {c.name!r} {probe} does not set {name} (default {default})",
                    path,
                    fix=set_fix("safe", f"write the default {name}: {default}", (path, default)),
                )


@rule(
    code="KV304",
    slug="prestop-hook",
    title="Container has no preStop hook",
    category="reliability",
    severity="info",
    scope="container",
    what="A regular container of a long-running workload defines no `lifecycle.preStop` "
    "hook (init and ephemeral containers and run-to-completion pods are skipped).",
    why="When a pod is deleted, endpoints are removed while the container already receives "
    "SIGTERM; without a short preStop pause (or graceful draining in the app) in-flight and "
    "newly routed requests fail during every rollout.",
    how_to_fix="Add `lifecycle.preStop` (for example `sleep: {seconds: 5}`, or an exec sleep) "
    "or make the application drain connections on SIGTERM, then ignore this rule.",
    example_bad=_DEPLOYMENT,
    example_good=_DEPLOYMENT + "          lifecycle:\n            preStop:\n"
    "              sleep: {seconds: 5}\n",
    unified=("check_42",),
    references=("https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/",),
    enabled_by_default=False,
)
def prestop_hook(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    if _probe_target(obj, pod, c) and not as_dict(c.data.get("lifecycle")).get("preStop"):
        yield Violation(
            f"container {c.name!r} has no preStop hook", (*c.path, "lifecycle", "preStop")
        )
