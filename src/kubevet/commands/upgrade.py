"""`kubevet upgrade --to X.Y PATH...`: can these workloads (and these clients) move to X.Y?"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kubevet.commands._common import (
    add_input_arguments,
    build_settings,
    values_unused_by_paths,
)
from kubevet.commands._output import add_allow_empty, add_output_arguments

if TYPE_CHECKING:
    from kubevet.upgrade.analyze import Target


FORMATS = ("text", "json")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p, cluster=True)
    for action in p._actions:  # an audit log alone is a complete question: PATH optional
        if action.dest == "paths":
            action.nargs = "*"
            action.help = "charts, manifests, overlays, Helm release Secrets, or - (optional "
            action.help += "with --cluster or --audit-log)"
    p.add_argument(
        "--to",
        metavar="X.Y",
        help="target Kubernetes version (default: config kube-version, else the newest known); "
        "charts are rendered for it",
    )
    p.add_argument(
        "--from",
        dest="current",
        metavar="X.Y",
        help="the cluster's current version (default: the cluster's own with --cluster, else "
        "assumed to be the release before --to); "
        "blockers already there at this release are reported apart",
    )
    p.add_argument(
        "--audit-log", metavar="FILE", help="API server audit log (JSON lines) to summarise"
    )
    add_output_arguments(p, FORMATS)
    add_allow_empty(p)
    p.add_argument(
        "--fix",
        action="store_true",
        help="rewrite manifest files to the replacement API versions where the conversion is known",
    )
    p.add_argument(
        "--no-schema", action="store_true", help="skip validation against the target schema"
    )


def run(args: argparse.Namespace) -> int:
    from kubevet.commands._output import (
        diagnostics,
        exit_code,
        parse_outputs,
        refuse_empty,
        write_outputs,
    )
    from kubevet.commands.exits import UsageError
    from kubevet.upgrade.report import render_json, render_text
    from kubevet.upgrade.run import run_upgrade

    settings, config = build_settings(args)  # an audit log alone needs no PATH there either
    if not args.paths and not args.audit_log and settings.cluster is None:
        raise UsageError("upgrade needs a PATH to check, --cluster, or --audit-log FILE")
    target = _target(args, config)
    outputs = parse_outputs(args, FORMATS, "text")
    settings.helm.kube_version = _text(target.to)  # charts switch APIs on the capabilities
    report = run_upgrade(
        args.paths,
        settings.helm,
        target,
        args.audit_log,
        args.fix,
        settings.exclude,
        settings.gitignore,
        settings.cluster,
        settings.snapshot,
    )
    errors, warnings = values_unused_by_paths(args.paths, settings)
    report.errors += errors
    report.warnings += warnings
    diagnostics(report.errors, report.warnings, args)
    # PATHs (or a cluster) that held nothing to check; an audit log alone is a complete question
    empty = bool(args.paths or settings.cluster) and refuse_empty(
        args, report.objects, bool(report.errors), "no Kubernetes object"
    )
    renderers = {"json": render_json, "text": render_text}
    write_outputs(outputs, lambda fmt, _color, _console: [renderers[fmt](report)], args)
    return exit_code(args, bool(report.errors) or empty, bool(report.blocked))


def _target(args: argparse.Namespace, config: dict[str, Any]) -> Target:
    from kubevet.commands.exits import UsageError
    from kubevet.upgrade.analyze import Target
    from kubevet.upgrade.schema import choose_schema
    from kubevet.upgrade.table import load_table, version

    table = load_table()
    asked = args.to or args.kube_version or config.get("kube-version")
    flag = "--to" if args.to else "--kube-version" if args.kube_version else "kube-version"
    try:
        # `latest` (as --kube-version takes it): the newest release of the table, the default
        to = (None if asked == "latest" else version(asked)) or table.newest
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None
    try:
        current = version(args.current)
    except ValueError:
        raise UsageError(f"--from: bad version {args.current!r} (expected like 1.29)") from None
    from kubevet.commands._common import check_known_release

    for named, v in ((flag, to), ("--from", current)):
        if v is not None:
            check_known_release(named, _text(v))
    if current and current > to:
        raise UsageError(f"--from {args.current} is newer than the target {_text(to)}")
    schema = None if args.no_schema else choose_schema(to)
    return Target(to, current, table, schema)


def _text(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"
