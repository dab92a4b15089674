"""Human output: findings grouped by input and object, a one-line summary at the end."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from kubevet.findings import Finding, Severity
from kubevet.plurals import counted
from kubevet.result import Report

_COLORS = {
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
    Severity.INFO: "\033[2m",
}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def render(report: Report, color: bool = False, diagnostics: bool = True) -> str:
    """`diagnostics=False` leaves out the error and warning lines (for the console, where
    they were already printed on stderr); the summary still counts the errors."""

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    lines: list[str] = []
    for err in report.errors if diagnostics else ():
        lines.append(paint("error: ", _COLORS[Severity.HIGH]) + str(err))
    for warning in report.warnings if diagnostics else ():
        lines.append(paint("warning: ", _COLORS[Severity.MEDIUM]) + warning)
    if lines:
        lines.append("")
    active = report.active
    for label, by_input in groupby(active, key=lambda f: f.input):
        lines.append(paint(label, _BOLD))
        for _, items in groupby(by_input, key=lambda f: (f.origin.file, f.object)):
            items = list(items)
            first = items[0]
            lines.append(f"  {first.object}  " + paint(_where(first), _DIM))
            for f in items:
                sev = paint(f"{f.severity!s:8}", _COLORS[f.severity])
                lines.append(f"    {f.code} {sev} {f.message}")
                detail = f.path_text
                if f.line and f.origin.file:
                    detail += f"  ({_loc(f)})"
                if f.trace and f.trace.values_keys:
                    detail += f"  values: {', '.join(f.trace.values_keys)}"
                elif f.trace:
                    detail += f"  ({f.trace.answer})"
                if f.trace and f.trace.template_line:
                    detail += f"  [{f.trace.template}:{f.trace.template_line}]"
                elif f.source_line:
                    detail += f"  [{f.origin.template}:{f.source_line}]"
                if detail:
                    lines.append("      " + paint(detail, _DIM))
        lines.append("")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _where(f: Finding) -> str:
    o = f.origin
    if not o.file:  # read from a cluster: no file, maybe a Helm release
        return f"(cluster{', release ' + o.release if o.release else ''})"
    if o.template and o.rendered:
        return f"{o.template} (rendered line {o.line})"
    if o.template:  # a saved or piped `helm template` output
        return f"{o.file}:{o.line} (template {o.template})"
    return f"{o.file}:{o.line}" if o.line else o.file  # no line: a generated object


def _loc(f: Finding) -> str:
    if f.origin.rendered:
        return f"rendered line {f.line}"
    return f"{f.origin.file}:{f.line}" if f.line else f.origin.file


def summary(report: Report) -> str:
    active = report.active
    by_sev = Counter(f.severity for f in active)
    parts = [f"{by_sev[s]} {s}" for s in sorted(by_sev, reverse=True)]
    objects = sum(g.objects for g in report.groups)
    suppressed = len(report.findings) - len(active)
    text = counted(len(active), "finding") + (f" ({', '.join(parts)})" if parts else "")
    text += f" in {counted(objects, 'object')} from {counted(len(report.groups), 'input')}"
    if suppressed:
        text += f"; {suppressed} suppressed"
    if report.errors:
        text += f"; {counted(len(report.errors), 'input error')}"
    return text
