"""The template line of a chart finding without tracing: no renders, only reading.

A finding's field sits at a path in a rendered object. A template line is given only when
it provably wrote that node (or, failing that, the nearest ancestor it wrote):
- its YAML key path in the template (keys by indentation, as Helm leaves the template's
  own lines indented) is the node's path, list indices aside;
- its text is the rendered line's text: equal for a literal line, matched with each
  `{{ ... }}` action standing for any text otherwise;
- it is the only such line in the template document the object came from.
Else no line at all: a location is exact or absent.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubevet.model import K8sObject, Path, get_path

if TYPE_CHECKING:
    from kubevet.findings import Finding

_KEY = re.compile(
    r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>[\w./-]+|\"[^\"]*\"|'[^']*')\s*:(?:\s|$)"
)
_ACTION = re.compile(r"{{.*?}}")
_BLOCK = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class KeyLine:
    number: int  # 1-based
    keys: tuple[str, ...]  # the key path from the document's top
    text: str
    doc: int  # which `---` document of the template
    items: tuple[int, ...] = ()  # the `- ` lines opening each list item it is inside
    item_start: bool = False  # the line opens a list item (`- key: ...`)


def place_findings(findings: list[Finding]) -> None:
    """Set `source_line` on each chart finding whose template line is certain."""
    from kubevet.trace.blame import read_lines

    templates: dict[str, TemplateKeys | None] = {}  # each template indexed once
    for f in findings:
        obj = f.obj
        o = f.origin
        if not (o.rendered and o.template and isinstance(obj, K8sObject)) or "!" in o.file:
            continue
        if o.file not in templates:
            lines = read_lines(o.file)
            templates[o.file] = TemplateKeys(lines) if lines else None
        template = templates[o.file]
        if template is not None:
            f.source_line = place(obj, f.path, template)


class TemplateKeys:
    """A template's literal key lines, by key path, built once per check: each finding
    scanned every line of its template for them and counted its documents (place_findings
    over the corpus: 0.242 CPU s then, 0.208 with this)."""

    def __init__(self, lines: tuple[str, ...]) -> None:
        self.lines = lines
        self.keys = key_lines(lines)
        self.documents = 1 + sum(1 for t in lines if t.rstrip() == "---")
        self.by_keys: dict[tuple[str, ...], list[KeyLine]] = {}
        self.items: dict[tuple[str, ...], list[KeyLine]] = {}  # list items' first lines
        for k in self.keys:
            self.by_keys.setdefault(k.keys, []).append(k)
            if k.item_start:
                self.items.setdefault(k.keys[:-1], []).append(k)


def place(obj: K8sObject, path: Path, template: TemplateKeys) -> int | None:
    """The template line that wrote `path` of `obj` (or its nearest written ancestor)."""
    doc = obj.source
    if doc is None or not hasattr(doc, "text") or getattr(doc, "prefix", ()):
        return None  # no document, or an item of a List (rendered Lists are not placed)
    docs = documents_for(obj, template)
    if docs is None:
        return None
    rendered = _Rendered(doc)
    present = _present(obj.data, path)
    for cut in range(len(present), 0, -1):
        prefix = present[:cut]
        keys = tuple(p for p in prefix if isinstance(p, str))
        if isinstance(prefix[-1], int):  # a list item: the line that opens it
            candidates = template.items.get(keys, [])
        else:
            candidates = template.by_keys.get(keys, [])
        candidates = [k for k in candidates if k.doc in docs]
        text = rendered.line(prefix) if candidates else None
        agreeing = [k for k in candidates if text is not None and _writes(k.text, text)]
        if len(agreeing) > 1:  # the same text in two list items: which item rendered it
            agreeing = [k for k in agreeing if _items_agree(k, prefix, template.lines, rendered)]
        if len(agreeing) == 1:
            return agreeing[0].number
        if agreeing:
            return None  # two lines could have written it: no guess
    return None


class _Rendered:
    """Lines of one rendered document, by path."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.lines = doc.text.splitlines()

    def line(self, prefix: Path) -> str | None:
        from kubevet.sources.yamldocs import locate_many

        doc = self.doc
        (line,) = locate_many(doc.text, doc.first_line, doc.index, [prefix])
        at = (line or 0) - doc.first_line
        return self.lines[at] if 0 <= at < len(self.lines) else None


