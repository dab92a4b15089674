"""The template line behind a rendered field, found by matching the template source.

Helm does not keep a map from output to template lines, so the line is found by what the
template says: the `.Values` reference of the traced key (`.Values.a.b.c`, or a suffix of
it under `with`/`include`), else a `field: value` line for a hard-coded field, else the
line of the nearest existing ancestor key (where an absent field would go).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from kubevet.model import K8sObject, Path

if TYPE_CHECKING:
    from kubevet.traced import Trace


def template_line(obj: K8sObject, trace: Trace, source_dir: str | None = None) -> int | None:
    """`source_dir`: an expanded copy of the chart, for templates inside archives (a chart
    `.tgz`, or a subchart shipped as one) that have no file of their own on disk."""
    from kubevet.trace.blame import read_lines, template_file

    lines = read_lines(obj.origin.file) if not obj.origin.file.count("!") else None
    if not lines and source_dir and obj.origin.template:
        lines = read_lines(template_file(source_dir, obj.origin.template))
    if not lines:
        return None
    if trace.key:
        found = _values_ref(lines, _in_scope(trace.key, obj.origin.template or ""))
        if found:
            return found
    fields = [p for p in trace.path if isinstance(p, str)]
    if trace.status == "hard-coded" and fields:
        value = obj.get(trace.path)
        found = _field_line(lines, fields[-1], value, _start(lines, fields[:-1]))
        if found:
            return found
    present = [p for p in (trace.created[:-1] if trace.created else trace.path)]
    names = [p for p in present if isinstance(p, str)]
    for cut in range(len(names), 0, -1):
        found = _field_line(lines, names[cut - 1], None, _start(lines, names[: cut - 1]))
        if found:
            return found
    return None


def _start(lines: tuple[str, ...], ancestors: list[str]) -> int:
    """Where the field's ancestors appear in order (`readinessProbe:` then `httpGet:`), so
    that a `host:` is looked for under the right probe; ancestors written elsewhere (in a
    helper) are skipped."""
    start = 0
    for name in ancestors:
        found = _field_line(lines, name, None, start)
        start = found if found else start
    return start


def _in_scope(key: Path, template: str) -> Path:
    """`db.securityContext.x` as the subchart `db`'s templates say it: `securityContext.x`."""
    from kubevet.trace.blame import scope_of

    scope = scope_of(template)
    return key[len(scope) :] if scope and key[: len(scope)] == scope else key


def _values_ref(lines: tuple[str, ...], key: Path) -> int | None:
    names = [str(p) for p in key if isinstance(p, str)]
    for start in range(len(names)):  # the full reference first, then shorter suffixes
        found = _first_line(lines, "." + ".".join(names[start:]), r"(?![\w])")
        if found:
            return found
        if len(names) - start <= 1:
            break
    # An absent key under a map the template inserts whole (`toYaml .Values.a.b`): the line
    # that references the longest prefix of the key.
    for end in range(len(names) - 1, 0, -1):
        found = _first_line(lines, ".Values." + ".".join(names[:end]), r"(?![\w.])")
        if found:
            return found
    return None


def _first_line(lines: tuple[str, ...], needle: str, after: str) -> int | None:
    """The first line holding `needle` followed by what `after` allows. Lines without the
    needle are passed over by a substring test (a pattern tried on every line, for every
    suffix of every key, was the largest part of tracing's own Python time)."""
    pattern = None
    for i, text in enumerate(lines, 1):
        if needle in text:
            pattern = pattern or re.compile(re.escape(needle) + after)
            if pattern.search(text):
                return i
    return None


def _field_line(lines: tuple[str, ...], name: str, value: Any, start: int = 0) -> int | None:
    """The first `name:` line after line `start` (holding `value` if one does)."""
    pattern = _field_pattern(name)
    first = None
    for i, text in enumerate(lines[start:], start + 1):
        m = pattern.match(text) if name in text else None
        if not m:
            continue
        if value is None or _same(m.group(1), value):
            return i
        first = first or i
    return first


@functools.lru_cache(maxsize=1024)
def _field_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*(?:-\s+)?{re.escape(name)}\s*:(.*)$")


def _same(text: str, value: Any) -> bool:
    raw = text.split("#", 1)[0].strip().strip("\"'")
    if isinstance(value, bool):
        return raw.lower() == str(value).lower()
    return raw == str(value)
