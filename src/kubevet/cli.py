"""Argument parsing and wiring only. Each subcommand lives in kubevet.commands.<name>,
whose top level imports nothing heavy, so `kubevet --help` and `--version` stay fast."""

from __future__ import annotations

import argparse
import importlib
import sys

from kubevet import __version__

# name -> (module, one-line help). Adding a command adds one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("kubevet.commands.check", "find misconfigurations in charts, manifests, overlays"),
    "rules": ("kubevet.commands.rules", "list the rules (filterable)"),
    "rule": ("kubevet.commands.rule", "print one rule's documentation"),
    "fix": ("kubevet.commands.fix", "apply the fixes kubevet can prove, keeping formatting"),
    "upgrade": ("kubevet.commands.upgrade", "can I upgrade my cluster to version X?"),
    "netpol": ("kubevet.commands.netpol", "who can talk to whom under network policies"),
    "footprint": ("kubevet.commands.footprint", "energy and carbon estimate per workload"),
}

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubevet",
        description="Vet Kubernetes workloads: Helm charts, manifests and Kustomize overlays.",
    )
    parser.add_argument("--version", action="version", version=f"kubevet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        try:
            cmd = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue  # a command still being built is simply not offered
        p = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "_module", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(importlib.import_module(args._module).run(args))
    except UsageError as exc:
        print(f"kubevet: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


class UsageError(Exception):
    """A bad flag value or config; printed without a traceback, exit code 2."""
