"""Output plumbing shared by every command that writes a report (check, upgrade, netpol,
footprint): one convention for formats and files, colour, and diagnostics on stderr.

    --format text --format sarif=out.sarif     several reports in one run
    --format sarif -o out.sarif                the single-format short form
    --exit-zero                                findings never fail the run (errors still do)

Errors and warnings always go to stderr, whatever the formats, and into each report too;
so with every report in a file the console shows only the diagnostics.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

_RED, _YELLOW, _RESET = "\033[31m", "\033[33m", "\033[0m"


@dataclass(frozen=True)
class Output:
    """One report to write: its format and file (None: stdout)."""

    fmt: str
    path: str | None  # None: stdout


def add_output_arguments(
    p: argparse.ArgumentParser, formats: Iterable[str], default: str | None = "text"
) -> None:
    formats = tuple(formats)
    names = ", ".join(formats)
    action = p.add_argument(
        "--format",
        action="append",
        metavar="FMT[=FILE]",
        help=f"output format, repeatable; FMT=FILE writes that report to FILE ({names}; "
        f"default: {default or 'from config, else text'})",
    )
    action.formats = formats  # type: ignore[attr-defined]  # for shell completion
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write the report to FILE (one format only)"
    )
    p.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even when findings would fail the run (errors still exit 2)",
    )


def parse_outputs(
    args: argparse.Namespace,
    formats: Iterable[str],
    default: str,
    aliases: Mapping[str, str] | None = None,
) -> list[Output]:
    """The reports to write, checked before any work: known formats, at most one on
    stdout, each file in an existing directory and named once."""
    from kubevet.commands.exits import UsageError

    known = list(formats)
    specs = list(args.format or [default])
    outs: list[Output] = []
    for spec in specs:
        fmt, sep, path = spec.partition("=")
        fmt = _format_name(fmt.strip().lower(), known, aliases or {}, args)
        if sep and not path:
            raise UsageError(f"--format {spec}: name the file after '='")
        outs.append(Output(fmt, path or None))
    if args.output:
        to_stdout = [o for o in outs if o.path is None]
        if len(outs) > 1 or not to_stdout:
            raise UsageError("-o/--output takes one format; for several use --format FMT=FILE")
        outs = [Output(outs[0].fmt, args.output)]
    if sum(o.path is None for o in outs) > 1:
        raise UsageError("only one report can go to the console; give the others a file")
    paths = [os.path.abspath(o.path) for o in outs if o.path]
    if len(paths) != len(set(paths)):
        raise UsageError("two reports would be written to the same file")
    for o in outs:
        if o.path:
            check_target(o.path, args)
    return outs


def check_target(path: str, args: argparse.Namespace, what: str = "the report") -> None:
    """A file the run will write, checked before any work: writable, and not one it reads."""
    check_writable(path)
    check_not_an_input(path, args, what)


def check_not_an_input(path: str, args: argparse.Namespace, what: str = "the report") -> None:
    """A report written over a file the run reads would destroy it (`kubevet check
    deploy.yaml -o deploy.yaml` replaced the manifest with the report): refused before any
    work. Inside a walked directory, an existing manifest (apiVersion and kind, not a
    report) counts as read; inside a chart directory, every file does."""
    from kubevet.commands.exits import UsageError

    if not os.path.isfile(path):
        return  # a new file overwrites nothing
    named = [p for p in getattr(args, "paths", None) or [] if p != "-"]
    files = [*named, *(getattr(args, "values", None) or []), getattr(args, "config", None)]
    for read in filter(None, files):
        if os.path.isfile(read) and os.path.samefile(read, path):
            raise UsageError(f"cannot write {what} to {path}: it is an input of the run")
    for read in named:
        if os.path.isdir(read) and _inside(path, read) and _read_in_walk(path, read):
            raise UsageError(
                f"cannot write {what} to {path}: the run reads it (it is under {read})"
            )


def _inside(path: str, directory: str) -> bool:
    full, base = os.path.realpath(path), os.path.realpath(directory)
    return full.startswith(base.rstrip(os.sep) + os.sep)


def _read_in_walk(path: str, directory: str) -> bool:
    """Whether a walk of `directory` reads `path` as part of an input: any file of a chart
    (a directory with a Chart.yaml above it, up to `directory`), else a manifest."""
    here = os.path.dirname(os.path.realpath(path))
    top = os.path.realpath(directory)
    while True:
        if os.path.isfile(os.path.join(here, "Chart.yaml")):
            return True
        if here == top or os.path.dirname(here) == here:
            break
        here = os.path.dirname(here)
    if not path.endswith((".yaml", ".yml", ".json")):
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16).decode("utf-8", "replace")
    except OSError:
        return False
    reports = ("PolicyReport", "sarif", '"tool": {"name": "kubevet"')
    return "apiVersion" in head and "kind" in head and not any(r in head for r in reports)


def _format_name(fmt: str, known: list[str], aliases: Mapping[str, str], args: Any) -> str:
    from kubevet.commands.exits import UsageError

    if fmt in known:
        return fmt
    if fmt in aliases:
        warning(f"--format {fmt} is deprecated; use --format {aliases[fmt]}", args)
        return aliases[fmt]
    import difflib

    close = difflib.get_close_matches(fmt, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UsageError(f"unknown format {fmt!r} (expected one of: {', '.join(known)}){hint}")


def check_writable(path: str) -> None:
    """Fail before the run, not after it, when a report cannot be written."""
    from kubevet.commands.exits import UsageError

    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a directory")
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {path}: directory {os.path.dirname(path)} does not exist")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"cannot write {path}: directory is not writable")


def write_outputs(
    outs: list[Output],
    render: Callable[[str, bool, bool], Iterable[str]],
    args: argparse.Namespace,
) -> None:
    """Write each report; `render(fmt, color, console)` gives its text in chunks."""
    for o in outs:
        if o.path is None:
            sys.stdout.writelines(render(o.fmt, use_color(args, sys.stdout), True))
            sys.stdout.flush()
            continue
        _write_report(o.path, render(o.fmt, False, False))


def _write_report(path: str, chunks: Iterable[str]) -> None:
    """Through kubevet's one atomic writer: a half-written report never looks whole. The
    report is written as it is produced, not held whole in memory. A device or a FIFO
    (`/dev/null`, `/dev/stdout`) is written straight through."""
    from kubevet.commands.exits import UsageError
    from kubevet.safewrite import WriteError, write_report

    try:
        write_report(path, chunks)
    except WriteError as exc:
        raise UsageError(str(exc)) from None


def add_allow_empty(p: argparse.ArgumentParser, what: str = "no Kubernetes object") -> None:
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help=f"pass a run that found {what} (default: exit 2)",
    )


def refuse_empty(args: argparse.Namespace, count: int, errors: bool, what: str) -> bool:
    """A run over nothing must not pass silently: True (an error, printed) when `count` is
    0, there is no other error to explain it, and --allow-empty was not given."""
    if count or errors:
        return False
    if getattr(args, "allow_empty", False):
        warning(f"{what} was checked", args)
        return False
    error(f"{what} was checked (pass --allow-empty to accept an empty run)", args)
    return True


def exit_code(args: argparse.Namespace, errors: bool, failing: bool) -> int:
    from kubevet.commands.exits import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK

    if errors:
        return EXIT_ERROR
    if failing and not getattr(args, "exit_zero", False):
        return EXIT_FINDINGS
    return EXIT_OK


def use_color(args: Any, stream: TextIO) -> bool:
    """--color always|never wins; in auto, NO_COLOR turns colour off and FORCE_COLOR on
    (for CI logs), else a terminal gets colour (https://no-color.org, force-color.org)."""
    choice = getattr(args, "color", None) or "auto"
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def diagnostics(errors: Iterable[object], warnings: Iterable[str], args: Any) -> None:
    """Warnings, then errors, on stderr (whatever the output formats)."""
    for w in warnings:
        warning(str(w), args)
    for e in errors:
        error(str(e), args)


def error(message: str, args: Any = None) -> None:
    _say("error", message, _RED, args)


def warning(message: str, args: Any = None) -> None:
    _say("warning", message, _YELLOW, args)


def _say(level: str, message: str, color: str, args: Any) -> None:
    label = f"{color}{level}{_RESET}" if use_color(args, sys.stderr) else level
    print(f"kubevet: {label}: {message}", file=sys.stderr)
