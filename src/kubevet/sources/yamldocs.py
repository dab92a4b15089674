"""Parse a YAML/JSON stream into documents with start lines, and locate fields later.

Parser choice (measured in docs/performance.md): rapidyaml parses and emits JSON that the
C json module loads, many times faster than PyYAML's CSafeLoader (whose object construction
is pure Python). Kubernetes decodes YAML 1.1 (go-yaml v2 under sigs.k8s.io/yaml), where
plain `True`, `yes`, `on`, `~`, `0755`, `0x1F`, `1_000` and `1:30` are booleans, nulls and
numbers; rapidyaml's JSON has them as strings (and rewrites `inf` as `.inf`). So after
loading, a scan of the JSON for such strings decides whether a document needs the YAML 1.1
pass, which looks up only those scalars in rapidyaml's tree (their source text and whether
they were plain) and gives them PyYAML's value. PyYAML, exact and the reference in the
tests, still parses what the fast path cannot represent: tags, aliases and merge keys,
duplicate keys (reported with both lines), text rapidyaml rejects, nesting deeper than its
emitter allows, and several documents in one chunk; it also writes every error message.

Line numbers of individual fields are computed only for documents that have findings
(`locate`), by composing that one document again: the common path pays nothing for them.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

try:
    import ryml  # rapidyaml
except ImportError:  # the fast path is optional; PyYAML alone gives the same results
    ryml = None

from kubevet.findings import InputError
from kubevet.model import Path
from kubevet.quiet import quiet_stderr
from kubevet.sources.locate import BlockText

MAX_ALIAS_EXPANSION = 200_000  # nodes aliases may add; guards against billion-laughs documents
MAX_BYTES = 50 * 1024 * 1024
# Deepest nesting accepted. Real charts reach 38 levels (CRD schemas, in the corpus), the
# Kubernetes API types about 20. Past this, recursive code (PyYAML's constructor, rule
# helpers, reporters) would near Python's 1,000-frame limit, and libyaml's composer recurses
# on the C stack, so a deeper document is refused before PyYAML composes it.
MAX_DEPTH = 200
_STR_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "timestamp", "value")
)  # read as strings by _Loader, as Kubernetes does


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's parser with PyYAML's safe constructor; notes duplicate mapping keys."""

    duplicates: list[tuple[str, int, int]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # keys merged in with `<<` are meant to be overridden
            key = self.construct_object(key_node, deep=True)  # memoised: built once
            try:
                first = seen.get(key)
                if first is None:
                    seen[key] = key_node.start_mark.line
                    continue
            except TypeError:
                continue  # an unhashable key: the constructor reports it
            if not hasattr(self, "duplicates"):
                self.duplicates = []
            self.duplicates.append((repr(key), first, key_node.start_mark.line))
        return super().construct_mapping(node, deep)


# YAML 1.1 types that Kubernetes does not use; read them as plain strings, not errors.
for _tag in ("tag:yaml.org,2002:value", "tag:yaml.org,2002:timestamp"):
    _Loader.add_constructor(_tag, lambda loader, node: loader.construct_scalar(node))


def load_one(text: str) -> Any:
    """One YAML document with libyaml (data tables, values and config files load on every
    run; PyYAML's pure-Python safe_load took tens of milliseconds for them)."""
    return yaml.load(text, Loader=_Loader)


@dataclass(slots=True)
class Document:
    data: Any
    line: int  # 1-based line of the document's first content
    text: str  # the source chunk holding the document (for `locate`)
    first_line: int  # 1-based line where `text` starts in the stream
    index: int = 0  # which document of `text` this is


def parse_stream(
    text: str, name: str, line_offset: int = 0
) -> tuple[list[Document], list[InputError]]:
    """Split a stream into documents; a broken document is an error, the others survive."""
    docs: list[Document] = []
    errors: list[InputError] = []
    if "\x00" in text[:8192]:
        return [], [InputError(name, "binary file (NUL bytes), not YAML or JSON")]
    if len(text) > MAX_BYTES:
        return [], [InputError(name, f"file larger than {MAX_BYTES // 2**20} MiB, not read")]
    with quiet_stderr():  # rapidyaml prints its own errors; PyYAML's are reported instead
        for chunk_text, chunk_line in _split(text):
            start = chunk_line + line_offset
            fast, shallow = _parse_fast(chunk_text, start)
            if fast is not None:
                docs.extend(fast)
                continue
            try:
                if not shallow:
                    _check_depth(chunk_text)
                docs.extend(_parse_chunk(chunk_text, start, name, errors))
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = (mark.line + start) if mark else start
                problem = exc.problem or exc.context or "invalid YAML"
                errors.append(InputError(name, f"invalid YAML: {problem}", line))
            except _TooDeep as exc:
                errors.append(InputError(name, str(exc), exc.line + start))
            except (yaml.YAMLError, RecursionError, ValueError) as exc:
                errors.append(InputError(name, f"invalid YAML: {exc}", start))
    return docs, errors


def _split(text: str) -> Iterator[tuple[str, int]]:
    """Cut at `---` lines so that one broken document does not lose its neighbours.

    Yields (chunk, 1-based line of the chunk's first line). A `---` at column 0 cannot sit
    inside a block scalar of the same document, so cutting there is safe for manifests.
    str.find keeps this at C speed on multi-megabyte renders.
    """
    cuts = [0]
    at = text.find("\n---")
    while at != -1:
        end = at + 4
        if end == len(text) or text[end] in " \t\r\n":
            cuts.append(at + 1)
        at = text.find("\n---", end)
    cuts.append(len(text))
    line = 1
    for start, stop in itertools.pairwise(cuts):
        if stop > start:
            yield text[start:stop], line
        line += text.count("\n", start, stop)


# Aliases and merge keys in rapidyaml's JSON: an alias comes out as the string "*name".
_ALIAS_OR_MERGE = re.compile(r'"\*[^"]|"<<":')
_NODE_START = " \t\n[{,"  # what may precede a tag or an alias, or a plain scalar
# JSON strings that YAML 1.1 may read as something else when they were plain in the source:
# booleans, nulls, numbers in any base, sexagesimal, infinities; rapidyaml writes `inf` and
# `nan` as `.inf` and `.nan`. A wide net: PyYAML's own resolver makes the decision.
_CANDIDATE = re.compile(
    r'"(?=[~YyNnTtFfOo0-9.+-])(~|[Yy]es|YES|[Nn]o|NO|[Tt]rue|TRUE|[Ff]alse|FALSE|[Oo]n|ON'
    r"|[Oo]ff|OFF|[Nn]ull|NULL|[-+]?\.?(?:inf|Inf|INF|nan|NaN|NAN)"
    r'|[-+]?[0-9.][0-9a-fA-FxXoO_:.eE+-]*)"(:?)'
)
# Plain `true`, `false` and `null` come out of rapidyaml unquoted: quoted, they were quoted.
_JSON_WORDS = frozenset(("true", "false", "null"))
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_RESOLVER = yaml.resolver.Resolver()
_STR = object()  # marks a plain scalar that YAML 1.1 reads as a string
_CONTENT_LINE = re.compile(r"^(?!---|\.\.\.|%|[ \t]*#|[ \t]*$)", re.MULTILINE)


class _Duplicate(Exception):
    """A mapping repeats a key: PyYAML parses the document again and reports both lines."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _Duplicate
    return mapping


def _float(literal: str) -> float:
    """A JSON float from rapidyaml is a plain YAML scalar: YAML 1.1 reads `1e3` (no dot, or no
    exponent sign) as a string, which the JSON can no longer tell apart: PyYAML decides."""
    if _plain_scalar(literal) is _STR:
        raise ValueError(literal)
    return float(literal)


_DECODER = json.JSONDecoder(strict=False, object_pairs_hook=_pairs, parse_float=_float)


@functools.lru_cache(maxsize=4096)
def _plain_scalar(text: str) -> Any:
    """PyYAML's value for `text` as a plain scalar, or _STR when that is the text itself."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    if tag in _STR_TAGS:
        return _STR
    return yaml.load(text, Loader=_Loader)


def _parse_fast(text: str, first_line: int) -> tuple[list[Document] | None, bool]:
    """(documents, or None when PyYAML must parse the chunk; whether the chunk is known to
    nest no deeper than rapidyaml's emitter, 64 levels, far below MAX_DEPTH)."""
    if ryml is None:
        return None, False
    try:
        tree = ryml.parse_in_arena(text.encode("utf-8"))
    except Exception:  # rapidyaml raises its own SWIG types; PyYAML will explain the error
        return None, False
    root = tree.root_id()
    node = root
    if tree.is_stream(root):
        if tree.num_children(root) != 1:  # PyYAML knows each document's start line
            return (None, False) if tree.num_children(root) else ([], True)
        node = tree.first_child(root)
    try:
        emitted = ryml.emit_json(tree, node)
    except Exception:  # deeper than the emitter's limit
        return None, False
    if emitted is None:
        return [], True
    if _signed_fraction(text) or '"<<":' in emitted:
        return None, True
    if (_ALIAS_OR_MERGE.search(emitted) or _follows_space(text, "!")) and _has_properties(tree):
        return None, True
    try:
        data = _DECODER.decode(emitted)
    except (ValueError, _Duplicate, RecursionError):  # `+5`, `01.5`, `1e3`, a repeated key
        return None, True
    if not text.endswith("\n") and not _final_line_break(text, tree, node, data):
        return None, True
    try:
        values, keys = _candidates(emitted)
        if (values or keys) and not _yaml11(tree, node, data, values, keys):
            return None, True
    except ValueError:  # a scalar PyYAML resolves but cannot build (`0b_`): it reports it
        return None, True
    if data is None:
        return [], True
    m = _CONTENT_LINE.search(text)
    line = first_line + (text.count("\n", 0, m.start()) if m else 0)
    return [Document(data, line, text, first_line, 0)], True


def _follows_space(text: str, char: str) -> bool:
    """Does `char` occur where a node may start (a tag's `!`, an alias's `*`)?"""
    at = text.find(char)
    while at != -1:
        if at == 0 or text[at - 1] in _NODE_START:
            return True
        at = text.find(char, at + 1)
    return False


def _signed_fraction(text: str) -> bool:
    """A plain `-.5` or `+.5`: a string in YAML 1.1, the number -0.5 in rapidyaml's JSON."""
    for sign in ("-.", "+."):
        at = text.find(sign)
        while at != -1:
            if text[at + 2 : at + 3].isdigit() and (at == 0 or text[at - 1] in _NODE_START):
                return True
            at = text.find(sign, at + 1)
    return False


def _final_line_break(text: str, tree: Any, node: int, data: Any) -> bool:
    """rapidyaml ends a block scalar that runs to the end of a text without a final line
    break with one all the same (Helm renders often end so). Remove it where certain;
    False sends the chunk to PyYAML."""
    leaf = node
    while tree.has_children(leaf):
        leaf = tree.last_child(leaf)
    if not (tree.is_val_literal(leaf) or tree.is_val_folded(leaf)):
        return True
    last_line = text[text.rfind("\n") + 1 :]
    if not last_line.strip(" \t\r") or (last_line.startswith("#") and leaf != node):
        return True  # the content's line break is there (a nested block's content is indented)
    if not tree.is_val_literal(leaf) or last_line.lstrip().startswith("#"):
        return False
    parent, key = None, None
    value = data
    while isinstance(value, dict | list) and value:
        parent, key = value, next(reversed(value)) if isinstance(value, dict) else -1
        value = parent[key]
    if isinstance(value, str) and not value.endswith("\n"):
        return True  # `|-`
    if not isinstance(value, str):
        return False
    content = value[:-1].rpartition("\n")[2]
    if not last_line.endswith(content) or last_line[: len(last_line) - len(content)].strip():
        return False
    parent[key] = value[:-1]  # type: ignore[index]
    return True


def _has_properties(tree: Any) -> bool:
    """Tags or aliases anywhere in the tree (their text was seen, maybe inside a script)."""
    mask = ryml.KEYTAG | ryml.VALTAG | ryml.KEYREF | ryml.VALREF
    has = tree.type_has_any
    return any(has(i, mask) for i in range(tree.size()))


def _candidates(emitted: str) -> tuple[set[str], set[str]]:
    """JSON strings (values, keys) that YAML 1.1 reads otherwise if they were plain."""
    values: set[str] = set()
    keys: set[str] = set()
    for m in _CANDIDATE.finditer(emitted):
        s = m.group(1)
        if _plain_scalar(s) is _STR:
            continue
        if m.group(2):
            keys.add(s)
        elif s not in _JSON_WORDS and not _JSON_NUMBER.fullmatch(s):
            values.add(s)  # (a plain JSON number or word would have come out unquoted)
    return values, keys


def _yaml11(tree: Any, doc: int, data: Any, values: set[str], keys: set[str]) -> bool:
    """Give YAML 1.1 values to the scalars of `data` that were plain in the source; False if
    that makes two keys of a mapping equal (PyYAML then reports the duplicate)."""
    found: list[tuple[Any, Any, tuple[int, ...], bool]] = []

    def walk(value: Any, path: tuple[int, ...]) -> None:
        if isinstance(value, dict):
            for i, (k, v) in enumerate(value.items()):
                if k in keys:
                    found.append((value, k, (*path, i), True))
                if isinstance(v, str):
                    if v in values:
                        found.append((value, k, (*path, i), False))
                elif isinstance(v, dict | list):
                    walk(v, (*path, i))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, str):
                    if v in values:
                        found.append((value, i, (*path, i), False))
                elif isinstance(v, dict | list):
                    walk(v, (*path, i))

    walk(data, ())
    renamed: dict[int, tuple[dict[Any, Any], dict[Any, Any]]] = {}
    for container, key, path, is_key in found:
        node = doc
        for i in path:
            node = tree.child(node, i)
        if is_key:
            if tree.is_key_plain(node):
                source = bytes(tree.key(node)).decode("utf-8")
                value = _plain_scalar(source)
                new = source if value is _STR else value
                renamed.setdefault(id(container), (container, {}))[1][key] = new
        elif tree.is_val_plain(node):
            source = bytes(tree.val(node)).decode("utf-8")
            value = _plain_scalar(source)
            container[key] = source if value is _STR else value
    for mapping, new_keys in renamed.values():
        items = [(new_keys.get(k, k), v) for k, v in mapping.items()]
        mapping.clear()
        mapping.update(items)
        if len(mapping) != len(items):
            return False
    return True


