"""Edit one YAML document's text in place, touching only the lines of the edited fields.

Block-style documents (what people write by hand) are edited as text: a scalar value is
replaced where it stands, a missing key is inserted as new lines after its parent's last
line at the parent's indentation, a list item is appended after the last one, a key or
list item is removed with its lines. What cannot be done so (a flow collection, a
collection replacing a scalar, a mapping left empty) re-emits the smallest node around the
edit that can be: a flow node or a one-line scalar on its own span, a block entry
(`key: ...` or `- ...`) on its own lines. Every other line keeps its bytes, and inserted
lines take the document's line ending (LF, CRLF or CR).
"""

from __future__ import annotations

from typing import Any

import yaml

from kubevet.findings import Edit
from kubevet.fix.edits import _ordered, apply_edits
from kubevet.model import format_path, get_path
from kubevet.safewrite import LINE_BREAK, newline_of

_Loader = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader
_MISSING: Any = object()


class Unsupported(Exception):
    """The edit cannot be made on the field's own lines; re-emit an enclosing node."""


def edit_document(text: str, index: int, edits: list[Edit]) -> tuple[str, bool]:
    """(new text, restyled?) for document `index` of `text` with `edits` applied; restyled
    when a node around an edit had to be re-emitted (its own lines only)."""
    nl = newline_of(text)
    out, restyled = text, False
    for e in _ordered(edits):
        try:
            out = _edit_text(out, index, e, nl)
        except Unsupported:
            out = _reemit(out, index, e, nl)
            restyled = True
    return out, restyled


def _ends_line(text: str) -> bool:
    return not text or text[-1] in "\n\r\x85\u2028\u2029"


def _edit_text(text: str, index: int, e: Edit, nl: str) -> str:
    node = list(yaml.compose_all(text, Loader=_Loader))[index]
    at = _Pos(text, nl)
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
    """Offsets of YAML marks (line, column) in `text`, and the line ending to insert with."""

    def __init__(self, text: str, nl: str) -> None:
        self.text, self.nl = text, nl
        # YAML's own line breaks: str.splitlines would also cut at \v or \f and put every
        # later mark on the wrong line
        self.starts = [0, *(m.end() for m in LINE_BREAK.finditer(text))]
        if self.starts[-1] != len(text):
            self.starts.append(len(text))

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
    """`value` in flow style on one line (a scalar, `{a: 1}` or `[x, y]`)."""
    text = yaml.safe_dump(
        value, default_flow_style=True, sort_keys=False, width=10**6, allow_unicode=True
    )
    return text.split("\n...")[0].rstrip("\n")


def _block(value: Any, step: int = 2) -> list[str]:
    """`value` in block style, as lines without their line ending."""
    text = yaml.safe_dump(
        value,
        default_flow_style=False,
        sort_keys=False,
        indent=step,
        width=10**6,
        allow_unicode=True,
    )
    return text.split("\n...")[0].rstrip("\n").split("\n")


def _lines(at: _Pos, prefix: str, lines: list[str], column: int) -> str:
    """`lines` after `prefix`, the later ones indented to `column`, each ended with `nl`."""
    rest = "".join(" " * column + ln + at.nl for ln in lines[1:])
    return prefix + lines[0] + at.nl + rest


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
    new = _lines(at, " " * indent, _block({rest[0]: value}, step), indent)
    pos = at.line_end(_last_line(parent))
    text = at.text
    if not _ends_line(text[:pos]):
        new = at.nl + new
    return text[:pos] + new + text[pos:]


def _indent_step(node: Any) -> int | None:
    for _k, v in node.value:
        if isinstance(v, yaml.MappingNode) and v.value and not v.flow_style:
            return v.value[0][0].start_mark.column - node.value[0][0].start_mark.column
    return None


def _insert_item(at: _Pos, seq: Any, value: Any) -> str:
    """A new `- ` item after the last one, with its prefix (a map or list in block style)."""
    last = seq.value[-1]
    line_start = at.starts[last.start_mark.line]
    prefix = at.text[line_start : at.offset(last.start_mark)]
    if prefix.strip() != "-":
        raise Unsupported
    pos = at.line_end(_last_line(last))
    lines = _block(value) if isinstance(value, dict | list) and value else [_scalar(value)]
    new = _lines(at, prefix, lines, len(prefix))
    if not _ends_line(at.text[:pos]):
        new = at.nl + new
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


def _reemit(text: str, index: int, e: Edit, nl: str) -> str:
    """Apply `e` by re-emitting the deepest node on its path that can be re-emitted in
    place (never the whole document): only that node's lines change."""
    from kubevet.sources.yamldocs import _Loader as DataLoader

    node = list(yaml.compose_all(text, Loader=_Loader))[index]
    data = list(yaml.load_all(text, Loader=DataLoader))[index]
    after = apply_edits(data, [e])
    chain = [(None, None, node)]
    for part in e.path:
        parent, key_node, child, depth = _descend(chain[-1][2], (part,))
        if child is None or depth < 1:
            break
        chain.append((parent, key_node, child))
    at = _Pos(text, nl)
    for depth in range(len(chain) - 1, 0, -1):
        parent, key_node, node = chain[depth]
        value = get_path(after, e.path[:depth], _MISSING)
        if value is _MISSING:
            continue  # the node the edit removes: re-emit its parent
        out = _replace_node(at, parent, key_node, node, value)
        if out is not None:
            return out
    raise ValueError(f"{format_path(e.path)} cannot be edited without re-emitting the document")


def _replace_node(at: _Pos, parent: Any, key_node: Any, node: Any, value: Any) -> str | None:
    """`node` (under `parent`, at `key_node`) re-emitted holding `value`, or None."""
    text = at.text
    start, end = at.offset(node.start_mark), at.offset(node.end_mark)
    one_line = isinstance(node, yaml.ScalarNode) and node.start_mark.line == node.end_mark.line
    if one_line and node.style not in ("|", ">") and start == end and key_node is not None:
        colon = at.offset(key_node.end_mark)  # `key:` with no value: the value goes after
        colon = text.find(":", colon)
        if colon < 0 or text[at.offset(key_node.end_mark) : colon].strip():
            return None
        return text[: colon + 1] + " " + _scalar(value) + text[colon + 1 :]
    if (one_line and node.style not in ("|", ">") and start < end) or getattr(
        node, "flow_style", False
    ):
        return text[:start] + _scalar(value) + text[end:]
    if parent is None or getattr(parent, "flow_style", False):
        return None
    first = key_node if key_node is not None else node
    line_start = at.starts[first.start_mark.line]
    prefix = text[line_start : at.offset(first.start_mark)]
    if prefix.strip() not in ("", "-") or (key_node is None and prefix.strip() != "-"):
        return None
    if key_node is not None:
        step = _indent_step(parent) if isinstance(parent, yaml.MappingNode) else None
        lines = _block({key_node.value: value}, step or 2)
    else:
        lines = _block(value)
    stop = at.line_end(_last_line(node))
    new = _lines(at, prefix, lines, len(prefix))
    if not _ends_line(text[:stop]):
        new = new[: -len(at.nl)]  # the node ended the file without a line break
    return text[:line_start] + new + text[stop:]
