"""Probes, replicas, disruption budgets and controller settings (KV3xx)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Edit, Fix, Violation
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.rules._helpers import as_dict, as_list, edit_fix, set_fix
from kubevet.rules.examples import EXAMPLE_DEPLOYMENT as _DEPLOYMENT
from kubevet.rules.examples import example_cronjob, example_hpa
from kubevet.rules.options import Option
from kubevet.rules.registry import rule
from kubevet.selectors import matches_map, matches_or_none

LONG_RUNNING_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}
)
RUN_TO_COMPLETION_KINDS = frozenset({"Job", "CronJob"})
HELM_HOOK = "helm.sh/hook"


def is_helm_hook(obj: K8sObject) -> bool:
    """Helm hooks (tests, install/upgrade jobs) run to completion outside the release's pods."""
    return HELM_HOOK in obj.annotations


def is_long_running(obj: K8sObject, pod: PodSpecView) -> bool:
    """Pods meant to keep running: controllers, and bare Pods that restart and are no hook.

    Jobs, CronJobs, Pods owned by a Job and Pods with restartPolicy Never/OnFailure run to
    completion; probes, preStop hooks and disruption budgets make no sense for them.
    """
    if obj.kind in LONG_RUNNING_KINDS:
        return True
    if obj.kind != "Pod" or is_helm_hook(obj):
        return False
    if pod.spec.get("restartPolicy", "Always") != "Always":
        return False
    owners = as_list(obj.metadata.get("ownerReferences"))
    return not any(as_dict(o).get("kind") == "Job" for o in owners)


def _replicas(obj: K8sObject) -> Any:
    return obj.get(("spec", "replicas"), 1)


def hpa_for(group: InputGroup, obj: K8sObject) -> K8sObject | None:
    """The HorizontalPodAutoscaler in the input that scales `obj`, if any."""
    for hpa in group.by_kind("HorizontalPodAutoscaler"):
        ref = as_dict(hpa.get(("spec", "scaleTargetRef")))
        if (
            ref.get("kind") == obj.kind
            and ref.get("name") == obj.name
            and hpa.namespace == obj.namespace
        ):
            return hpa
    return None


def min_replicas(group: InputGroup, obj: K8sObject) -> int | None:
    """The smallest replica count the workload runs with (HPA minReplicas wins), or None."""
    hpa = hpa_for(group, obj)
    value = hpa.get(("spec", "minReplicas"), 1) if hpa else _replicas(obj)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_PROBES = """\
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
"""
_PROBES_EXPLICIT = """\
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
            initialDelaySeconds: 5
            periodSeconds: 10
            timeoutSeconds: 2
            successThreshold: 1
            failureThreshold: 3
"""
_PDB = """\
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: shop
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: web}
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


@rule(
    code="KV305",
    slug="single-replica",
    title="Deployment runs a single replica",
    category="reliability",
    severity="low",
    scope="object",
    kinds=("Deployment",),
    what="A Deployment runs one replica (`spec.replicas` is 1 or unset), or the "
    "HorizontalPodAutoscaler in the input that scales it has `minReplicas` 1. Deployments "
    "scaled to 0 on purpose are not reported.",
    why="With one replica every rollout, node drain or crash is an outage of the service.",
    how_to_fix="Run at least two replicas (or set the autoscaler's `minReplicas` to 2), spread "
    "over nodes with topologySpreadConstraints or pod anti-affinity.",
    example_bad=_DEPLOYMENT.replace("replicas: 2", "replicas: 1"),
    example_good=_DEPLOYMENT,
    fix_applicability="unsafe",
    unified=("check_45",),
    options={"replicas": Option("integer", 2, "the replica count the fix sets")},
)
def single_replica(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    if is_helm_hook(obj):
        return
    hpa = hpa_for(ctx.group, obj)
    count = min_replicas(ctx.group, obj)
    if count != 1:
        return
    if hpa is not None:
        yield Violation(
            f"autoscaler {hpa.name!r} lets the deployment scale down to one replica",
            ("spec", "replicas"),
        )
        return
    wanted = ctx.setting("replicas", 2)
    yield Violation(
        "deployment runs a single replica",
        ("spec", "replicas"),
        fix=set_fix("unsafe", f"run {wanted} replicas", (("spec", "replicas"), wanted)),
    )


VALID_RESTART = frozenset({"Always", "OnFailure", "Never"})


def _restart_problem(kind: str, policy: Any) -> tuple[str, str] | None:
    """(message, fixed value) when the pod's restartPolicy is wrong for its controller."""
    if kind in RUN_TO_COMPLETION_KINDS:
        if policy in ("OnFailure", "Never"):
            return None
        shown = "unset (Always)" if policy is None else repr(policy)
        return f"restartPolicy is {shown}; a {kind} needs OnFailure or Never", "OnFailure"
    if kind in LONG_RUNNING_KINDS:
        if policy in (None, "Always"):
            return None
        return f"restartPolicy is {policy!r}; a {kind} accepts only Always", "Always"
    if policy is None or policy in VALID_RESTART:
        return None
    return f"restartPolicy {policy!r} is not Always, OnFailure or Never", "Always"