class _TooDeep(ValueError):
    def __init__(self, line: int) -> None:
        super().__init__(f"nesting deeper than {MAX_DEPTH} levels")
        self.line = line  # 0-based, in the chunk


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before composing: libyaml's parser keeps its
    own stack, so counting its events is safe at any depth."""
    if sum(text.count(c) for c in "[{-\n") < MAX_DEPTH:
        return  # every level needs a bracket, a dash or a line of its own
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _TooDeep(event.start_mark.line)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:  # libyaml has a bound of its own, past ours
        if "nesting depth" in str(exc.problem) and exc.problem_mark is not None:
            raise _TooDeep(exc.problem_mark.line) from None
    except yaml.YAMLError:
        return  # composing reports the error with its line


def _parse_chunk(
    text: str, first_line: int, name: str, errors: list[InputError]
) -> Iterator[Document]:
    loader = _Loader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if _alias_expansion(node, text) > MAX_ALIAS_EXPANSION:
                raise ValueError("alias expansion too large (a YAML bomb?)")
            loader.duplicates = []
            data = loader.construct_document(node)
            for key, a, b in loader.duplicates:
                errors.append(_duplicate_error(name, key, a + first_line, b + first_line))
            line = node.start_mark.line + first_line
            yield Document(data, line, text, first_line, index)
            index += 1
    finally:
        loader.dispose()


def _alias_expansion(root: yaml.Node, text: str) -> int:
    """Nodes that aliases add to the document once expanded, looked for only around the
    `*` characters of the text: the cost follows the aliases, not the document.

    Descends only into nodes whose source span holds a `*`; a child that starts before its
    preceding sibling ended is an alias (it is the anchored node, defined earlier), and adds
    its target's expanded size, counted once per target."""
    stars: list[int] = []
    at = text.find("*")
    while at != -1:
        stars.append(at)
        at = text.find("*", at + 1)
    if not stars:
        return 0
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ValueError("recursive alias (a node that contains itself)")
        active.add(key)
        total = 1 + sum(size(c) for c in _children(n))
        active.discard(key)
        sizes[key] = total = min(total, MAX_ALIAS_EXPANSION + 1)
        return total

    def holds_star(n: yaml.Node) -> bool:
        i = bisect.bisect_left(stars, n.start_mark.index)
        return i < len(stars) and stars[i] < n.end_mark.index

    added = 0
    stack = [(root, frozenset([id(root)]))]
    while stack:
        parent, above = stack.pop()
        cursor = parent.start_mark.index
        for child in _children(parent):
            if id(child) in above:
                raise ValueError("recursive alias (a node that contains itself)")
            if child.start_mark.index < cursor:
                added += size(child)
                if added > MAX_ALIAS_EXPANSION:
                    return added
            else:
                cursor = child.end_mark.index
                if not isinstance(child, yaml.ScalarNode) and holds_star(child):
                    stack.append((child, above | {id(child)}))
    return added


