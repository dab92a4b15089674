"""GitHub Actions workflow commands: each finding becomes an annotation on the file and line.

    ::error file=deploy/app.yaml,line=24,title=KV105 privileged-container::container ...

Suppressed findings are not annotated. Input errors are `error` annotations, warnings are
`warning` ones; the run's summary line ends the output as plain log text.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubevet.findings import Finding, InputError, Severity
from kubevet.report._location import display_path, file_of, line_of, rendered_note, warning_at
from kubevet.report.text_report import summary
from kubevet.result import Report

COMMANDS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def render(report: Report, color: bool = False) -> str:
    return "".join(iter_render(report))


def iter_render(report: Report) -> Iterator[str]:
    """One line per annotation, written as made (a large run is never held as one text)."""
    for e in report.errors:
        yield _error(e) + "\n"
    for w in report.warnings:
        yield _warning(w) + "\n"
    for f in report.active:
        yield _finding(f) + "\n"
    yield summary(report) + "\n"


def _finding(f: Finding) -> str:
    props: dict[str, str] = {}
    path = file_of(f)
    if path:
        props["file"] = display_path(path)
        line = line_of(f)
        if line:
            props["line"] = str(line)
    props["title"] = f"{f.code} {f.slug}"
    where = f" ({f.path_text})" if f.path else ""
    trace = f"; {f.trace.answer}" if f.trace else ""
    message = f"{f.object}: {f.message}{where}{trace}{rendered_note(f)}"
    return command(COMMANDS[f.severity], props, message)


def _warning(text: str) -> str:
    at = warning_at(text)
    if at is None:
        return command("warning", {"title": "kubevet warning"}, text)
    path, line, message = at
    props = {"file": display_path(path), "line": str(line), "title": "kubevet warning"}
    return command("warning", props, message)


def _error(err: InputError) -> str:
    props: dict[str, str] = {}
    path = err.file.split("!", 1)[0]
    if path and path != "-" and not path.startswith("--"):
        props["file"] = display_path(path)
        if err.line:
            props["line"] = str(err.line)
    props["title"] = "kubevet input error"
    return command("error", props, err.message if "file" in props else str(err))


def command(name: str, props: dict[str, str], message: str) -> str:
    """One workflow command with GitHub's escaping of property values and of the message."""
    joined = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{name}{' ' + joined if joined else ''}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
