"""Values matrix: render each chart once per named value set, report each problem once.

    kubevet check ./chart --values-set prod=values-prod.yaml --values-set dev=values-dev.yaml
    kubevet check ./chart --values-matrix envs/*.yaml

A finding found in several renders is one finding that names the value sets it comes from
("value sets: prod" or "all value sets"); errors say which value set they belong to.
Inputs that are not charts are checked once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kubevet.findings import Finding, InputError

if TYPE_CHECKING:
    from kubevet.result import GroupSummary
    from kubevet.runner import RunSettings
    from kubevet.sources import Input

Job = tuple["Input", "RunSettings", str | None]
Result = tuple["GroupSummary", list[Finding], list[InputError], list[str]]


def expand(inputs: list[Input], settings: RunSettings) -> list[Job]:
    """One job per input, or per (chart, value set) when value sets are given."""
    jobs: list[Job] = []
    for item in inputs:
        if item.kind != "chart" or not settings.value_sets:
            jobs.append((item, settings, None))
            continue
        for name, files in settings.value_sets:
            helm = replace(settings.helm, values_files=[*settings.helm.values_files, *files])
            jobs.append((item, replace(settings, helm=helm), name))
    return jobs


def merge(jobs: list[Job], results: list[Result], all_sets: list[str]) -> list[Result]:
    """Fold the renders of each chart into one result, in input order."""
    return list(merge_iter(jobs, results, all_sets))


def merge_iter(jobs: list[Job], results: Iterable[Result], all_sets: list[str]) -> Iterator[Result]:
    """merge, one input at a time: the renders of a chart are consecutive jobs (expand), so
    a chart's result is complete when the next input's first result arrives."""
    pending: tuple[str, Result, dict[tuple[Any, ...], Finding]] | None = None
    for (item, _, name), result in zip(jobs, results, strict=True):
        if pending is not None and (name is None or item.label != pending[0]):
            yield _folded(pending[1], pending[2], all_sets)
            pending = None
        if name is None:
            yield result
            continue
        summary, findings, errors, warnings = result
        errors = [InputError(e.file, f"[value set {name}] {e.message}", e.line) for e in errors]
        warnings = [f"[value set {name}] {w}" for w in warnings]
        if pending is None:
            pending = (item.label, (summary, [], errors, warnings), {})
        else:
            pending[1][2].extend(errors)
            pending[1][3].extend(warnings)
        merged, seen = pending[1], pending[2]
        for f in findings:
            key = (f.code, f.object, f.path, f.container)
            if key not in seen:
                seen[key] = f
                f.value_sets = []
                merged[1].append(f)
            seen[key].value_sets.append(name)
    if pending is not None:
        yield _folded(pending[1], pending[2], all_sets)


def _folded(merged: Result, seen: dict[tuple[Any, ...], Finding], all_sets: list[str]) -> Result:
    for f in seen.values():
        f.message += _which(f.value_sets, all_sets)
    merged[1].sort(key=Finding.sort_key)
    return merged


def _which(names: list[str], all_sets: list[str]) -> str:
    if len(names) == len(all_sets):
        return " (all value sets)"
    return f" (value sets: {', '.join(names)})"
