"""What a workload asks for and how it scales: shared by the sustainability rules and
`kubevet footprint`. Pure functions over objects of one input group; cheap to import."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from kubevet.context import InputGroup
from kubevet.footprint.schedule import ScheduleError, cron_window_share, weekly_share
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.quantity import GIB, QuantityError, parse_quantity

SCALABLE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})
AUTOSCALER_KINDS = ("HorizontalPodAutoscaler", "VerticalPodAutoscaler", "ScaledObject")
DOWNSCALER_SCHEDULES = (  # annotation -> True when the spec names the time the workload is up
    ("downscaler/uptime", True),
    ("downscaler/upscale-period", True),
    ("downscaler/downtime", False),
    ("downscaler/downscale-period", False),
)
DOWNSCALER_REPLICAS = ("downscaler/downtime-replicas", "downscaler/downscale-replicas")
DEFAULT_NON_PRODUCTION = (
    r"(^|[-_.])(dev|develop|development|test|testing|staging|stage|stg|preview|qa|uat|sandbox)"
    r"([-_.]|\d*$)"
)
DEFAULT_ENVIRONMENT_LABELS = ("environment", "env", "stage", "kubevet.io/environment")
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


@dataclass(frozen=True)
class Schedule:
    """The part of the week a workload runs at full size, and its size the rest of the time."""

    up_share: float  # 0..1 of the week
    down_replicas: float | None  # None: the autoscaler's minimum
    source: str  # what set it, for the report


@dataclass
class Requests:
    """A container's cpu (cores) and memory (bytes) requests; None when unset."""

    cpu: Fraction | None  # cores
    memory: Fraction | None  # bytes


@dataclass
class Workload:
    """A workload's size for the footprint estimate: per-replica requests and replica range."""

    obj: K8sObject
    cpu: float = 0.0  # cores per replica (regular containers + native sidecars)
    memory_gb: float = 0.0  # GiB per replica
    unsized: list[str] = field(default_factory=list)  # containers with no cpu/memory request
    replicas_low: float = 1.0
    replicas_high: float = 1.0
    autoscaler: str | None = None
    schedule: Schedule | None = None
    runs_per_month: float | None = None  # Jobs and CronJobs only
    run_hours: float = 0.0


# --- requests ---------------------------------------------------------------------------


def container_requests(c: ContainerView) -> Requests:
    """Requests as the scheduler sees them: an absent request defaults to the limit."""
    res = c.data.get("resources") if isinstance(c.data.get("resources"), dict) else {}
    req = res.get("requests") if isinstance(res.get("requests"), dict) else {}
    lim = res.get("limits") if isinstance(res.get("limits"), dict) else {}
    return Requests(
        _quantity(req.get("cpu", lim.get("cpu"))), _quantity(req.get("memory", lim.get("memory")))
    )


def _quantity(raw: Any) -> Fraction | None:
    if raw is None:
        return None
    try:
        return parse_quantity(raw)
    except QuantityError:
        return None


def running_containers(pod: PodSpecView) -> list[ContainerView]:
    """Containers that run for the pod's life: regular ones and native sidecars."""
    return [c for c in pod.containers if c.kind == "container" or is_native_sidecar(c)]


def is_native_sidecar(c: ContainerView) -> bool:
    return c.kind == "initContainer" and c.data.get("restartPolicy") == "Always"


def main_and_sidecars(pod: PodSpecView) -> tuple[ContainerView | None, list[ContainerView]]:
    """The main container (the default-container annotation, else the first) and the rest."""
    regular = [c for c in pod.containers if c.kind == "container"]
    if not regular:
        return None, []
    wanted = pod.annotations.get(DEFAULT_CONTAINER_ANNOTATION)
    main = next((c for c in regular if c.name == wanted), regular[0])
    others = [c for c in running_containers(pod) if c is not main]
    return main, others


# --- autoscalers and schedules ------------------------------------------------------------


def scale_target(obj: K8sObject) -> tuple[str, str] | None:
    """(kind, name) an HPA, VPA or KEDA ScaledObject points at."""
    spec = obj.data.get("spec") if isinstance(obj.data.get("spec"), dict) else {}
    ref = spec.get("targetRef" if obj.kind == "VerticalPodAutoscaler" else "scaleTargetRef")
    if not isinstance(ref, dict) or not ref.get("name"):
        return None
    default_kind = "Deployment" if obj.kind == "ScaledObject" else ""
    return str(ref.get("kind") or default_kind), str(ref["name"])


def autoscalers_for(group: InputGroup, obj: K8sObject) -> list[K8sObject]:
    """HPAs, VPAs and ScaledObjects in the group whose target is `obj` (same namespace)."""
    found = []
    for kind in AUTOSCALER_KINDS:
        for scaler in group.by_kind(kind):
            if (scaler.namespace or None) != (obj.namespace or None):
                continue
            if scale_target(scaler) == (obj.kind, obj.name):
                found.append(scaler)
    return found


def namespace_object(group: InputGroup, name: str | None) -> K8sObject | None:
    if not name:
        return None
    return next((ns for ns in group.by_kind("Namespace") if ns.name == name), None)


def off_hours_schedule(group: InputGroup, obj: K8sObject) -> Schedule | None:
    """The off-hours scale-down that applies to `obj`: KEDA cron or kube-downscaler."""
    for scaler in autoscalers_for(group, obj):
        if scaler.kind == "ScaledObject":
            found = _keda_cron(scaler)
            if found:
                return found
    found = _downscaler(obj.annotations, f"{obj.kind} annotations")
    if found:
        return found
    ns = namespace_object(group, obj.namespace)
    return _downscaler(ns.annotations, f"Namespace {ns.name} annotations") if ns else None


