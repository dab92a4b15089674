"""The footprint's summary of one workload: requests per replica, replica range, schedule
and run pattern (`kubevet footprint` only; the rules read workloads through
footprint.workloads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from kubevet.context import InputGroup
from kubevet.footprint.offhours import Schedule
from kubevet.footprint.schedule import ScheduleError
from kubevet.footprint.workloads import (
    SCALABLE_KINDS,
    autoscalers_for,
    container_requests,
    number_or,
    off_hours_schedule,
    running_containers,
)
from kubevet.model import K8sObject
from kubevet.quantity import GIB


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
        w.replicas_low = w.replicas_high = number_or((job or {}).get("parallelism"), 1)
        return
    if obj.kind not in SCALABLE_KINDS:
        return
    w.replicas_low = w.replicas_high = number_or(spec.get("replicas"), 1)
    for scaler in autoscalers_for(group, obj):
        s = scaler.data.get("spec") or {}
        if scaler.kind == "HorizontalPodAutoscaler":
            w.replicas_low, w.replicas_high = (
                number_or(s.get("minReplicas"), 1),
                number_or(s.get("maxReplicas"), 1),
            )
        elif scaler.kind == "ScaledObject":
            w.replicas_low = max(number_or(s.get("minReplicaCount"), 0), _cron_desired(s))
            w.replicas_high = max(number_or(s.get("maxReplicaCount"), 100), w.replicas_low)
        w.autoscaler = w.autoscaler or f"{scaler.kind} {scaler.name}"


def _runs(obj: K8sObject, w: Workload, run_minutes: float) -> None:
    from kubevet.footprint.schedule import runs_per_month

    job = (
        obj.get(("spec", "jobTemplate", "spec"), {})
        if obj.kind == "CronJob"
        else obj.data.get("spec")
    )
    deadline = number_or((job or {}).get("activeDeadlineSeconds"), 0)
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


def _cron_desired(spec: dict[str, Any]) -> float:
    """The replicas KEDA cron triggers ask for inside their windows (0 without one)."""
    wanted = [
        number_or((t.get("metadata") or {}).get("desiredReplicas"), 0)
        for t in spec.get("triggers") or []
        if isinstance(t, dict) and t.get("type") == "cron"
    ]
    return max(wanted, default=0.0)
