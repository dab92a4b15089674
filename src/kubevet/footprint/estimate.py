"""Workloads x coefficients -> one row per workload, summaries and fix savings.

Each row has a `low` and a `high` figure: the replica range an autoscaler allows (HPA
minReplicas..maxReplicas); both equal where the replica count is fixed. The SCI functional
unit R is one month of the workload, so SCI per month = (E x I + M) for that month.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from kubevet.context import InputGroup
from kubevet.footprint import model
from kubevet.footprint.coefficients import Coefficients
from kubevet.footprint.offhours import Schedule
from kubevet.footprint.schedule import weekly_share
from kubevet.footprint.summary import Workload, describe
from kubevet.footprint.workloads import (
    SCALABLE_KINDS,
    container_requests,
    is_non_production,
    main_and_sidecars,
)
from kubevet.quantity import GIB


@dataclass
class Figures:
    """One month of a workload (or a sum of workloads)."""

    replica_hours: float = 0.0
    energy_kwh: float = 0.0
    operational_g: float = 0.0
    embodied_g: float = 0.0

    @property
    def carbon_g(self) -> float:
        return self.operational_g + self.embodied_g

    def add(self, other: Figures) -> None:
        self.replica_hours += other.replica_hours
        self.energy_kwh += other.energy_kwh
        self.operational_g += other.operational_g
        self.embodied_g += other.embodied_g

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "carbon_g": self.carbon_g, "sci_g_per_month": self.carbon_g}


@dataclass
class Row:
    input: str
    chart: str
    kind: str
    namespace: str
    name: str
    vcpu: float  # per replica
    memory_gib: float  # per replica
    replicas_low: float
    replicas_high: float
    low: Figures
    high: Figures
    autoscaler: str | None = None
    schedule: str | None = None
    unsized: list[str] = field(default_factory=list)
    measured_watts: float | None = None  # from Kepler, when it matched

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["low"], data["high"] = self.low.to_dict(), self.high.to_dict()
        return data


@dataclass
class Saving:
    code: str  # the sustainability rule whose fix brings it
    workload: str
    action: str
    energy_kwh: float
    carbon_g: float


@dataclass
class Footprint:
    coefficients: Coefficients
    rows: list[Row] = field(default_factory=list)
    savings: list[Saving] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. kinds a cluster would not list

    def total(self, which: str = "low") -> Figures:
        out = Figures()
        for r in self.rows:
            out.add(getattr(r, which))
        return out

    def by(self, key: str) -> dict[str, tuple[Figures, Figures]]:
        """Sums of low and high figures per namespace or chart, sorted by name."""
        sums: dict[str, tuple[Figures, Figures]] = defaultdict(lambda: (Figures(), Figures()))
        for r in self.rows:
            low, high = sums[getattr(r, key)]
            low.add(r.low)
            high.add(r.high)
        return dict(sorted(sums.items()))

    def top(self, n: int = 10) -> list[Row]:
        return sorted(self.rows, key=lambda r: (-r.low.carbon_g, r.ref))[:n]


def estimate_group(
    group: InputGroup,
    coef: Coefficients,
    settings: dict[str, Any] | None = None,
    kepler_watts: dict[tuple[str, str, str], float] | None = None,
) -> tuple[list[Row], list[Saving]]:
    """Rows and savings for every workload of one input group."""
    rows: list[Row] = []
    savings: list[Saving] = []
    chart = _chart_label(group)
    for obj in group.objects:
        if obj.pod is None or obj.kind == "PodTemplate" or _helm_test(obj.annotations):
            continue
        w = describe(group, obj, coef.daemonset_nodes, coef.job_run_minutes)
        row = _row(group.label, chart, w, coef)
        if kepler_watts is not None:
            _apply_kepler(row, w, coef, kepler_watts)
        rows.append(row)
        savings.extend(_savings(group, w, row, coef, settings or {}))
    return rows, savings


def _helm_test(annotations: dict[str, Any]) -> bool:
    """`helm test` pods run only when someone runs the tests: not part of the footprint."""
    hooks = str(annotations.get("helm.sh/hook", ""))
    return any(h.strip().startswith("test") for h in hooks.split(","))


def _chart_label(group: InputGroup) -> str:
    if group.chart:
        return f"{group.chart.name}-{group.chart.version}"
    return group.label


def replica_hours(w: Workload, replicas: float, coef: Coefficients) -> float:
    """Replica-hours per month after off-hours schedules (or runs, for Jobs)."""
    if w.runs_per_month is not None:
        return w.runs_per_month * w.run_hours * replicas
    hours = coef.hours_per_month
    if w.schedule is None:
        return hours * replicas
    down = w.schedule.down_replicas
    down = min(replicas, w.replicas_low if down is None else down)
    share = w.schedule.up_share
    return hours * (share * replicas + (1 - share) * down)


def figures(w: Workload, replicas: float, coef: Coefficients) -> Figures:
    hours = replica_hours(w, replicas, coef)
    watts = model.power_watts(
        w.cpu, w.memory_gb, coef.min_watts, coef.max_watts, coef.utilisation,
        coef.memory_watts_per_gb,
    )  # fmt: skip
    energy = model.energy_kwh(watts, hours, coef.pue)
    share = w.cpu / coef.host_vcpus
    return Figures(
        replica_hours=hours,
        energy_kwh=energy,
        operational_g=model.operational_g(energy, coef.grid_intensity),
        embodied_g=model.embodied_g(coef.host_embodied_kg, hours, coef.lifespan_hours, share),
    )


def _row(label: str, chart: str, w: Workload, coef: Coefficients) -> Row:
    obj = w.obj
    return Row(
        input=label,
        chart=chart,
        kind=obj.kind,
        namespace=obj.namespace or "default",
        name=obj.name,
        vcpu=w.cpu,
        memory_gib=w.memory_gb,
        replicas_low=w.replicas_low,
        replicas_high=w.replicas_high,
        low=figures(w, w.replicas_low, coef),
        high=figures(w, w.replicas_high, coef),
        autoscaler=w.autoscaler,
        schedule=w.schedule.source if w.schedule else None,
        unsized=list(w.unsized),
    )


def _apply_kepler(
    row: Row, w: Workload, coef: Coefficients, watts: dict[tuple[str, str, str], float]
) -> None:
    """Measured average power replaces the estimate's energy (PUE still applies)."""
    from kubevet.footprint.kepler import workload_watts

    names = {c.name for c in w.obj.pod.containers} if w.obj.pod else set()
    measured = workload_watts(w.obj, names, watts)
    if measured is None:
        return
    row.measured_watts = measured
    energy = model.energy_kwh(measured, coef.hours_per_month, coef.pue)
    for fig in (row.low, row.high):
        fig.energy_kwh = energy
        fig.operational_g = model.operational_g(energy, coef.grid_intensity)


