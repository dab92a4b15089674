"""`kubevet upgrade --fix`: rewrite manifest files in place, changing only what converts.

Documents that need no conversion keep their exact bytes. A document that does is
round-tripped with ruamel.yaml (comments, key order and quoting kept) when one of its
indentation styles reproduces the original document exactly; otherwise (indentation that
varies from block to block) the conversion is made as edits of the changed fields' own
lines, as `fix` makes them. Either way only the converted fields change. A conversion
whose result fails the target schema is not written.
"""

from __future__ import annotations

import codecs
import difflib
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from kubevet.findings import Edit
from kubevet.safewrite import WriteError, check_target, newline_of, split_lines, write_text
from kubevet.upgrade import convert
from kubevet.upgrade.analyze import Target
from kubevet.upgrade.schema import validate_object

_SEPARATOR = re.compile(r"^---(?=[ \t\r\n]|$)", re.MULTILINE)
# (mapping, sequence, offset) indentation styles tried, most common first.
_INDENTS = ((2, 2, 0), (2, 4, 2), (4, 4, 0), (4, 6, 2), (2, 3, 1), (4, 4, 2))


@dataclass
class Change:
    file: str
    line: int
    kind: str
    name: str
    old_api: str
    new_api: str = ""
    notes: list[str] = field(default_factory=list)
    reason: str = ""  # why it was not rewritten (empty when it was)

    @property
    def done(self) -> bool:
        return not self.reason

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def rewrite_file(path: str, target: Target, roots: Sequence[str] = ()) -> list[Change]:
    """Convert what can be converted in `path` (written back only if something changed).

    Raises WriteError (the file left as it was) when it cannot be written; nothing is
    converted in a file reached through a link that leaves `roots`."""
    from kubevet.findings import InputError
    from kubevet.sources.reader import read_bytes

    check_target(path, roots)
    try:
        raw = read_bytes(path)
    except InputError as err:
        raise WriteError(path, err.message) from None
    bom = raw.startswith(codecs.BOM_UTF8)
    text = raw.decode("utf-8-sig")  # line endings kept as they are
    out, changes = rewrite_text(text, path, target)
    if out != text:
        write_text(path, out, roots, bom=bom)
    return changes


def rewrite_text(text: str, name: str, target: Target) -> tuple[str, list[Change]]:
    parts: list[str] = []
    changes: list[Change] = []
    for chunk, line in _chunks(text):
        new, found = _rewrite_chunk(chunk, name, line, target)
        parts.append(new)
        changes.extend(found)
    return "".join(parts), changes


def _chunks(text: str) -> Iterator[tuple[str, int]]:
    start, line = 0, 1
    for m in _SEPARATOR.finditer(text):
        if m.start() > start:
            yield text[start : m.start()], line
        line += text.count("\n", start, m.start())
        start = m.start()
    yield text[start:], line


def _rewrite_chunk(chunk: str, name: str, line: int, target: Target) -> tuple[str, list[Change]]:
    try:
        data = yaml.safe_load(_body(chunk)[1])
    except yaml.YAMLError:
        return chunk, []  # the analysis reports broken YAML
    line += _content_offset(chunk)
    plans = []
    changes = []
    for path, obj in _objects(data):
        change = Change(name, line, str(obj.get("kind")), _name(obj), str(obj.get("apiVersion")))
        try:
            conv = convert.plan(obj, target.table, target.to, target.current)
        except convert.NotConvertible as exc:
            change.reason = str(exc)
            changes.append(change)
            continue
        if conv is None:
            continue
        change.new_api = conv.new_api
        problem = _check(obj, conv, target)
        if problem:
            change.reason = problem
        else:
            plans.append((path, conv, change))
        changes.append(change)
    if not plans:
        return chunk, changes
    return _apply(chunk, plans), changes


def _content_offset(chunk: str) -> int:
    """Lines before the document's first content (separator, comments, blank lines)."""
    for i, text in enumerate(chunk.splitlines()):
        if text.strip() and not text.lstrip().startswith("#") and not text.startswith("---"):
            return i
    return 0


def _check(obj: dict[str, Any], conv: convert.Conversion, target: Target) -> str:
    """Convert a copy first: the file is only touched when the result is valid."""
    try:
        out = convert.converted_copy(obj, conv)
    except convert.NotConvertible as exc:
        return str(exc)
    if target.schema is not None and target.schema.exact:  # a nearby release only informs
        result = validate_object(out, target.schema)
        if result.status == "invalid":
            return f"converted object fails the schema at {result.path}: {result.message}"
    return ""