def _children(n: yaml.Node) -> list[yaml.Node]:
    if isinstance(n, yaml.MappingNode):
        return [x for pair in n.value for x in pair]
    if isinstance(n, yaml.SequenceNode):
        return n.value
    return []


def parse_json(text: str, name: str) -> tuple[list[Document], list[InputError]]:
    """A JSON file: one document, JSON's own types. A repeated key is reported with both
    lines (the API server refuses it; the last one is kept, as decoders do), and nesting
    deeper than MAX_DEPTH is refused, as for YAML."""
    errors: list[InputError] = []
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        return [], [InputError(name, f"invalid JSON: {exc.msg}", exc.lineno)]
    except (_Duplicate, RecursionError):
        duplicates, deep = _json_structure(text)
        if deep is not None:
            return [], [InputError(name, f"nesting deeper than {MAX_DEPTH} levels", deep)]
        for key, first, second in duplicates:
            errors.append(_duplicate_error(name, key, first, second))
        data = json.loads(text)
    if _deeper_than(data, MAX_DEPTH):
        deep = _json_structure(text)[1]
        return [], [InputError(name, f"nesting deeper than {MAX_DEPTH} levels", deep)]
    return [Document(data, 1, text, 1)], errors


def _duplicate_error(name: str, key: str, first: int, second: int) -> InputError:
    return InputError(
        name,
        f"duplicate key {key} (lines {first} and {second}): the API server refuses it, "
        "and here the last one is used",
        second,
    )