def _downscaler(annotations: dict[str, Any], where: str) -> Schedule | None:
    if str(annotations.get("downscaler/exclude", "")).lower() == "true":
        return Schedule(1.0, None, f"downscaler/exclude ({where})")
    for key, is_uptime in DOWNSCALER_SCHEDULES:
        if key in annotations:
            share = weekly_share(str(annotations[key]))
            if share is None:  # absolute dates: a one-off, not a weekly saving
                return Schedule(1.0, 0.0, f"{key} ({where}, not weekly)")
            up = share if is_uptime else 1.0 - share
            return Schedule(up, _downtime_replicas(annotations), f"{key} ({where})")
    return None


def _downtime_replicas(annotations: dict[str, Any]) -> float:
    for key in DOWNSCALER_REPLICAS:
        if key in annotations:
            try:
                return float(annotations[key])
            except (TypeError, ValueError):
                return 0.0
    return 0.0


def _keda_cron(scaler: K8sObject) -> Schedule | None:
    spec = scaler.data.get("spec") or {}
    for trigger in spec.get("triggers") or []:
        if not isinstance(trigger, dict) or trigger.get("type") != "cron":
            continue
        meta = trigger.get("metadata") or {}
        try:
            share = cron_window_share(str(meta.get("start", "")), str(meta.get("end", "")))
        except ScheduleError:
            share = None
        source = f"ScaledObject {scaler.name} cron trigger"
        return Schedule(
            1.0 if share is None else share, _number(spec.get("minReplicaCount"), 0), source
        )
    return None


def _cron_desired(spec: dict[str, Any]) -> float:
    """The replicas KEDA cron triggers ask for inside their windows (0 without one)."""
    wanted = [
        _number((t.get("metadata") or {}).get("desiredReplicas"), 0)
        for t in spec.get("triggers") or []
        if isinstance(t, dict) and t.get("type") == "cron"
    ]
    return max(wanted, default=0.0)


def _number(raw: Any, default: float) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return float(default)


# --- non-production namespaces -----------------------------------------------------------


def is_non_production(group: InputGroup, namespace: str | None, settings: dict[str, Any]) -> bool:
    """By the namespace name, or an environment label on its Namespace object."""
    pattern = re.compile(str(settings.get("non_production_namespaces") or DEFAULT_NON_PRODUCTION))
    if namespace and pattern.search(namespace):
        return True
    ns = namespace_object(group, namespace)
    if ns is None:
        return False
    keys = settings.get("non_production_labels") or DEFAULT_ENVIRONMENT_LABELS
    return any(pattern.search(str(ns.labels[k])) for k in keys if k in ns.labels)


# --- the workload summary ------------------------------------------------------------------


def describe(
    group: InputGroup, obj: K8sObject, daemonset_nodes: int, run_minutes: float
) -> Workload:
    """Requests per replica, replica range, schedule and run pattern of one workload."""
    assert obj.pod is not None
    w = Workload(obj)
    cpu, mem = Fraction(0), Fraction(0)
    for c in running_containers(obj.pod):
        req = container_requests(c)
        cpu += req.cpu or 0
        mem += req.memory or 0
        if req.cpu is None or req.memory is None:
            w.unsized.append(c.name)
    w.cpu, w.memory_gb = float(cpu), float(mem / GIB)
    _replicas(group, obj, w, daemonset_nodes)
    if obj.kind in ("Job", "CronJob"):
        _runs(obj, w, run_minutes)
    elif obj.kind in SCALABLE_KINDS:
        w.schedule = off_hours_schedule(group, obj)
    return w


def _replicas(group: InputGroup, obj: K8sObject, w: Workload, daemonset_nodes: int) -> None:
    spec = obj.data.get("spec") if isinstance(obj.data.get("spec"), dict) else {}
    if obj.kind == "DaemonSet":
        w.replicas_low = w.replicas_high = float(daemonset_nodes)
        return
    if obj.kind in ("Job", "CronJob"):
        job = obj.get(("spec", "jobTemplate", "spec"), {}) if obj.kind == "CronJob" else spec
        w.replicas_low = w.replicas_high = _number((job or {}).get("parallelism"), 1)
        return
    if obj.kind not in SCALABLE_KINDS:
        return
    w.replicas_low = w.replicas_high = _number(spec.get("replicas"), 1)
    for scaler in autoscalers_for(group, obj):
        s = scaler.data.get("spec") or {}
        if scaler.kind == "HorizontalPodAutoscaler":
            w.replicas_low, w.replicas_high = (
                _number(s.get("minReplicas"), 1),
                _number(s.get("maxReplicas"), 1),
            )
        elif scaler.kind == "ScaledObject":
            w.replicas_low = max(_number(s.get("minReplicaCount"), 0), _cron_desired(s))
            w.replicas_high = max(_number(s.get("maxReplicaCount"), 100), w.replicas_low)
        w.autoscaler = w.autoscaler or f"{scaler.kind} {scaler.name}"


def _runs(obj: K8sObject, w: Workload, run_minutes: float) -> None:
    from kubevet.footprint.schedule import runs_per_month

    job = (
        obj.get(("spec", "jobTemplate", "spec"), {})
        if obj.kind == "CronJob"
        else obj.data.get("spec")
    )
    deadline = _number((job or {}).get("activeDeadlineSeconds"), 0)
    w.run_hours = deadline / 3600 if deadline > 0 else run_minutes / 60
    if obj.kind == "Job":
        w.runs_per_month = 1.0
    elif obj.get(("spec", "suspend")) is True:
        w.runs_per_month = 0.0
    else:
        try:
            w.runs_per_month = runs_per_month(str(obj.get(("spec", "schedule"), "")))
        except (ScheduleError, ValueError):
            w.runs_per_month = 0.0
