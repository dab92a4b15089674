"""Footprint reports: text (summaries, top consumers, savings), json, csv."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

from kubevet.footprint.estimate import Figures, Footprint, Row
from kubevet.plurals import counted

CSV_FIELDS = (
    "input", "chart", "kind", "namespace", "name", "vcpu", "memory_gib",
    "replicas_low", "replicas_high", "replica_hours_low", "energy_kwh_low", "energy_kwh_high",
    "operational_g_low", "embodied_g_low", "sci_g_per_month_low", "sci_g_per_month_high",
    "autoscaler", "schedule", "measured_watts", "unsized",
)  # fmt: skip


def render(fp: Footprint, fmt: str, top: int = 10) -> str:
    if fmt == "json":
        return to_json(fp)
    if fmt == "csv":
        return to_csv(fp)
    return to_text(fp, top)


def to_json(fp: Footprint) -> str:
    data = {
        "coefficients": asdict(fp.coefficients),
        "unit": {"energy": "kWh/month", "carbon": "gCO2e/month", "sci": "gCO2e per month"},
        "total": {"low": fp.total("low").to_dict(), "high": fp.total("high").to_dict()},
        "namespaces": _sums(fp, "namespace"),
        "charts": _sums(fp, "chart"),
        "workloads": [r.to_dict() for r in fp.rows],
        "savings": [asdict(s) for s in fp.savings],
        "errors": fp.errors,
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _sums(fp: Footprint, key: str) -> dict[str, dict[str, dict[str, float]]]:
    return {k: {"low": lo.to_dict(), "high": hi.to_dict()} for k, (lo, hi) in fp.by(key).items()}


def to_csv(fp: Footprint) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in fp.rows:
        writer.writerow(_csv_row(r))
    return buf.getvalue()


def _csv_row(r: Row) -> list[object]:
    return [
        r.input, r.chart, r.kind, r.namespace, r.name, _n(r.vcpu), _n(r.memory_gib),
        _n(r.replicas_low), _n(r.replicas_high), _n(r.low.replica_hours),
        _n(r.low.energy_kwh), _n(r.high.energy_kwh), _n(r.low.operational_g),
        _n(r.low.embodied_g), _n(r.low.carbon_g), _n(r.high.carbon_g),
        r.autoscaler or "", r.schedule or "",
        "" if r.measured_watts is None else _n(r.measured_watts), " ".join(r.unsized),
    ]  # fmt: skip


def _n(x: float) -> str:
    return f"{x:.6g}"


def to_text(fp: Footprint, top: int = 10) -> str:
    c = fp.coefficients
    lines = [
        f"footprint per month: {c.provider} {c.region}, {c.grid_intensity:g} gCO2e/kWh, "
        f"PUE {c.pue:g}, CPU utilisation {c.utilisation:.0%}",
        _total_line("total", fp.total("low"), fp.total("high")),
        "",
        "by namespace:",
        *(_total_line(f"  {k}", lo, hi) for k, (lo, hi) in fp.by("namespace").items()),
        "",
        "by chart / input:",
        *(_total_line(f"  {k}", lo, hi) for k, (lo, hi) in fp.by("chart").items()),
        "",
        f"top {min(top, len(fp.rows))} consumers (SCI, kgCO2e per month):",
        *(_row_line(r) for r in fp.top(top)),
    ]
    unsized = [r for r in fp.rows if r.unsized]
    if unsized:
        has = "has" if len(unsized) == 1 else "have"
        what = f"{counted(len(unsized), 'workload')} {has} containers without requests"
        lines += ["", f"{what} (counted as 0)"]
    if fp.savings:
        lines += ["", "savings if fixed (per month):"]
        lines += [
            f"  {s.code} {s.workload}: {s.action}: -{s.energy_kwh:.3g} kWh, "
            f"-{s.carbon_g / 1000:.3g} kgCO2e"
            for s in fp.savings
        ]
    if fp.errors:
        lines += ["", "errors:", *(f"  {e}" for e in fp.errors)]
    return "\n".join(lines) + "\n"


def _total_line(label: str, low: Figures, high: Figures) -> str:
    energy = _range(low.energy_kwh, high.energy_kwh, "kWh")
    carbon = _range(low.carbon_g / 1000, high.carbon_g / 1000, "kgCO2e")
    return f"{label}: {energy}, {carbon} (embodied {low.embodied_g / 1000:.3g} kg)"


def _range(low: float, high: float, unit: str) -> str:
    if abs(high - low) < 1e-9:
        return f"{low:.3g} {unit}"
    return f"{low:.3g}-{high:.3g} {unit}"


def _row_line(r: Row) -> str:
    replicas = f"x{r.replicas_low:g}" + (
        f"-{r.replicas_high:g}" if r.replicas_high != r.replicas_low else ""
    )
    size = f"{r.vcpu:g} vCPU {r.memory_gib:.3g} GiB {replicas}"
    measured = f" measured {r.measured_watts:.3g} W" if r.measured_watts is not None else ""
    sci = _range(r.low.carbon_g / 1000, r.high.carbon_g / 1000, "kg")
    return f"  {sci:>14}  {r.ref} ({size}){measured}"
