"""`kubevet check PATH...`: findings for charts, manifests and overlays."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kubevet.baseline import Entry
    from kubevet.commands._output import Output
    from kubevet.config import Config
    from kubevet.findings import Finding, Severity
    from kubevet.progress import Progress
    from kubevet.result import Report
    from kubevet.runner import RunSettings

from kubevet.commands._common import add_input_arguments, build_settings, values_unused
from kubevet.commands._output import add_output_arguments
from kubevet.report import FORMATS


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p, cluster=True)
    p.add_argument(
        "--select",
        action="append",
        metavar="RULES",
        help="only these codes, code prefixes, slugs or categories (comma-separated)",
    )
    p.add_argument("--ignore", action="append", metavar="RULES", help="skip these rules")
    p.add_argument(
        "--extend-select",
        action="append",
        metavar="RULES",
        help="add these rules to the default set (or to --select), e.g. rules off by default",
    )
    p.add_argument(
        "--shard",
        metavar="I/N",
        help="check the I-th (0-based) of N slices of the inputs and write a shard file into "
        "the directory given by -o (env/N: I from JOB_COMPLETION_INDEX); join with kubevet merge",
    )
    r = p.add_argument_group("Ray (pip install 'kubevet[ray]')")
    r.add_argument(
        "--engine",
        choices=("process", "ray"),
        default="process",
        help="check inputs in processes on this machine (-j, the default) or as Ray tasks",
    )
    r.add_argument(
        "--address",
        metavar="ADDRESS",
        help="with --engine ray: auto (a running cluster, the default; RAY_ADDRESS names it), "
        "ray://HOST:PORT, or local (a throwaway cluster on this machine with -j CPUs)",
    )
    b = p.add_argument_group("baseline")
    b.add_argument(
        "--baseline",
        metavar="FILE",
        help="report and fail only on findings not in FILE; list entries no longer found",
    )
    b.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="record today's findings in FILE (then exit 0 unless inputs had errors)",
    )
    p.add_argument(
        "--fail-on", metavar="SEVERITY", help="lowest severity that fails the run (default: low)"
    )
    p.add_argument(
        "--pss-version",
        metavar="X.Y",
        help="Pod Security Standards policy version (default: latest)",
    )
    add_output_arguments(p, FORMATS, default=None)
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="pass a run that checked no Kubernetes object (default: exit 2)",
    )
    p.add_argument(
        "--statistics", action="store_true", help="count findings per rule and per unified check"
    )
    p.add_argument(
        "--attestations",
        metavar="DIR",
        help="in-toto statements, DSSE envelopes and Sigstore bundles to check images against",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress line on stderr (shown only on a terminal, for runs over a second)",
    )
    p.add_argument(
        "--trace",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="trace chart findings to their template line and values key (default; "
        "--no-trace for the fastest run)",
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where chart traces are kept between runs (default: $KUBEVET_CACHE_DIR, "
        "else ~/.cache/kubevet)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor keep chart traces between runs (also KUBEVET_NO_CACHE=1)",
    )


def run(args: argparse.Namespace) -> int:
    """The check with Python's cycle collector off from its imports to its exit code (and
    given back as it was; -j workers forked from here start with it off too). A check makes
    next to no cyclic garbage (none on plain YAML, a few dozen objects per traced chart),
    while the collector walked what start-up built and, between inputs, the findings kept
    so far: 8 ms of CPU on the pre-rendered corpus (one input), a third of the CPU of 1,000
    chart copies (-j 1), for the same peak memory. The report is freed before it is on.
    Not with --engine ray, whose client (asyncio, gRPC) may make cyclic garbage of its own."""
    import gc

    if args.engine == "ray" or not gc.isenabled():
        return _run(args)
    gc.disable()
    try:
        return _run(args)
    finally:
        from kubevet import exiting

        if exiting.holds():  # kept to the process's end: never to be walked by the collector
            gc.freeze()
        gc.enable()


def _run(args: argparse.Namespace) -> int:
    from kubevet import exiting
    from kubevet.commands._output import parse_outputs
    from kubevet.progress import Progress
    from kubevet.runner import run_check

    settings, config = build_settings(args)
    if args.attestations:
        settings.options.settings["attestations"] = args.attestations
    settings.trace = args.trace
    # "": the environment's cache directory, found where a chart is traced (None: none)
    settings.trace_cache = None if args.no_cache else (args.cache_dir or "")
    if args.cache_dir and os.path.exists(args.cache_dir) and not os.path.isdir(args.cache_dir):
        from kubevet.commands.exits import UsageError

        raise UsageError(f"--cache-dir {args.cache_dir}: not a directory")
    check_engine(args, settings)
    if args.shard:
        return run_shard(args, settings)
    fail_on_of(args, config)  # a bad value is refused before any work
    outputs = parse_outputs(args, FORMATS, str(config.get("format") or "text"))
    if args.write_baseline:  # it replaces its file: never one the run reads
        from kubevet.commands._output import check_target

        check_target(args.write_baseline, args, "--write-baseline")
    baseline = _load_baseline(args.baseline)
    progress = Progress.for_stderr(args.quiet, args.verbose)
    try:
        report = (
            run_on_ray(args, settings, progress)
            if args.engine == "ray"
            else run_check(args.paths, settings, progress, spool=True)
        )
    finally:
        if progress is not None:
            progress.close()
    exiting.keep("report", report)  # in a process that ends without freeing it
    if settings.cluster is None:  # (a cluster's releases are rendered with their own values)
        errors, warnings = values_unused(settings.helm, {g.source for g in report.groups})
        report.errors += errors
        report.warnings += warnings
    return finish(report, args, config, settings.helm.release_name, baseline, outputs)


def finish(
    report: Report,
    args: argparse.Namespace,
    config: Config,
    release: str,
    baseline: list[Entry] | None,
    outputs: list[Output],
) -> int:
    """Everything after the checks, shared with `kubevet merge`: exemptions, baseline,
    diagnostics, statistics, the reports and the exit code."""
    from kubevet.commands._output import exit_code, write_outputs
    from kubevet.report import render_chunks

    fail_on = fail_on_of(args, config)
    _apply_exemptions(report, config, release)
    if baseline is not None:
        _apply_baseline(report, baseline, args.baseline)
    empty = not any(g.objects for g in report.groups)
    if empty and not args.allow_empty and not report.errors:
        from kubevet.findings import InputError

        report.errors.append(InputError(" ".join(args.paths), EMPTY_MESSAGE))
    report_diagnostics(report, args, empty)
    if args.statistics:
        import sys

        from kubevet.report.statistics import statistics

        print(statistics(report), file=sys.stderr)

    write_outputs(
        outputs, lambda fmt, color, console: render_chunks(fmt, report, color, console), args
    )
    failing = any(f.severity >= fail_on for f in report.active)
    if args.write_baseline:
        _write_baseline(args.write_baseline, report)
        failing = False  # the findings are accepted: recording them is the point
    return exit_code(args, bool(report.errors), failing)


def fail_on_of(args: argparse.Namespace, config: Config) -> Severity:
    from kubevet.commands.exits import UsageError
    from kubevet.findings import Severity

    try:
        return Severity.parse(args.fail_on or config.get("fail-on") or "low")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run_shard(args: argparse.Namespace, settings: RunSettings) -> int:
    """Check this shard's inputs and write its file: findings and input errors are data
    here (exit 0 once written); `kubevet merge` gives the verdict."""
    import sys

    from kubevet import shard
    from kubevet.commands.exits import UsageError
    from kubevet.plurals import counted
    from kubevet.progress import Progress
    from kubevet.runner import iter_inputs
    from kubevet.safewrite import WriteError
    from kubevet.sources import discover

    try:
        index, count = shard.parse_spec(args.shard)
    except shard.ShardError as exc:
        raise UsageError(str(exc)) from None
    if not args.output or not os.path.isdir(args.output):
        raise UsageError("--shard needs -o DIR, an existing directory for the shard file")
    if "-" in args.paths:
        raise UsageError("--shard cannot read standard input: name files or directories")
    inputs = discover(args.paths, settings.exclude, settings.gitignore, settings.lenient)
    mine = shard.mine(len(inputs), index, count)
    header = {
        "shard": index,
        "of": count,
        "inputs": shard.inputs_digest(inputs),
        "settings": shard.settings_digest(settings),
        "total": len(inputs),
        "release": settings.helm.release_name,
        "rules": {  # what merge needs to describe the same rules as a single run
            "select": settings.select,
            "ignore": settings.ignore,
            "extend_select": settings.extend_select,
            "severity": settings.severity,
        },
    }
    progress = Progress.for_stderr(args.quiet, args.verbose)
    results = iter_inputs([inputs[k] for k in mine], settings, progress)
    try:  # written as checked: a shard's memory does not grow with its inputs
        path = shard.write(args.output, header, zip(mine, results, strict=True))
    except WriteError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if progress is not None:
            progress.close()
    print(
        f"kubevet: shard {index}/{count}: {counted(len(mine), 'input')} -> {path}", file=sys.stderr
    )
    return 0


def check_engine(args: argparse.Namespace, settings: RunSettings) -> None:
    from kubevet.commands.exits import UsageError

    if args.engine != "ray":
        if args.address:
            raise UsageError("--address goes with --engine ray")
        return
    if args.shard:
        raise UsageError("--shard and --engine ray both split a run: use one of them")
    if settings.cluster is not None:
        raise UsageError("--engine ray checks files; a cluster is read by this process alone")
    from kubevet.ray_engine import EngineError, load_ray

    try:
        load_ray()  # missing: say so before any work
    except EngineError as exc:
        raise UsageError(str(exc)) from None


def run_on_ray(
    args: argparse.Namespace, settings: RunSettings, progress: Progress | None
) -> Report:
    from kubevet.commands.exits import UsageError
    from kubevet.ray_engine import EngineError, connect
    from kubevet.runner import run_check

    try:
        with connect(args.address or "auto", settings.jobs) as engine:
            return run_check(args.paths, settings, progress, spool=True, run=engine.run)
    except EngineError as exc:
        raise UsageError(str(exc)) from None


def _load_baseline(path: str | None) -> list[Entry] | None:
    from kubevet.commands.exits import UsageError

    if path is None:
        return None
    from kubevet.baseline import BaselineError, load

    try:
        return load(path)
    except BaselineError as exc:
        raise UsageError(str(exc)) from None


def _apply_baseline(report: Report, baseline: list[Entry], path: str) -> None:
    from kubevet.baseline import apply

    gone = apply(_in_place(report), baseline, path)
    if gone:
        head = f"{len(gone)} baseline entries of {path} no longer occur (rewrite it with "
        lines = [head + "--write-baseline to shrink it):"]
        lines += [f"  {e.describe()}" for e in gone]
        report.warnings.append("\n".join(lines))


def _apply_exemptions(report: Report, config: Config, release: str) -> None:
    raw = config.get("exemptions")
    if raw is None:
        return  # none configured (most runs): the module is not even imported
    from kubevet.exemptions import apply, parse

    entries, _ = parse(raw)
    if entries:
        warnings = apply(_in_place(report), entries, release)
        report.warnings.extend(warnings)


def _in_place(report: Report) -> Iterable[Finding]:
    """The findings for marking them suppressed (a spool writes its batches back)."""
    from kubevet.spool import FindingSpool

    findings = report.findings
    return findings.rewrite() if isinstance(findings, FindingSpool) else findings


def _write_baseline(path: str, report: Report) -> None:
    import sys

    from kubevet.baseline import write
    from kubevet.commands.exits import UsageError
    from kubevet.plurals import counted
    from kubevet.safewrite import WriteError

    try:
        count = write(path, report.findings)
    except WriteError as exc:
        raise UsageError(str(exc)) from None
    print(f"kubevet: wrote {counted(count, 'finding')} to the baseline {path}", file=sys.stderr)


EMPTY_MESSAGE = "no Kubernetes object was checked (pass --allow-empty to accept an empty run)"


def report_diagnostics(report: object, args: argparse.Namespace, empty: bool) -> None:
    """Errors and warnings on stderr, whatever the output formats."""
    from kubevet.commands._output import diagnostics, warning

    diagnostics(report.errors, report.warnings, args)  # type: ignore[attr-defined]
    if empty and args.allow_empty:
        warning("no Kubernetes object was checked", args)
    import sys

    from kubevet.sources import skipped_lines

    verbose = getattr(args, "verbose", False)  # `kubevet merge` has no -v
    for line in skipped_lines(report.skipped, verbose):  # type: ignore[attr-defined]
        print(line, file=sys.stderr)
