"""`kubevet netpol PATH...`: who can talk to whom under network policies."""

from __future__ import annotations

import argparse

from kubevet.commands._common import add_input_arguments

FORMATS = ("txt", "json", "csv", "md", "dot")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p)
    p.add_argument("--format", choices=FORMATS, default="txt", help="output format")
    p.add_argument(
        "--focus", metavar="WORKLOAD", help="only connections of this workload (ns/name or name)"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the list to FILE")


def run(args: argparse.Namespace) -> int:
    import sys

    from kubevet.cli import EXIT_ERROR, EXIT_OK
    from kubevet.commands._common import build_settings
    from kubevet.netpol import NetpolError, analyze
    from kubevet.netpol.output import render

    settings, _ = build_settings(args)
    objects, errors, warnings = load_objects(args.paths, settings.helm)
    for w in warnings:
        print(f"kubevet: warning: {w}", file=sys.stderr)
    try:
        result = analyze(objects, focus=args.focus)
    except NetpolError as exc:
        for e in errors:
            print(f"kubevet: error: {e}", file=sys.stderr)
        print(f"kubevet: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for w in result.warnings:
        print(f"kubevet: warning: {w}", file=sys.stderr)
    text = render(result.connections, args.format)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    errors.extend(result.errors)
    for e in errors:
        print(f"kubevet: error: {e}", file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_OK


def load_objects(paths: list[str], helm_opts: object) -> tuple[list, list, list[str]]:
    """Objects of every input; documents that are not Kubernetes objects (stray JSON or
    YAML data in a manifest folder) are skipped with a warning, not an error."""
    from kubevet.sources import discover, load_input

    objects, errors, warnings = [], [], []
    for item in discover(paths):
        group = load_input(item, helm_opts)
        objects.extend(group.objects)
        warnings.extend(group.warnings)
        for err in group.errors:
            if err.message.startswith("document is"):
                warnings.append(f"{err} (skipped)")
            else:
                errors.append(err)
    return objects, errors, warnings