@rule(
    code="KV306",
    slug="restart-policy",
    title="Pod restartPolicy invalid for its controller",
    category="reliability",
    severity="medium",
    scope="pod",
    what="The pod template's `restartPolicy` is not what its controller accepts: Always for "
    "Deployments, StatefulSets, DaemonSets and ReplicaSets; OnFailure or Never (it must be "
    "set) for Jobs and CronJobs; one of the three for bare Pods.",
    why="The API server rejects such a workload, so the release fails at apply time rather "
    "than in review.",
    how_to_fix="Remove `restartPolicy` (or set Always) on long-running controllers; set "
    "`restartPolicy: OnFailure` or `Never` on Jobs and CronJobs.",
    example_bad=_DEPLOYMENT + "      restartPolicy: Never\n",
    example_good=_DEPLOYMENT + "      restartPolicy: Always\n",
    fix_applicability="unsafe",
    unified=("check_44",),
    references=(
        "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy",
    ),
)
def restart_policy(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    problem = _restart_problem(obj.kind, pod.spec.get("restartPolicy"))
    if problem is None:
        return
    message, value = problem
    path = (*pod.path, "restartPolicy")
    yield Violation(
        message, path, fix=set_fix("unsafe", f"set restartPolicy: {value}", (path, value))
    )


def pdb_selects(pdb: K8sObject, obj: K8sObject, labels: dict[str, Any]) -> bool:
    """Whether a PodDisruptionBudget covers the pods of `obj` (same namespace, selector)."""
    if pdb.namespace != obj.namespace:
        return False
    selector = pdb.get(("spec", "selector"))
    if selector is None:
        return False  # a null selector selects no pods
    if not selector and not pdb.api_version.endswith("/v1"):
        return False  # policy/v1beta1: an empty selector selected nothing
    return matches_or_none(selector, labels) is True


@rule(
    code="KV307",
    slug="missing-pod-disruption-budget",
    title="Replicated workload has no PodDisruptionBudget",
    category="reliability",
    severity="low",
    scope="group",
    what="A StatefulSet or Deployment running more than one replica (its `spec.replicas`, or "
    "its autoscaler's `minReplicas`) has no PodDisruptionBudget in the input selecting its "
    "pods (same namespace, selector matching the pod template labels). Single-replica "
    "workloads are left alone: a budget for them can only block node drains.",
    why="Voluntary disruptions (node drains, cluster upgrades, autoscaler scale-downs) may "
    "evict every replica at once; a quorum-based StatefulSet then loses quorum.",
    how_to_fix="Add a `policy/v1` PodDisruptionBudget whose selector matches the pod labels, "
    "with `maxUnavailable: 1` (or a `minAvailable` that keeps quorum).",
    example_bad=_DEPLOYMENT,
    example_good=_DEPLOYMENT + _PDB,
    unified=("check_60",),
    references=("https://kubernetes.io/docs/tasks/run-application/configure-pdb/",),
)
def missing_pod_disruption_budget(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    pdbs = group.by_kind("PodDisruptionBudget")
    for kind in ("StatefulSet", "Deployment"):
        for obj in group.by_kind(kind):
            count = min_replicas(group, obj)
            if obj.pod is None or count is None or count < 2:
                continue
            labels = as_dict(obj.pod.metadata.get("labels"))
            if not any(pdb_selects(pdb, obj, labels) for pdb in pdbs):
                yield Violation(
                    f"{kind} {obj.name!r} ({count} replicas) has no PodDisruptionBudget",
                    ("spec", "selector"),
                    obj=obj,
                )


def _is_zero(value: Any) -> bool:
    return value == 0 or (isinstance(value, str) and value.strip() in ("0", "0%"))


@rule(
    code="KV308",
    slug="pdb-max-unavailable-zero",
    title="PodDisruptionBudget allows no disruption",
    category="reliability",
    severity="medium",
    scope="object",
    kinds=("PodDisruptionBudget",),
    what="A PodDisruptionBudget sets `maxUnavailable` to 0 (or 0%).",
    why="No pod it selects can ever be evicted voluntarily: node drains hang, cluster "
    "upgrades and the cluster autoscaler stall until someone deletes the budget by hand.",
    how_to_fix="Set `maxUnavailable: 1` (or a percentage above 0), or a `minAvailable` below "
    "the replica count.",
    example_bad=_PDB.replace("maxUnavailable: 1", "maxUnavailable: 0").lstrip("-\n"),
    example_good=_PDB.lstrip("-\n"),
    fix_applicability="unsafe",
    unified=("check_67",),
    references=("https://kubernetes.io/docs/tasks/run-application/configure-pdb/",),
)
def pdb_max_unavailable_zero(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    path = ("spec", "maxUnavailable")
    if _is_zero(obj.get(path)):
        yield Violation(
            "maxUnavailable is 0: no pod can be evicted voluntarily",
            path,
            fix=set_fix("unsafe", "allow one unavailable pod", (path, 1)),
        )


_STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
  serviceName: db-headless
  replicas: 1
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: db
          image: postgres:16.4
"""
_HEADLESS = """\
---
apiVersion: v1
kind: Service
metadata:
  name: db-headless
  namespace: shop
spec:
  clusterIP: None
  selector: {app: db}
  ports:
    - port: 5432
"""


def _service_problem(svc: K8sObject | None, name: str, labels: dict[str, Any]) -> str | None:
    if svc is None:
        return f"serviceName {name!r} names no Service in the input"
    if svc.get(("spec", "clusterIP")) != "None":
        return f"Service {name!r} is not headless (clusterIP: None)"
    if not matches_map(as_dict(svc.get(("spec", "selector"))), labels):
        return f"headless Service {name!r} does not select the StatefulSet's pods"
    return None


@rule(
    code="KV309",
    slug="statefulset-service-name",
    title="StatefulSet serviceName is not a headless Service of the input",
    category="reliability",
    severity="low",
    scope="group",
    what="A StatefulSet's `spec.serviceName` is unset, names no Service in the input (same "
    "namespace), names a Service that is not headless, or one whose selector does not match "
    "the StatefulSet's pod labels.",
    why="The governing headless Service gives each replica its stable DNS name "
    "(`db-0.db-headless`); peers and clients of clustered databases rely on it, and without "
    "it they cannot find each other.",
    how_to_fix="Add a Service with `clusterIP: None` selecting the pods, and set "
    "`spec.serviceName` to its name.",
    example_bad=_STATEFULSET,
    example_good=_STATEFULSET + _HEADLESS,
    unified=("check_53",),
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#stable-network-id",
    ),
)
def statefulset_service_name(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for sts in group.by_kind("StatefulSet"):
        name = sts.get(("spec", "serviceName"))
        if not name:
            yield Violation("StatefulSet sets no serviceName", ("spec", "serviceName"), obj=sts)
            continue
        labels = as_dict(sts.pod.metadata.get("labels")) if sts.pod else {}
        problem = _service_problem(group.find("Service", str(name), sts.namespace), name, labels)
        if problem:
            yield Violation(problem, ("spec", "serviceName"), obj=sts)


@rule(
    code="KV310",
    slug="statefulset-volume-claim-storage",
    title="StatefulSet claims persistent storage (review)",
    category="reliability",
    severity="info",
    scope="object",
    kinds=("StatefulSet",),
    what="A StatefulSet's `volumeClaimTemplates` request storage; one finding per template, "
    "for review.",
    why="Each replica gets its own PersistentVolumeClaim, which outlives the StatefulSet and "
    "cannot be resized through the template later: size, storage class and retention "
    "(`persistentVolumeClaimRetentionPolicy`) deserve a deliberate decision.",
    how_to_fix="Review the requested size and storage class; suppress the finding with a "
    "reason once reviewed.",
    example_bad=_STATEFULSET
    + """\
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 10Gi
""",
    example_good=_STATEFULSET,
    unified=("check_52",),
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/"
        "#volume-claim-templates",
    ),
    enabled_by_default=False,
)
def statefulset_volume_claim_storage(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    for index, tpl in enumerate(as_list(obj.get(("spec", "volumeClaimTemplates")))):
        size = as_dict(as_dict(as_dict(tpl).get("spec")).get("resources")).get("requests")
        storage = as_dict(size).get("storage")
        if storage is not None:
            name = as_dict(as_dict(tpl).get("metadata")).get("name", f"#{index}")
            path = ("spec", "volumeClaimTemplates", index, "spec", "resources", "requests")
            yield Violation(
                f"claim template {name!r} requests {storage} per replica", (*path, "storage")
            )


_CRONJOB = example_cronjob("report", "busybox:1.36", "shop")


@rule(
    code="KV311",
    slug="cronjob-starting-deadline",
    title="CronJob has no startingDeadlineSeconds",
    category="reliability",
    severity="low",
    scope="object",
    kinds=("CronJob",),
    what="A CronJob does not set `spec.startingDeadlineSeconds`.",
    why="Without a deadline the controller counts every missed schedule since the last run; "
    "after more than 100 misses (controller downtime, a long suspension) it stops starting "
    "the job and only logs an error. A deadline also keeps a late run from starting hours "
    "after its slot.",
    how_to_fix="Set `startingDeadlineSeconds` to how late a run may still start (at least 10 "
    "seconds; the controller checks every 10 seconds).",
    example_bad=_CRONJOB,
    example_good=_CRONJOB.replace(
        '  schedule: "0 3 * * *"\n', '  schedule: "0 3 * * *"\n  startingDeadlineSeconds: 300\n'
    ),
    fix_applicability="unsafe",
    unified=("check_63",),
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#job-creation",
    ),
    options={
        "starting_deadline_seconds": Option(
            "integer", 300, "the startingDeadlineSeconds the fix sets"
        )
    },
)
def cronjob_starting_deadline(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    path = ("spec", "startingDeadlineSeconds")
    if obj.get(path) is None:
        value = ctx.setting("starting_deadline_seconds", 300)
        yield Violation(
            "CronJob sets no startingDeadlineSeconds",
            path,
            fix=set_fix("unsafe", f"set startingDeadlineSeconds: {value}", (path, value)),
        )


@rule(
    code="KV312",
    slug="naked-pod",
    title="Pod not managed by a controller",
    category="reliability",
    severity="low",
    scope="object",
    kinds=("Pod",),
    what="A Pod has no `ownerReferences`: no Deployment, StatefulSet, Job... recreates it. "
    "Helm hook Pods (chart tests) are skipped: Helm runs them to completion on purpose.",
    why="A bare Pod is not rescheduled when its node fails or is drained, and cannot be "
    "rolled out or scaled.",
    how_to_fix="Wrap the pod spec in a Deployment (long-running) or a Job (run to completion).",
    example_bad="""\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: web
      image: nginx:1.27
""",
    example_good=_DEPLOYMENT,
    unified=("check_64",),
    references=(
        "https://kubernetes.io/docs/concepts/configuration/overview/#naked-pods-vs-replicasets-deployments-and-jobs",
    ),
)
def naked_pod(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    if not obj.metadata.get("ownerReferences") and not is_helm_hook(obj):
        yield Violation("Pod is not managed by a controller", ("metadata",))


@rule(
    code="KV313",
    slug="duplicate-env-var",
    title="Environment variable defined twice",
    category="reliability",
    severity="medium",
    scope="container",
    what="A container's `env` lists the same name more than once.",
    why="Only the last entry takes effect, so the earlier one misleads every reader (and a "
    "values override that sets it changes nothing); server-side apply also rejects the "
    "duplicate key.",
    how_to_fix="Delete the earlier entries and keep the one that should apply.",
    example_bad=_DEPLOYMENT
    + "          env:\n            - {name: MODE, value: dev}\n"
    + "            - {name: MODE, value: prod}\n",
    example_good=_DEPLOYMENT + "          env:\n            - {name: MODE, value: prod}\n",
    fix_applicability="safe",
)
def duplicate_env_var(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    env = [as_dict(e) for e in as_list(c.data.get("env"))]
    last: dict[str, int] = {}
    for i, entry in enumerate(env):
        if isinstance(entry.get("name"), str):
            last[entry["name"]] = i
    for i, entry in enumerate(env):
        name = entry.get("name")
        if not isinstance(name, str) or last[name] == i:
            continue
        # An entry in between that expands $(NAME) sees this earlier value: removing it
        # changes that entry's value.
        used = any(f"$({name})" in str(e.get("value") or "") for e in env[i + 1 : last[name]])
        path = (*c.path, "env", i)
        yield Violation(
            f"container {c.name!r} defines {name} again at env[{last[name]}]; this entry "
            "has no effect",
            path,
            fix=edit_fix(
                "unsafe" if used else "safe", f"remove the earlier {name}", Edit("remove", path)
            ),
        )


_HPA = example_hpa("web", "shop", max_replicas=10)


@rule(
    code="KV314",
    slug="replicas-with-autoscaler",
    title="Replica count set on an autoscaled workload",
    category="reliability",
    severity="low",
    scope="object",
    kinds=("Deployment", "StatefulSet"),
    what="A Deployment or StatefulSet that a HorizontalPodAutoscaler of the input scales also "
    "sets `spec.replicas`.",
    why="Every apply resets the replica count to the manifest's value, undoing the "
    "autoscaler's decision until it reacts again: a rollout during a load peak scales the "
    "workload down.",
    how_to_fix="Remove `spec.replicas` and let the autoscaler's `minReplicas` govern. Removing "
    "it from an applied object scales to 1 once (kubectl apply drops the field): set the "
    "current count through the autoscaler first, or remove it with server-side apply.",
    example_bad=_DEPLOYMENT + _HPA,
    example_good=_DEPLOYMENT.replace("  replicas: 2\n", "") + _HPA,
    fix_applicability="unsafe",
)
def replicas_with_autoscaler(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    hpa = hpa_for(ctx.group, obj)
    if hpa is None or obj.get(("spec", "replicas")) is None:
        return
    path = ("spec", "replicas")
    yield Violation(
        f"autoscaler {hpa.name!r} scales this {obj.kind}, yet it sets replicas",
        path,
        fix=edit_fix("unsafe", "leave the replica count to the autoscaler", Edit("remove", path)),
    )
