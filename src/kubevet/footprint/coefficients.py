"""The coefficient table (data/carbon-coefficients.yaml), with config overrides applied."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from kubevet.data import read_text
from kubevet.sources.yamldocs import load_one

PROVIDERS = ("aws", "gcp", "azure")
DATA_FILE = "carbon-coefficients.yaml"


class CoefficientError(ValueError):
    """A coefficient file or override that cannot be used."""


def load_table() -> dict[str, Any]:
    """The data file as shipped: every number still wrapped as {value, unit, source}."""
    text = read_text(DATA_FILE)
    data = load_one(text)
    if not isinstance(data, dict):  # pragma: no cover - shipped file
        raise CoefficientError(f"{DATA_FILE} is not a mapping")
    return data


def value(entry: Any) -> Any:
    """The number of a table entry ({value: ...}) or a plain override value."""
    return entry.get("value") if isinstance(entry, dict) and "value" in entry else entry


@dataclass(frozen=True)
class Coefficients:
    """The numbers one estimate uses, resolved for one provider and region."""

    provider: str
    region: str
    min_watts: float
    max_watts: float
    pue: float
    memory_watts_per_gb: float
    utilisation: float
    grid_intensity: float  # gCO2e/kWh
    lifespan_hours: float
    host_vcpus: float
    host_embodied_kg: float
    hours_per_month: float
    daemonset_nodes: int
    job_run_minutes: float
    office_hours: str
    autoscaled_fraction: float


def resolve(
    provider: str = "aws",
    region: str | None = None,
    grid_intensity: float | None = None,
    overrides: dict[str, Any] | None = None,
) -> Coefficients:
    """Coefficients for a provider, with `footprint.coefficients` overrides merged in."""
    if provider not in PROVIDERS:
        raise CoefficientError(f"unknown provider {provider!r} (expected aws, gcp or azure)")
    table = _merge(load_table(), _normalise(overrides or {}))
    prov = table["providers"][provider]
    region = region or str(value(prov.get("default_region")))
    defaults, emb = table["defaults"], table["embodied"]
    return Coefficients(
        provider=provider,
        region=region,
        min_watts=_num(prov, "min_watts_per_vcpu"),
        max_watts=_num(prov, "max_watts_per_vcpu"),
        pue=_num(prov, "pue"),
        memory_watts_per_gb=_num(table, "memory_watts_per_gb"),
        utilisation=_num(table, "average_cpu_utilisation"),
        grid_intensity=(
            float(grid_intensity) if grid_intensity is not None else _grid(table, provider, region)
        ),
        lifespan_hours=_num(emb, "lifespan_hours"),
        host_vcpus=_num(emb["reference_host"], "vcpus"),
        host_embodied_kg=host_embodied_kg(emb),
        hours_per_month=_num(defaults, "hours_per_month"),
        daemonset_nodes=int(_num(defaults, "daemonset_nodes")),
        job_run_minutes=_num(defaults, "job_run_minutes"),
        office_hours=str(value(defaults["office_hours"])),
        autoscaled_fraction=_num(defaults, "autoscaled_replica_fraction"),
    )


def host_embodied_kg(embodied: dict[str, Any]) -> float:
    """TE of the reference host by the CCF host model (base + DRAM + sockets + drives + GPUs)."""
    host = embodied["reference_host"]
    extra_gb = max(0.0, _num(host, "memory_gb") - _num(embodied, "dram_threshold_gb"))
    return (
        _num(embodied, "base_host_kg")
        + extra_gb * _num(embodied, "dram_kg_per_gb")
        + max(0.0, _num(host, "sockets") - 1) * _num(embodied, "additional_socket_kg")
        + _num(host, "hdds") * _num(embodied, "hdd_kg")
        + _num(host, "ssds") * _num(embodied, "ssd_kg")
        + _num(host, "gpus") * _num(embodied, "gpu_kg")
    )


def _grid(table: dict[str, Any], provider: str, region: str) -> float:
    regions = table.get("grid_intensity", {}).get(provider, {})
    if region not in regions:
        known = ", ".join(sorted(regions))
        raise CoefficientError(
            f"no grid intensity for {provider} region {region!r} (known: {known}); "
            "pass --grid-intensity G (gCO2e/kWh)"
        )
    return float(value(regions[region]))


def _num(table: dict[str, Any], key: str) -> float:
    raw = value(table.get(key))
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise CoefficientError(f"coefficient {key!r} must be a number, got {raw!r}") from None


def _normalise(data: Any) -> Any:
    """Config keys may use dashes (`min-watts-per-vcpu`); the table uses underscores."""
    if isinstance(data, dict):
        return {str(k).replace("-", "_"): _normalise(v) for k, v in data.items()}
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, new in over.items():
        old = out.get(key)
        if isinstance(old, dict) and "value" in old and not isinstance(new, dict):
            out[key] = {**old, "value": new, "source": "config"}
        elif isinstance(old, dict) and isinstance(new, dict):
            out[key] = _merge(old, new)
        else:
            out[key] = new
    return out
