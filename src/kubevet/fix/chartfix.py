"""Fix a chart round after round through a values override, each round proven."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kubevet.findings import Edit, Finding
from kubevet.fix.chart import (
    ChartResult,
    null_defaults,
    raise_limit,
    render_with,
    unstable_names,
    values_edits,
    values_file,
    values_text,
)
from kubevet.fix.choose import (
    MAX_ROUNDS,
    FixOptions,
    FixReport,
    check,
    choose,
    finding_key,
    merge_skipped,
)
from kubevet.fix.prover import Prover
from kubevet.sources.renderworker import LimitError

MAX_COMPLETION_RETRIES = 3  # values runs again without fixes whose completion failed

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.runner import RunSettings


def fix_chart(
    path: str, settings: RunSettings, opts: FixOptions, report: FixReport, roots: Sequence[str] = ()
) -> ChartResult:
    """Fix a chart through a values override, round after round (a fix can make another
    one applicable, as for manifests); each round starts from the previous round's proven
    override and proves its own fixes against that render. The override is written once,
    never through a link leaving the chart or the paths named (`roots`)."""
    output = opts.output or os.path.join(path, "kubevet.values.yaml")
    result = ChartResult(path, output)
    if not opts.output and not os.path.isdir(path):
        result.errors = [
            f"{path}: a chart archive has no directory for kubevet.values.yaml; "
            "give --output FILE for the values override"
        ]
        return result
    excluded: list[tuple[Finding, str]] = []
    for _attempt in range(MAX_COMPLETION_RETRIES + 1):
        result = ChartResult(path, output)
        if not _values_rounds(result, settings, opts, report, excluded):
            return result
        if result.render is not None and not result.errors:
            _post_render(result, settings, opts)
        again = _uncompleted(result, settings)
        if not again:
            break
        excluded = excluded + again  # values fixes whose completion the set cannot carry
    if result.values and not result.errors and not opts.diff_only:
        _write_override(result, opts, path, roots)
    if result.render is not None and not result.errors:
        _write_post_render(result, opts, roots)
        _template_patch(result, settings, opts, roots)
    return result


def _values_rounds(
    result: ChartResult,
    settings: RunSettings,
    opts: FixOptions,
    report: FixReport,
    excluded: list[tuple[Finding, str]],
) -> bool:
    """Lever 1, round after round, leaving out the fixes `excluded` (reported as
    withdrawn); False when a render passed its bound (the chart is not fixed)."""
    path = result.chart
    tried: set[tuple[Any, ...]] = {finding_key(f) for f, _why in excluded}
    values: dict[str, Any] | None = None
    previous: InputGroup | None = None  # the last round's proven render, of `values`
    for n in range(MAX_ROUNDS):
        try:
            with _with_values(settings, values) as round_settings:
                step = _chart_round(path, round_settings, opts, report, tried, previous)
        except LimitError as exc:  # a trace or proof render passed a render bound
            result.errors = [str(exc.reword("not fixed"))]
            return False
        _merge_round(result, step, first=n == 0)
        if not step.applied or not _more_to_fix(step.after, opts, tried):
            break
        values, previous = step.values, step.render
    result.withdrawn += excluded
    if result.render is not None and not result.errors:
        from kubevet.fix.valuekeys import complete_with_keys

        complete_with_keys(result, settings, opts.unsafe)  # the chart's own object switches
    return True


def _uncompleted(result: ChartResult, settings: RunSettings) -> list[tuple[Finding, str]]:
    """The values fixes that bring a finding once every user lever is in (a budget or
    autoscaler the values lever counted on, which the post-render set could not carry, as
    when its proof failed), found as the gate finds them, with the reason; [] when no
    rule rose."""
    from kubevet.fix.gate import culprits, rises

    ov = result.overlay
    final = ov.after if ov is not None and not ov.problems else result.after
    rising = rises(result.findings, final)
    fixes = [(f, f.fix.edits) for f in result.applied if f.fix is not None]
    if not rising or not fixes or result.first_render is None:
        return []
    found = culprits(result.first_render, result.findings, fixes, rising, settings)
    unproven = f" (the post-render set that completes it is not proven: {ov.problems[0]})"
    tail = unproven if ov is not None and ov.problems else ""
    return [(fixes[i][0], why + tail) for i, why in found.items()]


def _template_patch(
    result: ChartResult, settings: RunSettings, opts: FixOptions, roots: Sequence[str]
) -> None:
    """Lever 3, for the maintainer: the fixes no values key reaches, as one proven patch."""
    from kubevet.fix.templateproof import template_fix

    fixes = [(f, f.fix.edits) for f, _why in [*result.template, *result.blocked] if f.fix]
    if not fixes or result.first_render is None:
        return
    result.maintainer = done = template_fix(
        result.chart, result.first_render, result.findings, fixes, settings
    )
    base = os.path.dirname(result.output)
    result.template_patch = opts.template_patch or os.path.join(base, "kubevet-template.patch")
    if done.diff and not opts.diff_only:
        from kubevet.safewrite import WriteError, check_target, write_text

        placed = not (opts.template_patch or opts.output)
        try:
            if placed:
                check_target(result.template_patch, roots)
            write_text(result.template_patch, done.diff, [result.chart] if placed else ())
        except WriteError as exc:
            result.errors.append(str(exc))


def _post_render(result: ChartResult, settings: RunSettings, opts: FixOptions) -> None:
    """Lever 2 over the final render: the fixes the override could not make."""
    from kubevet.fix.overlay import post_render_fix
    from kubevet.sources.helm import load_chart

    done = {finding_key(f) for f, _why in result.withdrawn}
    again = render_with(result.chart, result.values, settings.helm) if result.values else None
    if again is None or again.errors:
        again = load_chart(result.chart, settings.helm)
    unstable = unstable_names(result.render.objects, again.objects)
    result.overlay = post_render_fix(result.render, result.after, settings, opts, done, unstable)
    base = os.path.dirname(result.output)
    result.overlay_dir = opts.post_render_dir or os.path.join(base, "kubevet-postrender")


def _write_post_render(result: ChartResult, opts: FixOptions, roots: Sequence[str]) -> None:
    from kubevet.fix.overlay import write_overlay

    overlay = result.overlay
    if overlay.patches and not overlay.problems and not opts.diff_only:
        # a directory kubevet places in the chart stays inside it and the paths named
        placed = not (opts.post_render_dir or opts.output)
        inside = [[result.chart], list(roots)] if placed else []
        problem = write_overlay(overlay.patches, result.overlay_dir, inside)
        if problem:
            result.errors.append(problem)


@contextmanager
def _with_values(settings: RunSettings, values: dict[str, Any] | None) -> Iterator[RunSettings]:
    """`settings` rendering with exactly `values` (the previous round's override)."""
    from dataclasses import replace

    if values is None:
        yield settings
        return
    with values_file(values, settings.helm) as helm:
        yield replace(settings, helm=helm)


def _merge_round(result: ChartResult, step: ChartResult, first: bool) -> None:
    if first:
        result.findings, result.errors = step.findings, step.errors
        result.first_render = step.first_render
    else:  # a later round's render problems only cost that round's fixes
        result.rejected += [(f, "; ".join(step.errors)) for f in step.chosen] if step.errors else []
    if step.values:
        result.values = step.values
    if step.render is not None:
        result.render, result.after = step.render, step.after
    result.withdrawn += step.withdrawn
    result.applied += step.applied
    result.removed += step.removed
    result.template += step.template
    result.rejected += step.rejected
    result.blocked += step.blocked
    result.problems += step.problems


def _more_to_fix(findings: list[Finding], opts: FixOptions, tried: set[tuple[Any, ...]]) -> bool:
    """Do the findings left after a round hold a fix not tried yet?"""
    return any(finding_key(f) not in tried for f, _e in choose(findings, opts, FixReport()))


def _write_override(
    result: ChartResult, opts: FixOptions, chart: str, roots: Sequence[str]
) -> None:
    """Write the override; one kubevet places in the chart stays inside the chart, and
    inside the paths named (a chart found in a walk may be a linked directory)."""
    from kubevet.safewrite import WriteError, check_target, write_text

    try:
        if not opts.output:
            check_target(result.output, roots)
        text = values_text(result.values)
        if opts.output and opts.in_place:
            text = _in_place(result, opts.output)
        write_text(result.output, text, () if opts.output else [chart])
    except (WriteError, ValueError) as exc:
        result.errors.append(f"{result.output}: {exc}" if isinstance(exc, ValueError) else str(exc))


def _in_place(result: ChartResult, path: str) -> str:
    """The user's last values file with the fixes' keys set in it, comments kept."""
    from kubevet.fix.inplace import edited_values
    from kubevet.sources.reader import read_text

    first = result.first_render
    user = (first.chart.user_values if first is not None and first.chart else None) or {}
    return edited_values(read_text(path), user, result.values)


def _chart_round(
    path: str,
    settings: RunSettings,
    opts: FixOptions,
    report: FixReport,
    tried: set[tuple[Any, ...]],
    previous: InputGroup | None = None,
) -> ChartResult:
    from kubevet.fix.patch import suggest_patch
    from kubevet.sources.helm import load_chart
    from kubevet.trace import trace_chart
    from kubevet.trace.render import ChartRenderer

    result = ChartResult(path, "")
    group = load_chart(path, settings.helm)
    raise_limit(group)
    if group.errors:
        result.errors = [str(e) for e in group.errors]
        return result
    findings = result.findings = result.after = check(group, settings)
    result.render = result.first_render = group
    scratch = FixReport()
    chosen = choose(findings, opts, scratch)
    merge_skipped(report, scratch, tried)
    chosen = [(f, e) for f, e in chosen if finding_key(f) not in tried]
    tried.update(finding_key(f) for f, _e in chosen)
    result.chosen = [f for f, _e in chosen]
    if not chosen:
        return result
    user = (group.chart.user_values if group.chart else None) or {}
    with ChartRenderer(path, settings.helm, validate=False) as renderer:
        trace_chart(group, findings, settings.helm, renderer)
        raise_limit(group)
        merged = renderer.merged_values(copy.deepcopy(user))
        nulls = null_defaults(renderer.source_dir)
    applied: list[tuple[Finding, tuple[Edit, ...], list[Edit]]] = []
    for f, edits in chosen:
        ve = values_edits(f, edits, merged)
        if ve is None:
            result.template.append((f, suggest_patch(f, edits)))
        else:
            applied.append((f, edits, ve))
    if applied:
        prover = Prover(path, settings, group, user, merged, applied, nulls, findings, previous)
        prover.prove(result, opts)
    return result
