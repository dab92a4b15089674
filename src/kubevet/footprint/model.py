"""The arithmetic: Cloud Carbon Footprint energy, SCI operational and embodied carbon.

Units: watts, hours, kWh, grams CO2e. Nothing here knows about Kubernetes.
"""

from __future__ import annotations


def average_watts_per_vcpu(min_watts: float, max_watts: float, utilisation: float) -> float:
    """CCF: Average Watts = Min Watts + utilisation x (Max Watts - Min Watts)."""
    return min_watts + utilisation * (max_watts - min_watts)


def power_watts(
    vcpus: float,
    memory_gb: float,
    min_watts: float,
    max_watts: float,
    utilisation: float,
    memory_watts_per_gb: float,
) -> float:
    """Draw of `vcpus` and `memory_gb` at the given utilisation, before PUE."""
    cpu = vcpus * average_watts_per_vcpu(min_watts, max_watts, utilisation)
    return cpu + memory_gb * memory_watts_per_gb


def energy_kwh(watts: float, hours: float, pue: float = 1.0) -> float:
    """E in kWh; PUE included because the boundary is a data centre (SCI, E)."""
    return watts * hours * pue / 1000.0


def operational_g(energy: float, intensity: float) -> float:
    """SCI O = E x I (kWh x gCO2e/kWh)."""
    return energy * intensity


def embodied_g(
    total_kg: float, hours_reserved: float, lifespan_hours: float, share: float
) -> float:
    """SCI M = TE x (TiR / EL) x (RR / ToR), in grams."""
    return total_kg * 1000.0 * (hours_reserved / lifespan_hours) * share


def sci(energy: float, intensity: float, embodied: float, units: float = 1.0) -> float:
    """SCI = (E x I + M) per R."""
    if units <= 0:
        raise ValueError("the functional unit count R must be positive")
    return (operational_g(energy, intensity) + embodied) / units
