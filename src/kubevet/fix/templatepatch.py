"""Lever 3, for the chart's maintainer: one template change per place, read from a new
values key whose default is the fix.

All the fixes anchored at one template line are merged into one block (two findings that
each add a field under `securityContext:` of one container become one `securityContext:`),
each block reads a values key added to the chart's values.yaml (so users can still choose),
and the changed chart is proven like the other levers: copied, rendered with the user's
values, checked again. The result is one unified diff that `git apply` takes.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from typing import Any

from kubevet.findings import Edit, Finding
from kubevet.fix.patch import _read, _tail
from kubevet.fix.yamlout import dump
from kubevet.model import K8sObject, get_path
from kubevet.report._location import ARCHIVE_SEP

ANCHOR = re.compile(r"^(\s*(?:-\s+)?)([\w.-]+)\s*:(.*)$")


@dataclass
class Block:
    """Fields inserted below one template line (inside its first list item when the
    path goes through a list)."""

    file: str
    after: int  # 0-based index of the line the block goes below
    indent: int
    tree: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    container: str | None = None


@dataclass
class Plan:
    blocks: list[Block] = field(default_factory=list)
    refused: list[tuple[Finding, str]] = field(default_factory=list)


def plan(fixes: list[tuple[Finding, tuple[Edit, ...]]]) -> Plan:
    """Where each fix goes in its template, the fixes at one place merged."""
    out = Plan()
    places: dict[tuple[str, int, int], Block] = {}
    for f, edits in fixes:
        found = _place(f, edits)
        if isinstance(found, str):
            out.refused.append((f, found))
            continue
        file, after, indent, tree, listed = found
        block = places.get((file, after, indent))
        if block is None:
            owner = f.container if listed else None  # a container's fields, or the pod's
            block = places[(file, after, indent)] = Block(file, after, indent, {}, [], owner)
            out.blocks.append(block)
        clash = _merge(block.tree, tree)
        if clash:
            out.refused.append((f, f"another fix sets {clash} differently at the same place"))
            continue
        block.findings.append(f)
    return out


def _place(f: Finding, edits: tuple[Edit, ...]) -> tuple[str, int, int, dict[str, Any], bool] | str:
    """(template, line index, indent, fields, inside a list item) of a fix, or why it
    cannot be placed."""
    sets = [e for e in edits if e.op == "set"]
    line = f.trace.template_line if f.trace else None
    if not sets or len(sets) != len(edits):
        return "the fix removes fields; a template change for it is not generated"
    if not line or ARCHIVE_SEP in f.origin.file:
        return "no template line to change (or the template is inside a packaged chart)"
    if os.path.basename(f.origin.file).startswith("_"):
        return "the field is written by a named template (a helper file)"
    lines = _read(f.origin.file) or []
    if line > len(lines):
        return "the template line is past the end of the file"
    idx = _own_document(f, lines, line - 1)
    if idx is None:
        return "the template line found is in another document of the file than the object"
    m = ANCHOR.match(lines[idx].rstrip("\n"))
    if m is None:
        return "the template line is not a `key:` line"
    if m.group(3).strip():
        return "the anchor line holds a value; changing it is left to the maintainer"
    indent = len(m.group(1)) + 2
    anchor = m.group(2)
    if anchor not in sets[0].path:
        return "the template line is not an ancestor the fix's fields can go below"
    tree: dict[str, Any] = {}
    items = set()
    for e in sets:
        tail, listed = _tail(e.path, anchor)
        if _written(f, e.path, anchor, listed, tail[0]):
            return (
                f"the render already has {tail[0]} where the template line is (a helper "
                "writes it): a block there would repeat the key"
            )
        if listed:
            items.add(e.path[len(e.path) - 1 - e.path[::-1].index(anchor) + 1])
        node = tree
        for part in tail[:-1]:
            node = node.setdefault(part, {})
        node[tail[-1]] = e.value
    if len(items) > 1:
        return "the fix's fields go into several items of one list"
    listed = bool(items)
    if items:  # inside that item of the list below the anchor
        item = _item_line(lines, idx, int(items.pop()))
        if item is None:
            return "the list item below the template line was not found"
        idx = item
        indent = len(lines[item]) - len(lines[item].lstrip()) + 2
    return f.origin.file, idx, indent, tree, listed


def _written(f: Finding, path: tuple[Any, ...], anchor: str, listed: bool, key: str) -> bool:
    """Whether the object already has `key` in the node the block would go into."""
    at = len(path) - 1 - path[::-1].index(anchor)
    node = path[: at + 2] if listed else path[: at + 1]
    data = f.obj.data if isinstance(f.obj, K8sObject) else None
    return data is not None and get_path(data, (*node, key), _MISSING) is not _MISSING


_MISSING = object()


def _own_document(f: Finding, lines: list[str], idx: int) -> int | None:
    """The line at the same key path as line `idx` in the template document the object
    comes from (the trace matches template text from the top of the file, so in a file of
    several documents it may name an earlier document's line); None when that line is
    not in the object's document and no single line there has its key path."""
    from kubevet.trace.place import TemplateKeys, documents_for

    template = TemplateKeys(tuple(lines))
    keyed = template.keys
    docs = documents_for(f.obj, template) if isinstance(f.obj, K8sObject) else None
    at = next((k for k in keyed if k.number == idx + 1), None)
    if docs is None or (at is not None and at.doc in docs):
        return idx  # one document, or which one is unclear: the line as traced
    same = [k for k in keyed if at is not None and k.doc in docs and k.keys == at.keys]
    return same[0].number - 1 if len(same) == 1 else None


def _item_line(lines: list[str], anchor: int, n: int) -> int | None:
    """The line starting the n-th `- ` item of the list below line `anchor` (only when
    the items are written out, one `- ` per item at one indentation)."""
    base = len(lines[anchor]) - len(lines[anchor].lstrip())
    seen, at = 0, None
    for i in range(anchor + 1, len(lines)):
        text = lines[i]
        stripped = text.strip()
        if not stripped or stripped.startswith(("{{", "#")):
            continue
        indent = len(text) - len(text.lstrip())
        if indent <= base and not stripped.startswith("-"):
            break
        if stripped.startswith("-") and (at is None or indent == at):
            at = indent
            if seen == n:
                return i
            seen += 1
        elif at is not None and indent < at:
            break
    return None


def _merge(into: dict[str, Any], extra: dict[str, Any], at: str = "") -> str | None:
    """Merge `extra` into `into`; the key both set to different values, if any."""
    for k, v in extra.items():
        here = f"{at}.{k}" if at else k
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            clash = _merge(into[k], v, here)
            if clash:
                return clash
        elif k in into and into[k] != v:
            return here
        else:
            into[k] = v
    return None


def chart_dir_of(template: str) -> str:
    """The chart a template belongs to (the directory above its `templates/`)."""
    parts = os.path.abspath(template).split(os.sep)
    at = len(parts) - 1 - parts[::-1].index("templates")
    return os.sep.join(parts[:at])


def edit_texts(blocks: list[Block], taken: dict[str, set[str]]) -> dict[str, str]:
    """The new text of every file the blocks change: templates, and the values.yaml of
    their charts with one new key per inserted field (its default: the fix)."""
    texts: dict[str, list[str]] = {}
    added: dict[str, dict[str, Any]] = {}
    for block in sorted(blocks, key=lambda b: (b.file, -b.after)):
        lines = texts.setdefault(block.file, list(_read(block.file) or []))
        chart = chart_dir_of(block.file)
        names = taken.setdefault(chart, set())
        new = []
        for k, v in block.tree.items():
            name = _key_name(block, k, names)
            names.add(name)
            added.setdefault(chart, {})[name] = v
            new += _reader(k, v, name, block.indent)
        lines[block.after + 1 : block.after + 1] = new
    out = {path: "".join(lines) for path, lines in texts.items()}
    for chart, keys in added.items():
        path = os.path.join(chart, "values.yaml")
        old = "".join(_read(path) or [])
        sep = "" if not old or old.endswith("\n") else "\n"
        out[path] = old + sep + VALUES_HEAD + dump(keys)
    return out


VALUES_HEAD = "\n# Added by `kubevet fix`: defaults that close findings; the templates read them.\n"


def _reader(key: str, value: Any, name: str, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict | list):
        return [
            f"{pad}{key}:\n",
            f"{pad}  {{{{- toYaml $.Values.{name} | nindent {indent + 2} }}}}\n",
        ]
    return [f"{pad}{key}: {{{{ toYaml $.Values.{name} }}}}\n"]


def _key_name(block: Block, key: str, taken: set[str]) -> str:
    stem = os.path.splitext(os.path.basename(block.file))[0]
    kind = block.findings[0].object.kind if block.findings else ""
    owner = block.container or f"{stem} {kind}"
    stem = re.sub(r"[^0-9A-Za-z]+", " ", owner)
    words = [*stem.split(), key]
    base = words[0][:1].lower() + words[0][1:] + "".join(w[:1].upper() + w[1:] for w in words[1:])
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    return name


def unified_diff(texts: dict[str, str], base: str) -> str:
    """One patch for all `texts` (path -> new text), paths relative to `base`."""
    out = []
    for path in sorted(texts):
        old = _read(path) or []
        new = texts[path].splitlines(keepends=True)
        rel = os.path.relpath(path, base).replace(os.sep, "/")
        for ln in difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}"):
            out.append(ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n")
    return "".join(out)
