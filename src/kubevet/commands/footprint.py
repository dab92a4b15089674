"""`kubevet footprint PATH...`: energy and carbon per workload, per month, before deploying.

Config (`.kubevet.yaml`):

    footprint:
      provider: gcp
      region: europe-west1           # picks the grid intensity from the data file
      grid-intensity: 212            # gCO2e/kWh; wins over region
      utilisation: 0.4               # shortcuts into the coefficient table
      daemonset-nodes: 5
      coefficients:                  # any number of data/carbon-coefficients.yaml
        providers: {gcp: {pue: 1.09}}
"""

from __future__ import annotations

import argparse
from typing import Any

from kubevet.commands._common import add_input_arguments
from kubevet.commands._output import add_allow_empty, add_output_arguments

FORMATS = ("text", "json", "csv")
SHORTCUTS: dict[str, tuple[str, ...]] = {
    "utilisation": ("average_cpu_utilisation",),
    "utilization": ("average_cpu_utilisation",),
    "memory-watts-per-gb": ("memory_watts_per_gb",),
    "daemonset-nodes": ("defaults", "daemonset_nodes"),
    "hours-per-month": ("defaults", "hours_per_month"),
    "job-run-minutes": ("defaults", "job_run_minutes"),
    "office-hours": ("defaults", "office_hours"),
    "autoscaled-replica-fraction": ("defaults", "autoscaled_replica_fraction"),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p, cluster=True)
    p.add_argument("--provider", choices=("aws", "gcp", "azure"), help="cloud (default: aws)")
    p.add_argument("--region", help="provider region for the grid intensity (default per provider)")
    p.add_argument("--grid-intensity", type=float, metavar="G", help="grid intensity in gCO2e/kWh")
    add_output_arguments(p, FORMATS, default=None)
    add_allow_empty(p, "no workload")
    p.add_argument("--top", type=int, default=10, help="top consumers to list (text)")
    p.add_argument(
        "--kepler",
        metavar="FILE",
        help="measured energy: Prometheus text exposition of kepler_container_joules_total",
    )
    p.add_argument(
        "--kepler-window",
        metavar="DURATION",
        help="time the Kepler counters cover when the file is one scrape (e.g. 24h)",
    )


def run(args: argparse.Namespace) -> int:
    from kubevet.commands._common import build_settings, values_unused_by_paths
    from kubevet.commands._output import (
        diagnostics,
        exit_code,
        parse_outputs,
        refuse_empty,
        write_outputs,
    )
    from kubevet.commands.exits import UsageError
    from kubevet.footprint.coefficients import CoefficientError, resolve
    from kubevet.footprint.estimate import footprint_for
    from kubevet.footprint.report import render

    settings, config = build_settings(args)
    cfg = config.get("footprint") or {}
    if not isinstance(cfg, dict):
        raise UsageError("config 'footprint' must be a mapping")
    try:
        coef = resolve(
            provider=args.provider or str(cfg.get("provider") or "aws"),
            region=args.region or cfg.get("region"),
            grid_intensity=_grid(args, cfg),
            overrides=overrides_from_config(cfg),
        )
    except CoefficientError as exc:
        raise UsageError(str(exc)) from None
    kepler = _kepler(args, cfg) if args.kepler else None
    outputs = parse_outputs(args, FORMATS, str(cfg.get("format") or "text"))
    fp = footprint_for(
        args.paths,
        settings.helm,
        coef,
        settings.options.settings,
        kepler,
        settings.exclude,
        settings.gitignore,
        settings.cluster,
        settings.snapshot,
    )
    errors, warnings = values_unused_by_paths(args.paths, settings)
    fp.errors += [str(e) for e in errors]
    fp.warnings += warnings
    diagnostics(fp.errors, fp.warnings, args)
    empty = refuse_empty(args, len(fp.rows), bool(fp.errors), "no workload")
    write_outputs(outputs, lambda fmt, _color, _console: [render(fp, fmt, args.top)], args)
    return exit_code(args, bool(fp.errors) or empty, False)


def _grid(args: argparse.Namespace, cfg: dict[str, Any]) -> float | None:
    from kubevet.commands.exits import UsageError

    raw = args.grid_intensity if args.grid_intensity is not None else cfg.get("grid-intensity")
    if raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise UsageError(f"grid intensity must be a number, got {raw!r}") from None
    if value < 0:
        raise UsageError("grid intensity must not be negative")
    return value


def overrides_from_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """`footprint.coefficients` plus the flat shortcuts, as one override tree."""
    out: dict[str, Any] = dict(cfg.get("coefficients") or {})
    for key, path in SHORTCUTS.items():
        if key in cfg or key.replace("-", "_") in cfg:
            node = out
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = cfg.get(key, cfg.get(key.replace("-", "_")))
    return out


def _kepler(args: argparse.Namespace, cfg: dict[str, Any]) -> dict[tuple[str, str, str], float]:
    from kubevet.commands.exits import UsageError
    from kubevet.findings import InputError
    from kubevet.footprint.kepler import KeplerError, container_watts, parse, parse_duration
    from kubevet.sources.reader import read_text

    try:
        samples = parse(read_text(args.kepler), args.kepler)
        raw_window = args.kepler_window or cfg.get("kepler-window")
        window = parse_duration(str(raw_window)) if raw_window else None
        return container_watts(samples, window)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    except KeplerError as exc:
        raise UsageError(f"{args.kepler}: {exc}") from None
