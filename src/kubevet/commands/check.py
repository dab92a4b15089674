"""`kubevet check PATH...`: findings for charts, manifests and overlays."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubevet.baseline import Entry
    from kubevet.config import Config
    from kubevet.runner import Report, RunSettings

from kubevet.commands._common import add_input_arguments, build_settings
from kubevet.commands._output import add_output_arguments

FORMATS = ("text", "json", "sarif", "junit", "github", "gitlab", "html")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p)
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
        "--trace",
        action="store_true",
        help="trace chart findings to their template line and values key",
    )


def run(args: argparse.Namespace) -> int:
    from kubevet.cli import UsageError
    from kubevet.commands._output import exit_code, parse_outputs, write_outputs
    from kubevet.findings import Severity
    from kubevet.report import render_chunks
    from kubevet.runner import run_check

    settings, config = build_settings(args)
    if args.attestations:
        settings.options.settings["attestations"] = args.attestations
    settings.trace = args.trace
    try:
        fail_on = Severity.parse(args.fail_on or config.get("fail-on") or "low")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    outputs = parse_outputs(args, FORMATS, str(config.get("format") or "text"))
    baseline = _load_baseline(args.baseline)
    report = run_check(args.paths, settings)
    _apply_exemptions(report, config, settings)
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


def _load_baseline(path: str | None) -> list[Entry] | None:
    from kubevet.cli import UsageError

    if path is None:
        return None
    from kubevet.baseline import BaselineError, load

    try:
        return load(path)
    except BaselineError as exc:
        raise UsageError(str(exc)) from None


def _apply_baseline(report: Report, baseline: list[Entry], path: str) -> None:
    from kubevet.baseline import apply

    gone = apply(report.findings, baseline, path)
    if gone:
        head = f"{len(gone)} baseline entries of {path} no longer occur (rewrite it with "
        lines = [head + "--write-baseline to shrink it):"]
        lines += [f"  {e.describe()}" for e in gone]
        report.warnings.append("\n".join(lines))


def _apply_exemptions(report: Report, config: Config, settings: RunSettings) -> None:
    from kubevet.exemptions import apply, parse

    entries, _ = parse(config.get("exemptions"))
    if entries:
        release = settings.helm.release_name
        warnings = apply(report.findings, entries, release)
        report.warnings.extend(warnings)


def _write_baseline(path: str, report: Report) -> None:
    import sys

    from kubevet.baseline import write
    from kubevet.cli import UsageError
    from kubevet.safewrite import WriteError

    try:
        count = write(path, report.findings)
    except WriteError as exc:
        raise UsageError(str(exc)) from None
    print(f"kubevet: wrote {count} findings to the baseline {path}", file=sys.stderr)


EMPTY_MESSAGE = "no Kubernetes object was checked (pass --allow-empty to accept an empty run)"


def report_diagnostics(report: object, args: argparse.Namespace, empty: bool) -> None:
    """Errors and warnings on stderr, whatever the output formats."""
    from kubevet.commands._output import error, warning

    for w in report.warnings:
        warning(w, args)
    for e in report.errors:
        error(str(e), args)
    if empty and args.allow_empty:
        warning("no Kubernetes object was checked", args)
