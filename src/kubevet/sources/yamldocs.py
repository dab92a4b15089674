"""Parse a YAML/JSON stream into documents with start lines, and locate fields later.

Parser choice (measured in docs/performance.md): rapidyaml parses, and its tree is read into
Python objects by a C walk (treewalk), or emitted as JSON that orjson (or the C json module)
loads; both many times faster than PyYAML's CSafeLoader (whose object construction is pure
Python). Kubernetes decodes YAML 1.1 (go-yaml v2 under sigs.k8s.io/yaml), where plain `True`,
`yes`, `on`, `~`, `0755`, `0x1F`, `1_000` and `1:30` are booleans, nulls and numbers: the walk
gives them PyYAML's value as it meets them; on the JSON path, where they come out as strings,
a scan of the JSON finds them and they are looked up in rapidyaml's tree (yamlfast). PyYAML,
exact and the reference in the tests, still parses what neither way represents: tags,
aliases and merge keys, duplicate keys (reported with both lines), text rapidyaml rejects,
nesting deeper than its emitter allows, and several documents in one chunk; it also writes
every error message.

Line numbers of individual fields are computed only for documents that have findings
(`locate`), by composing that one document again: the common path pays nothing for them.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator
from typing import Any

import yaml

from kubevet.findings import InputError
from kubevet.model import Path
from kubevet.quiet import quiet_stderr
from kubevet.sources.jsondocs import parse_json
from kubevet.sources.locate import locate_paths
from kubevet.sources.yamlfast import _parse_fast
from kubevet.sources.yamlload import MAX_DEPTH, Document, _duplicate_error, _Loader
from kubevet.sources.yamlload import load_one as _load_with_pyyaml

try:
    from kubevet.sources._jsonscan import cuts as _cuts_in_c
except ImportError:  # not built (no C compiler at install), or built before cuts existed
    _cuts_in_c = None

__all__ = ["MAX_ALIAS_EXPANSION", "MAX_DEPTH", "Document", "load_one", "locate_many"]
__all__ += ["parse_json", "parse_stream"]

MAX_ALIAS_EXPANSION = 200_000  # nodes aliases may add; guards against billion-laughs documents
MAX_BYTES = 50 * 1024 * 1024


def load_one(text: str) -> Any:
    """One YAML document (data tables, values and config files, read on every run): the
    rapidyaml fast path where it gives PyYAML's exact objects, else PyYAML, which also
    raises the errors (several documents, invalid YAML)."""
    with quiet_stderr():
        fast, _shallow = _parse_fast(text, 1)
    if fast is not None and len(fast) <= 1:
        return fast[0].data if fast else None
    return _load_with_pyyaml(text)


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
    The C scan (_jsonscan.cuts) finds the same cuts and lines in one pass; else str.find
    and str.count keep this at C speed on multi-megabyte renders.
    """
    if _cuts_in_c is not None:
        for start, stop, line in _cuts_in_c(text):
            yield text[start:stop], line
        return
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


def locate_in(doc: Document, paths: list[Path]) -> list[int | None]:
    """1-based line of each path of the object `doc` holds (a List item's under its item)."""
    if doc.prefix:
        paths = [(*doc.prefix, *p) for p in paths]
    return locate_many(doc.text, doc.first_line, doc.index, paths)


def locate_many(text: str, first_line: int, index: int, paths: list[Path]) -> list[int | None]:
    """1-based line of the deepest existing node along each path, in document `index`."""
    if index == 0:
        fast = locate_paths(text, paths)
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