def _items_agree(
    k: KeyLine, prefix: Path, template_lines: tuple[str, ...], rendered: _Rendered
) -> bool:
    """Whether each list item `k` sits in wrote the item of `prefix` at that depth."""
    cuts = [i + 1 for i, p in enumerate(prefix) if isinstance(p, int)]
    if len(cuts) != len(k.items):
        return False
    for cut, number in zip(cuts, k.items, strict=True):
        text = rendered.line(prefix[:cut])
        if text is None or not _writes(template_lines[number - 1], text):
            return False
    return True


def _present(data: Any, path: Path) -> Path:
    """The longest prefix of `path` that exists in the object."""
    for cut in range(len(path), 0, -1):
        if get_path(data, path[:cut], _MISSING) is not _MISSING:
            return path[:cut]
    return ()


def _writes(template: str, rendered: str) -> bool:
    """Whether this template line renders as this text."""
    template, rendered = template.rstrip(), rendered.rstrip()
    if "{{" not in template:
        return template == rendered
    return _pattern(template).fullmatch(rendered) is not None


@functools.lru_cache(maxsize=4096)
def _pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    last = 0
    for m in _ACTION.finditer(template):
        literal = template[last : m.start()]
        if m.group().startswith("{{-"):
            literal = literal.rstrip()  # `{{-` eats the white space before it
            parts.append(re.escape(literal) + r"\s*" if literal else "")
        else:
            parts.append(re.escape(literal))
        parts.append(".*?")
        last = m.end()
        if m.group().endswith("-}}"):
            rest = template[last:]
            last += len(rest) - len(rest.lstrip())  # `-}}` eats the white space after it
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts))


def documents_for(obj: K8sObject, template: TemplateKeys) -> set[int] | None:
    """The template documents the object may come from: all of them when the template has
    one, else those whose literal `kind:` is the object's (None when that is unclear)."""
    if template.documents == 1:
        return {0}
    kind = f"kind: {obj.kind}"
    kinds = {k.doc for k in template.by_keys.get(("kind",), []) if k.text.strip() == kind}
    return kinds if len(kinds) == 1 else None


@dataclass(slots=True)
class _Open:
    column: int
    key: str | None  # None: a list item's `- `
    has_value: bool = False
    number: int = 0
    # the keys and list items' lines of the stack up to this entry, kept with it rather
    # than built from the whole stack for every key line (with the skipped checks in
    # key_lines: 632 -> 474 ms over the corpus's 2,895 templates)
    keys: tuple[str, ...] = ()
    items: tuple[int, ...] = ()


@functools.lru_cache(maxsize=256)
def key_lines(template_lines: tuple[str, ...]) -> list[KeyLine]:
    """Every literal `key:` line of a template with its key path. Lines inside actions,
    block scalars and `define`s, and keys written by actions, are left out."""
    out: list[KeyLine] = []
    stack: list[_Open] = []
    doc = 0
    in_action = False
    block_above: int | None = None  # lines more indented than this are block scalar text
    for number, text in enumerate(template_lines, 1):
        if in_action:
            in_action = "}}" not in text
            continue
        if block_above is not None:
            if not text.strip() or len(text) - len(text.lstrip()) > block_above:
                continue
            block_above = None
        if text.startswith("---") and text.rstrip() == "---":
            doc, stack = doc + 1, []
            continue
        opened = text.rfind("{{")
        if opened >= 0 and text.find("}}", opened) < 0:
            in_action = True
        # (a key cannot start with `#` or `{`: no comment, action or blank line matches)
        m = _KEY.match(text)
        if m is None:
            continue
        indent = m.end("indent")
        dash = m.group("dash")
        column = indent + len(dash or "")
        while stack and _closes(stack[-1], column, indent if dash else None):
            stack.pop()
        above = stack[-1] if stack else _TOP
        if dash:
            above = _Open(indent, None, False, number, above.keys, (*above.items, number))
            stack.append(above)
        key = m.group("key").strip("\"'")
        rest = text[m.end() :].strip()
        keys = (*above.keys, key)
        out.append(KeyLine(number, keys, text, doc, above.items, bool(dash)))
        stack.append(
            _Open(column, key, bool(rest) and not rest.startswith("#"), 0, keys, above.items)
        )
        if _BLOCK.search(text):
            block_above = indent
    return out


_TOP = _Open(-1, None)  # above the first key of a document


def _closes(top: _Open, column: int, dash: int | None) -> bool:
    """Whether the entry on top of the stack does not enclose a key at `column` (opening a
    list item at `dash`)."""
    if dash is None:
        return top.column >= column
    # A list item may sit at its parent key's own column (`containers:` then `- name:`).
    return top.column > dash or (top.column == dash and (top.has_value or top.key is None))
