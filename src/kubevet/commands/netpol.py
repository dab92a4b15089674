"""`kubevet netpol PATH...`: who can talk to whom under network policies."""

from __future__ import annotations

import argparse

from kubevet.commands._common import add_input_arguments
from kubevet.commands._output import add_allow_empty, add_output_arguments

FORMATS = ("text", "json", "csv", "markdown", "dot")
# The names netpol used before every command agreed on one name per format.
DEPRECATED = {"txt": "text", "md": "markdown"}
_RENDERER = {"text": "txt", "markdown": "md"}  # kubevet.netpol.output's own names


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p, cluster=True)
    add_output_arguments(p, FORMATS)
    add_allow_empty(p)
    p.add_argument(
        "--focus", metavar="WORKLOAD", help="only connections of this workload (ns/name or name)"
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
    from kubevet.netpol import NetpolError, analyze
    from kubevet.netpol.output import render

    settings, _ = build_settings(args)
    outputs = parse_outputs(args, FORMATS, "text", DEPRECATED)
    objects, errors, warnings = load_objects(
        args.paths,
        settings.helm,
        settings.exclude,
        settings.gitignore,
        settings.cluster,
        settings.snapshot,
    )
    unused_errors, unused_warnings = values_unused_by_paths(args.paths, settings)
    errors += unused_errors
    warnings += unused_warnings
    try:
        result = analyze(objects, focus=args.focus)
    except NetpolError as exc:
        diagnostics([*errors, exc], warnings, args)
        return exit_code(args, True, False)
    errors.extend(result.errors)
    diagnostics(errors, warnings + result.warnings, args)
    empty = refuse_empty(args, len(objects), bool(errors), "no Kubernetes object")

    def render_one(fmt: str, _color: bool, _console: bool) -> list[str]:
        return [render(result.connections, _RENDERER.get(fmt, fmt))]

    write_outputs(outputs, render_one, args)
    return exit_code(args, bool(errors) or empty, False)


def load_objects(
    paths: list[str],
    helm_opts: object,
    exclude: list[str] | None = None,
    gitignore: bool = True,
    cluster: object = None,
    snapshot: bool = False,
) -> tuple[list, list, list[str]]:
    """Objects of every input, and of the cluster when `cluster` is ClusterOptions
    (`snapshot`: manifests are cluster dumps). Documents that are not Kubernetes objects
    (stray JSON or YAML data in a manifest folder) are skipped with a warning."""
    from kubevet.sources import discover, load_input, skipped_summary, with_cluster

    objects, errors, warnings, skipped = [], [], [], []
    for item in with_cluster(discover(paths, exclude or (), gitignore), cluster):
        group = load_input(item, helm_opts, cluster, snapshot)
        objects.extend(group.objects)
        warnings.extend(group.warnings)
        skipped.extend(group.skipped)
        for err in group.errors:
            if err.message.startswith("document is"):
                warnings.append(f"{err} (skipped)")
            else:
                errors.append(err)
    return objects, errors, warnings + skipped_summary(skipped)
