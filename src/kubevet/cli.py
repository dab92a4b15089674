"""Argument parsing and wiring only. Each subcommand lives in kubevet.commands.<name>,
whose top level imports nothing heavy, so `kubevet --help` and `--version` stay fast."""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any, NoReturn

from kubevet import __version__
from kubevet.commands.exits import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, UsageError
from kubevet.progress import terminal_columns
from kubevet.standin import stand_in, standing_in


def _untranslated(message: str) -> str:
    return message


def _untranslated_n(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


# argparse asks gettext to translate each of its own strings: Python ships no translation
# of them, yet each look-up read the locale variables and checked for a file (~0.1 ms,
# nine in a check's start-up), and gettext imports locale. Its stand-in answers as gettext
# does where there is no translation.
with standing_in("gettext", stand_in("gettext", gettext=_untranslated, ngettext=_untranslated_n)):
    import argparse

__all__ = ["EXIT_ERROR", "EXIT_FINDINGS", "EXIT_OK", "UsageError", "build_parser", "console"]
__all__ += ["main"]

# name -> (module, one-line help). Adding a command adds one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("kubevet.commands.check", "find misconfigurations in charts, manifests, overlays"),
    "rules": ("kubevet.commands.rules", "list the rules (filterable)"),
    "rule": ("kubevet.commands.rule", "print one rule's documentation"),
    "fix": ("kubevet.commands.fix", "apply the fixes kubevet can prove, keeping formatting"),
    "upgrade": ("kubevet.commands.upgrade", "can I upgrade my cluster to version X?"),
    "netpol": ("kubevet.commands.netpol", "who can talk to whom under network policies"),
    "footprint": ("kubevet.commands.footprint", "energy and carbon estimate per workload"),
    "ask": ("kubevet.commands.ask", "answer a question in plain language from kubevet's analyses"),
    "merge": ("kubevet.commands.merge", "join the shard files of `check --shard` into one report"),
    "completion": ("kubevet.commands.completion", "print a shell completion script"),
}


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, the terminal's width read without shutil: argparse makes a
    formatter for every argument added (to check its metavar), and its default asks
    shutil.get_terminal_size, whose import (bz2 and lzma with it) was ~3 ms of every run's
    start-up. The same width as shutil's (progress.terminal_columns), less 2."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class Parser(argparse.ArgumentParser):
    """argparse with "did you mean" on mistyped flags, commands and choices (Python 3.11's
    argparse has none), and usage errors that raise instead of exiting mid-run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}{self.suggestion(message)}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)

    def suggestion(self, message: str) -> str:
        import difflib

        if message.startswith("unrecognized arguments:"):
            flags = [a for a in message.split(":", 1)[1].split() if a.startswith("-")]
            known = [o for o in self._option_string_actions if o.startswith("--")]
            for flag in flags:
                close = difflib.get_close_matches(flag.split("=", 1)[0], known, n=1)
                if close:
                    return f"; did you mean {close[0]}?"
            return ""
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = re.findall(r"'([^']*)'", choice.group(2))
            close = difflib.get_close_matches(choice.group(1), options, n=1)
            return f"; did you mean {close[0]!r}?" if close else ""
        return ""


def add_global_arguments(p: argparse.ArgumentParser, default: object) -> None:
    """Flags accepted before and after the command (`kubevet --debug check` and
    `kubevet check --debug`); the subcommand's copy leaves the value alone unless given."""
    p.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="show the traceback of an internal error",
    )
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=default,
        help="colour the output (default auto: a terminal, unless NO_COLOR; FORCE_COLOR forces)",
    )


def build_parser(only: str | None = None) -> Parser:
    """The whole parser, or with `only` the arguments of that one command ("": none); every
    command is still listed for help and "did you mean", but only `only`'s module is
    imported: the others' imports and ~200 argument definitions cost a tenth of a second."""
    parser = Parser(
        prog="kubevet",
        description="Vet Kubernetes workloads: Helm charts, manifests and Kustomize overlays.",
    )
    parser.add_argument("--version", action="version", version=f"kubevet {__version__}")
    add_global_arguments(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Commands())
    for name, (module, help_text) in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=help_text, listed_only=True)
            continue
        try:
            _import_dataclasses()  # before the command's modules do
            cmd = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue  # a command still being built is simply not offered
        p = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_arguments(p)
        add_global_arguments(p, argparse.SUPPRESS)
        p.set_defaults(_module=module)
    return parser


