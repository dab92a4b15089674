"""What a workload asks for and how it scales: shared by the sustainability rules and
`kubevet footprint` (whose per-workload summary is footprint.summary). Pure functions over
objects of one input group; cheap to import."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from kubevet.context import InputGroup
from kubevet.footprint.schedule import ScheduleError, cron_window_share, weekly_share
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.quantity import QuantityError, parse_quantity

if TYPE_CHECKING:
    from kubevet.footprint.offhours import Schedule

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


@dataclass
class Requests:
    """A container's cpu (cores) and memory (bytes) requests; None when unset."""

    cpu: Fraction | None  # cores
    memory: Fraction | None  # bytes


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
    from kubevet.footprint.offhours import Schedule  # only where one is found

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
        from kubevet.footprint.offhours import Schedule

        return Schedule(
            1.0 if share is None else share, number_or(spec.get("minReplicaCount"), 0), source
        )
    return None


def number_or(raw: Any, default: float) -> float:
    """`raw` as a float, or `default` where it is not a number."""
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
