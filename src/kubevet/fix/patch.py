"""Suggested template patches for findings no values key can fix.

The anchor is the template line the trace found: the field itself (its value is
replaced) or its nearest existing ancestor (the missing fields are inserted below it,
inside the first `- ` item when the path goes through a list).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml

from kubevet.findings import Edit, Finding
from kubevet.model import format_path
from kubevet.report._location import display_path


def suggest_patch(f: Finding, edits: tuple[Edit, ...]) -> str:
    """A unified diff against the template, or a plain description when none can be placed."""
    line = f.trace.template_line if f.trace else None
    lines = _read(f.origin.file)
    sets = [e for e in edits if e.op == "set"]
    if not lines or not line or not sets or line > len(lines):
        return _describe(edits)
    new = _apply(lines, line - 1, sets)
    if new == lines:
        return _describe(edits)
    name = display_path(f.origin.file)  # `git apply` and `patch -p1` take it from here
    return "".join(difflib.unified_diff(lines, new, f"a/{name}", f"b/{name}"))


def _apply(lines: list[str], idx: int, edits: list[Edit]) -> list[str]:
    text = lines[idx]
    m = re.match(r"^(\s*(?:-\s+)?)([\w.-]+)\s*:", text)
    anchor = m.group(2) if m else None
    last = [p for p in edits[0].path if isinstance(p, str)][-1]
    if m and anchor == last and len(edits) == 1:  # the field is here: change its value
        return [*lines[:idx], f"{m.group(1)}{last}: {_flow(edits[0].value)}\n", *lines[idx + 1 :]]
    tree: dict[str, Any] = {}
    through_list = False
    for e in edits:
        tail, listed = _tail(e.path, anchor)
        through_list |= listed
        node = tree
        for part in tail[:-1]:
            node = node.setdefault(part, {})
        node[tail[-1]] = e.value
    indent = len(text) - len(text.lstrip()) + (2 if text.rstrip().endswith(":") else 0)
    if through_list:  # go inside the first item of the list below the anchor
        item = next(
            (i for i in range(idx + 1, len(lines)) if lines[i].lstrip().startswith("-")), None
        )
        if item is not None:
            idx = item
            indent = len(lines[item]) - len(lines[item].lstrip()) + 2
    dumped = yaml.safe_dump(tree, default_flow_style=False, sort_keys=False)
    insert = [" " * indent + ln + "\n" for ln in dumped.splitlines()]
    return [*lines[: idx + 1], *insert, *lines[idx + 1 :]]


def _tail(path: tuple[Any, ...], anchor: str | None) -> tuple[list[str], bool]:
    """The key names below the anchor, and whether a list index sits right below it."""
    if anchor in path:
        at = len(path) - 1 - list(reversed(path)).index(anchor)
        rest = path[at + 1 :]
        return [p for p in rest if isinstance(p, str)] or [str(path[-1])], bool(
            rest and isinstance(rest[0], int)
        )
    return [str(path[-1])], False


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).split("\n...")[0].strip()


def _read(path: str) -> list[str] | None:
    from kubevet.findings import InputError
    from kubevet.sources.reader import read_bytes

    try:  # regular files only, size-bounded
        return read_bytes(path).decode("utf-8").splitlines(keepends=True)
    except (InputError, UnicodeDecodeError):
        return None


def _describe(edits: tuple[Edit, ...]) -> str:
    out = []
    for e in edits:
        value = "" if e.op == "remove" else f" = {e.value!r}"
        out.append(f"  {e.op} {format_path(e.path)}{value}")
    return "\n".join(out)