_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}:\n]')


def _json_structure(text: str) -> tuple[list[tuple[str, int, int]], int | None]:
    """(repeated keys with their two 1-based lines, line where nesting passes MAX_DEPTH),
    from the tokens of valid JSON; only run once something was found wrong."""
    open_maps: list[dict[str, int] | None] = []
    duplicates: list[tuple[str, int, int]] = []
    line, last = 1, ""
    for m in _JSON_TOKEN.finditer(text):
        token = m.group()
        if token == "\n":
            line += 1
        elif token[0] == '"':
            last = token
        elif token == ":" and open_maps and open_maps[-1] is not None:
            key = json.loads(last)
            seen = open_maps[-1]
            if key in seen:
                duplicates.append((repr(key), seen[key], line))
            else:
                seen[key] = line
        elif token in "[{":
            open_maps.append({} if token == "{" else None)
            if len(open_maps) > MAX_DEPTH:
                return duplicates, line
        elif token in "]}" and open_maps:
            open_maps.pop()
    return duplicates, None


def _deeper_than(data: Any, limit: int) -> bool:
    """Iteratively, so that the check itself cannot overflow."""
    if not isinstance(data, dict | list):
        return False
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        for item in value.values() if isinstance(value, dict) else value:
            if isinstance(item, dict | list):
                if depth >= limit:
                    return True
                stack.append((item, depth + 1))
    return False


def locate_many(text: str, first_line: int, index: int, paths: list[Path]) -> list[int | None]:
    """1-based line of the deepest existing node along each path, in document `index`."""
    if index == 0:
        block = BlockText(text)
        fast = [block.locate(path) for path in paths]
        if all(line is not None for line in fast):
            return [line + first_line for line in fast]  # type: ignore[operator]
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.YAMLError:
        return [None] * len(paths)
    if index >= len(nodes):
        return [None] * len(paths)
    return [_line(nodes[index], path) + first_line for path in paths]


def _line(node: yaml.Node, path: Path) -> int:
    line = node.start_mark.line
    for part in path:
        child = _child(node, part)
        if child is None:
            break
        key_node, node = child
        line = (key_node or node).start_mark.line
    return line


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(part, int) and isinstance(node, yaml.SequenceNode):
        return (None, node.value[part]) if 0 <= part < len(node.value) else None
    if isinstance(part, str) and isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == part:
                return k, v
    return None
