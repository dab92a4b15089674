"""`kubevet completion bash|zsh|fish`: a completion script generated from the parser.

shtab writes the script from the same argparse parser the CLI uses, so new flags complete
without anyone editing a script; it is imported only by this command, so start-up of the
others does not pay for it.
"""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "fish")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.epilog = (
        "bash: kubevet completion bash > /etc/bash_completion.d/kubevet; "
        'zsh: kubevet completion zsh > "${fpath[1]}/_kubevet"; '
        "fish: kubevet completion fish > ~/.config/fish/completions/kubevet.fish"
    )


def run(args: argparse.Namespace) -> int:
    import shtab

    from kubevet.cli import build_parser

    parser = build_parser()
    _complete_paths(parser, shtab.FILE, shtab.DIRECTORY)
    print(shtab.complete(parser, shell=args.shell), end="")
    return 0


def _complete_paths(parser: argparse.ArgumentParser, file: object, directory: object) -> None:
    """Inputs and FILE/DIR options complete file names (shtab reads `action.complete`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _complete_paths(sub, file, directory)
        elif getattr(action, "formats", None):  # --format FMT[=FILE]: complete the names
            action.choices = action.formats  # type: ignore[attr-defined]
        elif action.dest == "paths" or action.metavar in ("FILE", "PATH"):
            action.complete = file  # type: ignore[attr-defined]
        elif action.metavar == "DIR":
            action.complete = directory  # type: ignore[attr-defined]
