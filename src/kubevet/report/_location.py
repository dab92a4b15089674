"""Where a finding points in files the user can open: shared by sarif, junit and github."""

from __future__ import annotations

import functools
import os
import re

from kubevet.findings import Finding, Severity

ARCHIVE_SEP = "!"  # `chart.tgz!templates/x.yaml`: a template inside a packaged chart


def display_path(path: str, cwd: str | None = None) -> str:
    """`path` relative to the working directory (forward slashes) when it lies inside it."""
    here = os.getcwd()
    return _display_path(path, cwd or here, here)


@functools.lru_cache(maxsize=4096)
def _display_path(path: str, cwd: str, here: str) -> str:
    """display_path, worked out once per file and directory: a report asks it for every
    finding, and most findings share a few files (`here`, the process's working directory,
    is in the key because a relative path is read from it)."""
    base = os.path.abspath(cwd)
    full = os.path.abspath(path)
    if full == base or full.startswith(base.rstrip(os.sep) + os.sep):
        return os.path.relpath(full, base).replace(os.sep, "/")
    return full.replace(os.sep, "/")


_WARNING_AT = re.compile(r"(\[[^\]]*\] )?([^\s:][^:]*):(\d+): (.+)", re.DOTALL)


def warning_at(text: str) -> tuple[str, int, str] | None:
    """(file, line, message) of a warning that starts `file:line: ` with a file on disk
    (a values key that changes nothing), so that reports can point at it; else None."""
    found = _WARNING_AT.fullmatch(text)
    if found is None or not os.path.isfile(found.group(2)):
        return None
    return found.group(2), int(found.group(3)), (found.group(1) or "") + found.group(4)


def file_of(f: Finding) -> str | None:
    """The file on disk the finding is in (the archive for a packaged chart); None for stdin."""
    name = f.origin.file
    if not name or name == "-":
        return None
    return name.split(ARCHIVE_SEP, 1)[0] if ARCHIVE_SEP in name else name


def line_of(f: Finding) -> int | None:
    """The line to point at in `file_of(f)`: exact or None.

    For a chart, the traced template line, else the one `kubevet.trace.place` proved,
    else none. A line counted in rendered output
    (a chart render, a Kustomize build) is never paired with the file: it is a line of
    text the user does not have (`rendered_note` names it in words instead). Inside an
    archive there is no useful line.
    """
    if ARCHIVE_SEP in f.origin.file:
        return None
    if f.trace and f.trace.template_line:
        return f.trace.template_line
    if f.origin.rendered:
        return f.source_line
    return f.line or f.origin.line or None


def rendered_note(f: Finding) -> str:
    """Where a finding without a file line sits in the rendered output, in words."""
    if not f.origin.rendered or line_of(f):
        return ""
    line = f.line or f.origin.line
    what = f"template {f.origin.template}" if f.origin.template else "the build output"
    return f" [line {line} of the rendered output of {what}]" if line else ""


def level_of(sev: Severity) -> str:
    """SARIF level: critical/high -> error, medium -> warning, low/info -> note."""
    if sev >= Severity.HIGH:
        return "error"
    return "warning" if sev == Severity.MEDIUM else "note"