# --- savings -------------------------------------------------------------------------------


def _savings(
    group: InputGroup, w: Workload, row: Row, coef: Coefficients, settings: dict[str, Any]
) -> list[Saving]:
    out: list[Saving] = []
    kind = w.obj.kind
    scalable = kind in SCALABLE_KINDS and w.replicas_low > 0
    if scalable and w.schedule is None and is_non_production(group, w.obj.namespace, settings):
        share = weekly_share(coef.office_hours) or 1.0
        fixed = replace(w, schedule=Schedule(share, 0.0, "office hours"))
        action = f"scale to zero outside {coef.office_hours}"
        out.append(_saving("KV905", row, action, figures(fixed, w.replicas_low, coef)))
    if scalable and w.autoscaler is None and w.replicas_low > 1:
        target = max(1.0, w.replicas_low * coef.autoscaled_fraction)
        action = f"autoscale (average {target:g} of {w.replicas_low:g} replicas assumed)"
        out.append(_saving("KV904", row, action, figures(w, target, coef)))
    trimmed = _trim_sidecars(w)
    if trimmed is not None:
        action = "size sidecars no larger than the main container"
        out.append(_saving("KV907", row, action, figures(trimmed, w.replicas_low, coef)))
    return [s for s in out if s.carbon_g > 0]


def _saving(code: str, row: Row, action: str, after: Figures) -> Saving:
    return Saving(
        code,
        row.ref,
        action,
        row.low.energy_kwh - after.energy_kwh,
        row.low.carbon_g - after.carbon_g,
    )


def _trim_sidecars(w: Workload) -> Workload | None:
    """The workload with each sidecar's requests capped at the main container's."""
    main, sidecars = main_and_sidecars(w.obj.pod) if w.obj.pod else (None, [])
    if main is None or not sidecars:
        return None
    m = container_requests(main)
    cpu_cut = mem_cut = 0.0
    for c in sidecars:
        r = container_requests(c)
        if m.cpu is not None and r.cpu is not None and r.cpu > m.cpu:
            cpu_cut += float(r.cpu - m.cpu)
        if m.memory is not None and r.memory is not None and r.memory > m.memory:
            mem_cut += float((r.memory - m.memory) / GIB)
    if not cpu_cut and not mem_cut:
        return None
    return replace(w, cpu=w.cpu - cpu_cut, memory_gb=w.memory_gb - mem_cut)


def footprint_for(
    paths: list[str],
    helm_options: Any,
    coef: Coefficients,
    settings: dict[str, Any] | None = None,
    kepler_watts: dict[tuple[str, str, str], float] | None = None,
    exclude: list[str] | None = None,
    gitignore: bool = True,
    cluster: Any = None,
    snapshot: bool = False,
) -> Footprint:
    """Load every input (charts rendered in process; the cluster when `cluster` is
    ClusterOptions; `snapshot`: manifests are cluster dumps) and estimate each workload."""
    from kubevet.sources import discover, load_input, with_cluster

    result = Footprint(coef)
    for item in with_cluster(discover(paths, exclude or (), gitignore), cluster):
        group = load_input(item, helm_options, cluster, snapshot)
        result.errors.extend(str(e) for e in group.errors)
        result.warnings.extend(group.warnings)
        rows, savings = estimate_group(group, coef, settings, kepler_watts)
        result.rows.extend(rows)
        result.savings.extend(savings)
    result.rows.sort(key=lambda r: (r.input, r.namespace, r.kind, r.name))
    result.savings.sort(key=lambda s: (-s.carbon_g, s.workload, s.code))
    return result