Plans = list[tuple[tuple[int, ...], convert.Conversion, Change]]


def _apply(chunk: str, plans: Plans) -> str:
    header, body = _body(chunk)
    original = body  # ruamel reads and writes LF: its output is mapped back on `original`
    body = "".join(_strip_break(ln) + "\n" for ln in split_lines(body))
    if original and _strip_break(original[-1]):
        body = body[:-1]
    rt = _round_tripper(body)
    if rt is None:  # no ruamel style reproduces the document: edit the changed nodes only
        return header + _apply_as_edits(original, plans)
    doc = rt.load(body)
    for path, conv, change in plans:
        node = doc
        for index in path:
            node = node["items"][index]
        change.notes = convert.convert(node, conv)
    buf = io.StringIO()
    rt.dump(doc, buf)
    return header + _restore(original, buf.getvalue())


def _strip_break(line: str) -> str:
    return line.rstrip("\r\n\x85\u2028\u2029")


def _restore(original: str, new: str) -> str:
    """`new` (ruamel's output, LF line ends) with every line it did not change given back
    its own bytes (a CRLF or mixed-ending file stays so), new lines the usual ending."""
    old = split_lines(original)
    lines = split_lines(new)
    nl = newline_of(original)
    matcher = difflib.SequenceMatcher(
        a=[_strip_break(x) for x in old], b=[_strip_break(x) for x in lines], autojunk=False
    )
    out: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += old[i1:i2]
        else:
            out += [_strip_break(x) + (nl if x != _strip_break(x) else "") for x in lines[j1:j2]]
    return "".join(out)


def _body(chunk: str) -> tuple[str, str]:
    """Split off the `---` line, which ruamel would not reproduce byte for byte."""
    if chunk.startswith("---"):
        end = chunk.find("\n") + 1 or len(chunk)
        return chunk[:end], chunk[end:]
    return "", chunk


def _round_tripper(body: str) -> Any:
    """A ruamel.yaml round-tripper whose indentation reproduces `body` exactly, or None."""
    from ruamel.yaml import YAML

    for mapping, sequence, offset in _INDENTS:
        rt = YAML()
        rt.preserve_quotes = True
        rt.width = 4096
        rt.indent(mapping=mapping, sequence=sequence, offset=offset)
        buf = io.StringIO()
        rt.dump(rt.load(body), buf)
        if buf.getvalue() == body:
            return rt
    return None


def _apply_as_edits(body: str, plans: Plans) -> str:
    """The conversions as edits of the fields they change, made on the text as `fix`
    makes them (`fix.yamltext`): a document whose indentation varies (which ruamel would
    re-indent throughout) keeps every line outside the converted fields byte for byte."""
    from kubevet.fix.yamltext import edit_document
    from kubevet.sources.yamldocs import _Loader

    data = yaml.load(body, Loader=_Loader)  # kubevet's own safe loader
    edits: list[Edit] = []
    for path, conv, change in plans:
        obj = data
        prefix: list[str | int] = []
        for index in path:
            obj = obj["items"][index]
            prefix += ["items", index]
        edits += diff_edits(obj, convert.converted_copy(obj, conv), tuple(prefix))
        change.notes = list(conv.notes)
    sets = [e for e in edits if e.op == "set"]  # before removals: no map is left empty
    return edit_document(body, 0, sets + [e for e in edits if e.op == "remove"])[0]


def diff_edits(before: Any, after: Any, prefix: tuple[str | int, ...] = ()) -> list[Edit]:
    """The smallest `set`/`remove` edits that turn `before` into `after` (maps key by key,
    lists of the same length item by item, anything else replaced whole)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = [Edit("remove", (*prefix, k)) for k in before if k not in after]
        for key, value in after.items():
            if key not in before:
                out.append(Edit("set", (*prefix, key), value))
            else:
                out += diff_edits(before[key], value, (*prefix, key))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        pairs = enumerate(zip(before, after, strict=True))
        return [e for i, (b, a) in pairs for e in diff_edits(b, a, (*prefix, i))]
    if type(before) is type(after) and before == after:
        return []
    return [Edit("set", prefix, after)]


def _objects(data: Any, path: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], dict[str, Any]]]:
    """Objects of a document with their path of `items` indexes (for `kind: List`)."""
    if not isinstance(data, dict):
        return []
    items = data.get("items")
    if str(data.get("kind", "")).endswith("List") and isinstance(items, list):
        out = []
        for i, item in enumerate(items):
            out.extend(_objects(item, (*path, i)))
        return out
    return [(path, data)]


def _name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name") or "")
