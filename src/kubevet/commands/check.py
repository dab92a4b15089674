"""`kubevet check PATH...`: findings for charts, manifests and overlays."""

from __future__ import annotations

import argparse

from kubevet.commands._common import add_input_arguments, build_settings

FORMATS = ("text", "json", "sarif", "junit", "github")


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
    p.add_argument("--format", choices=FORMATS, default=None, help="output format")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
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
    import sys

    from kubevet.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, UsageError
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
    fmt = args.format or config.get("format") or "text"
    report = run_check(args.paths, settings)
    if args.statistics:
        from kubevet.report.statistics import statistics

        print(statistics(report), file=sys.stderr)
    color = fmt == "text" and not args.output and sys.stdout.isatty()
    chunks = render_chunks(fmt, report, color=color)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.writelines(chunks)
    else:
        sys.stdout.writelines(chunks)
    if report.errors:
        return EXIT_ERROR
    if any(f.severity >= fail_on for f in report.active):
        return EXIT_FINDINGS
    return EXIT_OK
