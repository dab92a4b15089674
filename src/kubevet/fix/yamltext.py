"""Edit one YAML document's text in place, touching only the lines of the edited fields.

Block-style documents (what people write by hand) are edited as text: a scalar value is
replaced where it stands, a missing key is inserted as new lines after its parent's last
line at the parent's indentation, a key or list item is removed with its lines. Anything
else (flow collections, a key that is the first of a `- ` item, a collection replaced
by a scalar) falls back to a ruamel.yaml round-trip of the document, which keeps its
comments, key order and quoting but may reindent it.
"""

from __future__ import annotations

import io
from typing import Any

import yaml

from kubevet.findings import Edit
from kubevet.fix.edits import _ordered

_Loader = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader


class Unsupported(Exception):
    """The text edit cannot be done surgically; use the ruamel round-trip."""


def edit_document(text: str, index: int, edits: list[Edit]) -> tuple[str, bool]:
    """(new text, reformatted?) for document `index` of `text` with `edits` applied."""
    try:
        out = text
        for e in _ordered(edits):
            out = _edit_text(out, index, e)
        return out, False
    except Unsupported:
        return _ruamel_edit(text, index, edits), True


def _edit_text(text: str, index: int, e: Edit) -> str:
    node = list(yaml.compose_all(text, Loader=_Loader))[index]
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    at = _Pos(text, starts)
    parent, key_node, child, depth = _descend(node, e.path)
    if e.op == "set":
        if child is not None and depth == len(e.path):
            return _replace_value(at, child, e.value)
        return _insert(at, parent, e.path[depth:], e.value)
    if e.op == "append":
        if child is not None and depth == len(e.path):
            if not isinstance(child, yaml.SequenceNode) or child.flow_style or not child.value:
                raise Unsupported
            return _insert_item(at, child, e.value)
        return _insert(at, parent, e.path[depth:], [e.value])
    if child is None or depth < len(e.path):
        return text  # nothing to remove
    return _remove(at, parent, key_node, child)


class _Pos:
    def __init__(self, text: str, starts: list[int]) -> None:
        self.text = text
        self.starts = starts

    def offset(self, mark: Any) -> int:
        return self.starts[mark.line] + mark.column

    def line_end(self, line: int) -> int:
        return self.starts[min(line + 1, len(self.starts) - 1)]


def _descend(node: Any, path: tuple[Any, ...]) -> tuple[Any, Any, Any, int]:
    """(deepest existing parent, key node, node at path or None, how deep it got)."""
    parent, key_node, cur = None, None, node
    for depth, part in enumerate(path):
        found = None
        if isinstance(part, str) and isinstance(cur, yaml.MappingNode):
            found = next(((k, v) for k, v in cur.value if k.value == part), None)
        elif isinstance(part, int) and isinstance(cur, yaml.SequenceNode):
            found = (None, cur.value[part]) if 0 <= part < len(cur.value) else None
        if found is None:
            return cur, None, None, depth
        parent, (key_node, cur) = cur, found
    return parent, key_node, cur, len(path)


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6)
    return text.split("\n...")[0].rstrip("\n")


def _replace_value(at: _Pos, node: Any, value: Any) -> str:
    if not isinstance(node, yaml.ScalarNode) or isinstance(value, dict | list):
        raise Unsupported
    if node.start_mark.line != node.end_mark.line:
        raise Unsupported
    start, end = at.offset(node.start_mark), at.offset(node.end_mark)
    return at.text[:start] + _scalar(value) + at.text[end:]


def _last_line(node: Any) -> int:
    """The last line holding content of `node` (block collections end at the next token)."""
    while isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style:
        if not node.value:
            break
        node = node.value[-1][1] if isinstance(node, yaml.MappingNode) else node.value[-1]
    end = node.end_mark
    return end.line - 1 if end.column == 0 else end.line


def _insert(at: _Pos, parent: Any, rest: tuple[Any, ...], value: Any) -> str:
    if not isinstance(parent, yaml.MappingNode) or parent.flow_style or not parent.value:
        raise Unsupported
    if any(not isinstance(p, str) for p in rest):
        raise Unsupported
    indent = parent.value[0][0].start_mark.column
    step = _indent_step(parent) or 2
    for part in reversed(rest[1:]):
        value = {part: value}
    block = yaml.safe_dump({rest[0]: value}, default_flow_style=False, sort_keys=False, indent=step)
    new = "".join(" " * indent + line + "\n" for line in block.splitlines())
    pos = at.line_end(_last_line(parent))
    text = at.text
    if pos > 0 and not text[:pos].endswith("\n"):
        new = "\n" + new
    return text[:pos] + new + text[pos:]


def _indent_step(node: Any) -> int | None:
    for _k, v in node.value:
        if isinstance(v, yaml.MappingNode) and v.value and not v.flow_style:
            return v.value[0][0].start_mark.column - node.value[0][0].start_mark.column
    return None


def _insert_item(at: _Pos, seq: Any, value: Any) -> str:
    last = seq.value[-1]
    if not isinstance(last, yaml.ScalarNode) or isinstance(value, dict | list):
        raise Unsupported
    line_start = at.starts[last.start_mark.line]
    prefix = at.text[line_start : at.offset(last.start_mark)]
    if prefix.strip() != "-":
        raise Unsupported
    pos = at.line_end(last.end_mark.line)
    new = prefix + _scalar(value) + "\n"
    if not at.text[:pos].endswith("\n"):
        new = "\n" + new
    return at.text[:pos] + new + at.text[pos:]


def _remove(at: _Pos, parent: Any, key_node: Any, child: Any) -> str:
    first = key_node if key_node is not None else child
    line = first.start_mark.line
    before = at.text[at.starts[line] : at.offset(first.start_mark)]
    if key_node is None:
        if before.strip() != "-" or isinstance(child, yaml.MappingNode | yaml.SequenceNode):
            raise Unsupported
    elif before.strip() or (isinstance(parent, yaml.MappingNode) and parent.flow_style):
        raise Unsupported  # first key of a `- ` item, or a flow mapping
    if isinstance(parent, yaml.MappingNode) and len(parent.value) == 1:
        raise Unsupported  # the parent would become an empty block
    if isinstance(parent, yaml.SequenceNode) and (parent.flow_style or len(parent.value) == 1):
        raise Unsupported
    end = at.line_end(_last_line(child))
    return at.text[: at.starts[line]] + at.text[end:]


def _ruamel_edit(text: str, index: int, edits: list[Edit]) -> str:
    from ruamel.yaml import YAML

    from kubevet.fix.edits import apply_edit

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 10**6
    rt.indent(mapping=2, sequence=4, offset=2)
    docs = list(rt.load_all(text))
    for e in _ordered(edits):
        apply_edit(docs[index], e)
    buf = io.StringIO()
    rt.explicit_start = text.lstrip().startswith("---")
    rt.dump_all(docs, buf)
    return buf.getvalue()