class _Commands:
    """The subcommands' parser_class: a command's own Parser, or for the commands only
    listed (build_parser's `only` names another) one Parser that all of them share, which
    nothing parses with: argparse makes each parser's help text and group titles through
    gettext, whose every look-up misses and stats locale files again (~70 us each)."""

    def __init__(self) -> None:
        self.listed: Parser | None = None

    def __call__(self, *, listed_only: bool = False, **kwargs: Any) -> Parser:
        if not listed_only:
            return Parser(**kwargs)
        if self.listed is None:
            self.listed = Parser(prog=kwargs["prog"].rpartition(" ")[0] + " COMMAND")
        return self.listed


def console() -> NoReturn:
    """The `kubevet` command (and `python -m kubevet`): main's exit code, the process ended
    without the interpreter's teardown where that has nothing to do (kubevet.exiting).
    The cycle collector is off while the command is parsed and imported (kubevet.__main__
    turns it off before its imports): start-up makes next to no cyclic garbage, and the
    collector walked what it built (about 1.5 ms of a check's start-up)."""
    import gc

    from kubevet.exiting import ends_here, exit_now

    gc.disable()
    _START_UP["collector off"] = True
    ends_here()
    exit_now(main())


# What this process's start (console) has done that the command's own start undoes.
_START_UP: dict[str, bool] = {}


def _collector_back_on() -> None:
    """The collector on again for the command, where console turned it off; what start-up
    built is frozen first (it lives to the end), so that the collector neither walks it
    nor starts a collection of all of it at once."""
    if _START_UP.pop("collector off", False):
        import gc

        gc.freeze()
        gc.enable()


def _import_dataclasses() -> None:
    """Import dataclasses (the commands' modules do) with a stand-in for `inspect`, which
    imports it when first used. dataclasses uses inspect only to write the signature of a
    class without a docstring (kubevet's all have one: tests/test_startup_imports), and
    inspect imports ast, dis and tokenize: about 3 ms of a check's start-up."""
    from kubevet.standin import ImportedWhenUsed, standing_in

    if "dataclasses" not in sys.modules:
        with standing_in("inspect", ImportedWhenUsed("inspect")):
            import dataclasses  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Every outcome is an exit code: 0 clean, 1 findings, 2 usage, input or internal
    error (one line on stderr; the traceback only with --debug)."""
    parser = build_parser(_command_of(sys.argv[1:] if argv is None else argv))
    try:
        args = _parse(parser, argv)
    except SystemExit as exc:  # usage errors (2) and --help / --version (0)
        return int(exc.code or 0)
    if not getattr(args, "_module", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    from kubevet import signals

    try:
        with signals.sigterm_stops():
            command = importlib.import_module(args._module)
            _collector_back_on()
            return int(command.run(args))
    except UsageError as exc:
        return _fail(str(exc), args)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (signals.Terminated)
        return signals.stopped(exc)
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (`| head`): nothing left to say
        return EXIT_OK
    except OSError as exc:
        if args.debug:
            _print_traceback()
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}", args)
    except Exception as exc:  # a bug: one line and exit 2, never a bare traceback
        from kubevet.rules.registry import PluginError

        if isinstance(exc.__cause__, KeyboardInterrupt):  # Python 3.11 wraps one raised in
            return signals.stopped(exc.__cause__)  # a class's set-up (__set_name__)
        if isinstance(exc, PluginError):  # someone else's rule pack: its own message
            return _fail(str(exc), args)
        if args.debug:
            _print_traceback()
            return _fail(f"internal error: {type(exc).__name__}: {exc}", args)
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            args,
        )


def _print_traceback() -> None:
    import traceback  # only with --debug: not imported on every run

    traceback.print_exc()


def _command_of(argv: list[str]) -> str | None:
    """Which command's parser to build in full: the command named in `argv` (after global
    flags), "" for none (`--version`, `--help`, a mistyped command: every command is listed
    without its arguments), or None for all of them (`completion` describes them all)."""
    previous = ""
    for arg in argv:
        if not arg.startswith("-") and previous != "--color":
            if arg == "completion":
                return None
            return arg if arg in COMMANDS else ""
        previous = arg
    return ""


def _parse(parser: Parser, argv: list[str] | None) -> argparse.Namespace:
    """parse_args, but an unknown flag is reported by the command's own parser, which
    knows the flags to suggest."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        chosen = _subparser(parser, getattr(args, "command", None)) or parser
        chosen.error(f"unrecognized arguments: {' '.join(extras)}")
    args.debug = bool(getattr(args, "debug", None))
    args.color = getattr(args, "color", None) or "auto"
    return args


def _subparser(parser: Parser, name: str | None) -> Parser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name:
            return action.choices.get(name)  # type: ignore[return-value]
    return None


def _fail(message: str, args: argparse.Namespace) -> int:
    from kubevet.commands._output import error

    error(message, args)
    return EXIT_ERROR


def _silence_stdout() -> None:
    import contextlib
    import os

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
