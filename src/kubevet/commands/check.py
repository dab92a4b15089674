"""`kubevet check PATH...`: findings for charts, manifests and overlays."""

from __future__ import annotations

import argparse

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
    report = run_check(args.paths, settings)
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
    return exit_code(args, bool(report.errors), failing)


EMPTY_MESSAGE = "no Kubernetes object was checked (pass --allow-empty to accept an empty run)"


def report_diagnostics(report: object, args: argparse.Namespace, empty: bool) -> None:
    """Errors and warnings on stderr, whatever the output formats."""
    from kubevet.commands._output import error, warning

    for w in report.warnings:  # type: ignore[attr-defined]
        warning(w, args)
    for e in report.errors:  # type: ignore[attr-defined]
        error(str(e), args)
    if empty and args.allow_empty:
        warning("no Kubernetes object was checked", args)
