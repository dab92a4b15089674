"""The `fix` pipeline: load, check, choose the fixes, apply them, prove them.

choose.py picks the fixes; this module runs the check -> fix rounds of manifest inputs;
chartfix.py those of charts (a values override), proven by prover.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubevet.fix.chartfix import fix_chart
from kubevet.fix.choose import (
    MAX_ROUNDS,
    Chosen,
    FixOptions,
    FixReport,
    check,
    choose,
    finding_key,
    merge_skipped,
)
from kubevet.fix.gate import culprits, rises
from kubevet.fix.manifests import FileResult, fix_file

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.runner import RunSettings

MAX_GATE_ROUNDS = 3  # passes after withdrawing the fixes that introduced findings

__all__ = ["FixOptions", "FixReport", "fix_chart", "run_fix"]


def run_fix(paths: list[str], settings: RunSettings, opts: FixOptions) -> FixReport:
    from kubevet.sources import discover

    report = FixReport()
    for item in discover(paths, settings.exclude, settings.gitignore, settings.lenient):
        if item.kind == "chart":
            report.charts.append(fix_chart(item.label, settings, opts, report, paths))
        elif item.kind == "manifests":
            _fix_manifests(item.label, item.files, settings, opts, report, paths)
        elif item.kind == "error" and item.error:
            report.errors.append(str(item.error))
        elif item.kind == "stdin":
            report.errors.append(
                "-: standard input cannot be fixed in place: save it to a file and fix that"
            )
        else:  # a Kustomize overlay: its fixes belong in its bases and patches
            report.errors.append(f"{item.label}: only manifests and charts can be fixed")
    return report


def _fix_manifests(
    label: str,
    files: list[str],
    settings: RunSettings,
    opts: FixOptions,
    report: FixReport,
    roots: list[str],
) -> None:
    from kubevet.safewrite import WriteError, check_target
    from kubevet.sources.manifests import load_manifest_files

    group = load_manifest_files(label, files)
    report.errors.extend(str(e) for e in group.errors)
    writable = []
    for path in files:
        try:
            check_target(path, roots)
            writable.append(path)
        except WriteError as exc:  # a link out of the tree the user named: never written
            report.errors.append(str(exc))
    results = _fix_rounds(group, writable, settings, opts, report)
    for result in results:
        report.files.append(result)
        if result.new != result.old and not opts.diff_only:
            _write(result, roots, report)


def _fix_rounds(
    group: InputGroup, files: list[str], settings: RunSettings, opts: FixOptions, report: FixReport
) -> list[FileResult]:
    """Fix `files` (of `group`) in memory up to the fixed point; then no rule may count
    more findings than before: the fixes that raise one are withdrawn (with the reason)
    and the files fixed again without them."""
    first = check(group, settings)
    excluded: set[tuple[Any, ...]] = set()
    for _gate in range(MAX_GATE_ROUNDS):
        results, fixes, final = _rounds(group, files, settings, opts, report, excluded)
        rising = rises(first, check(final, settings)) if fixes else {}
        if not rising:
            break
        for i, why in culprits(group, first, fixes, rising, settings).items():
            excluded.add(finding_key(fixes[i][0]))
            report.withdrawn.append((fixes[i][0], why))
    return results


def _rounds(
    group: InputGroup,
    files: list[str],
    settings: RunSettings,
    opts: FixOptions,
    report: FixReport,
    excluded: set[tuple[Any, ...]],
) -> tuple[list[FileResult], Chosen, InputGroup]:
    """One pass of check -> fix rounds: the file results, the fixes made, the last group."""
    from kubevet.sources.manifests import read_text

    version = settings.options.kube_version
    results: dict[str, FileResult] = {}
    tried: set[tuple[Any, ...]] = set(excluded)
    fixes: Chosen = []
    scratch = FixReport()
    for _round in range(MAX_ROUNDS):
        scratch = FixReport()
        chosen = choose(check(group, settings), opts, scratch)
        merge_skipped(report, scratch, tried)
        chosen = [(f, e) for f, e in chosen if finding_key(f) not in tried]
        tried.update(finding_key(f) for f, _e in chosen)
        changed = []
        for path in files:
            mine = [(f, e) for f, e in chosen if f.obj.origin.file == path]
            if not mine:
                continue
            fixes += mine
            before = results.get(path)
            text = before.new if before else read_text(path)
            step = fix_file(path, text, mine, version)
            results[path] = _merged(before, step)
            if step.new != text:
                changed.append(path)
        if not changed:
            break
        group = _reloaded(group, changed, results)
    report.no_fix += scratch.no_fix  # of the last round: what is left with no fix offered
    return [results[p] for p in files if p in results], fixes, group


def _merged(before: FileResult | None, step: FileResult) -> FileResult:
    if before is None:
        return step
    before.new = step.new
    before.applied += step.applied
    before.rejected += step.rejected
    before.reformatted |= step.reformatted
    return before


def _reloaded(group: InputGroup, changed: list[str], results: dict[str, FileResult]) -> InputGroup:
    """`group` with the objects of the changed files read again from their new text."""
    from kubevet.context import InputGroup
    from kubevet.sources.manifests import add_text

    fresh = InputGroup(label=group.label, source=group.source)
    done: set[str] = set()
    for obj in group.objects:
        path = obj.origin.file
        if path not in changed:
            fresh.objects.append(obj)
        elif path not in done:
            done.add(path)
            add_text(fresh, results[path].new, path)
    return fresh


def _write(result: FileResult, roots: list[str], report: FixReport) -> None:
    """Write a fixed file; on failure it stays as it was, and is reported as not fixed."""
    from kubevet.safewrite import WriteError, has_bom, write_text

    try:
        write_text(result.path, result.new, roots, bom=has_bom(result.path))
    except WriteError as exc:
        report.errors.append(str(exc))
        report.files.remove(result)
