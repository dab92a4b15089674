"""Parse a YAML/JSON stream into documents with start lines, and locate fields later.

Parser choice (measured in docs/performance.md): rapidyaml parses and emits JSON that the
C json module loads, about 20 times faster than PyYAML's CSafeLoader (whose object
construction is pure Python). But rapidyaml rejects some valid YAML (comments inside flow
sequences, in the vault chart) and resolves a few plain scalars differently from YAML 1.1,
which Kubernetes' decoder (go-yaml v2 under sigs.k8s.io/yaml) uses: `True`, `yes`, `on`,
`~`, `NULL`, octal and hex numbers, tags, anchors. So each document goes through rapidyaml
only when a cheap scan of its text finds none of those forms and rapidyaml accepts it;
anything else, and every error message, comes from PyYAML, which is exact.

Line numbers of individual fields are computed only for documents that have findings
(`locate`), by composing that one document again: the common path pays nothing for them.
"""

from __future__ import annotations

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

import itertools

from kubevet.findings import InputError
from kubevet.model import Path
from kubevet.quiet import quiet_stderr
from kubevet.sources.locate import BlockText

MAX_ALIAS_EXPANSION = 200_000  # nodes; guards against billion-laughs documents
MAX_BYTES = 50 * 1024 * 1024


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    pass


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
    for chunk_text, chunk_line in _split(text):
        fast = _parse_fast(chunk_text, chunk_line + line_offset)
        if fast is not None:
            docs.extend(fast)
            continue
        try:
            docs.extend(_parse_chunk(chunk_text, chunk_line, line_offset))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = (mark.line + chunk_line + line_offset) if mark else chunk_line + line_offset
            problem = exc.problem or exc.context or "invalid YAML"
            errors.append(InputError(name, f"invalid YAML: {problem}", line))
        except (yaml.YAMLError, RecursionError, ValueError) as exc:
            errors.append(InputError(name, f"invalid YAML: {exc}", chunk_line + line_offset))
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


# Node properties rapidyaml's JSON would drop (tags, anchors, aliases, merge keys), found in
# the source where a node starts. The distinctive character comes first: the scan stays fast.
_PROPERTIES = re.compile(
    r"[!&*<](?:(?:(?<=: .)|(?<=- .)|(?<=[\[{,].)|(?<=[\[{,] .)|(?<=^.))"
    r"(?:(?<=!)[A-Za-z!<]|(?<=[&*])\w)|(?<=<)<:)",
    re.MULTILINE,
)
# Strings in rapidyaml's JSON that, had they been plain in the source, YAML 1.1 reads as
# booleans, nulls or numbers. Over-matching (the source had them quoted) only costs speed.
_YAML11_SCALARS = re.compile(
    r'"(?=[~TFYyNnOo0-9+.-])(?:~|True|TRUE|False|FALSE|[Yy]es|YES|[Nn]o|NO|[Oo]n|ON|[Oo]ff|OFF'
    r"|[yYnN]|Null|NULL|[-+]?0[0-7]+|[-+]?0x[0-9a-fA-F]+|[-+]?[0-9][0-9_]*_[0-9_.]*"
    r'|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))"'
)


def _any_plain(text: str, values: set[str]) -> bool:
    """Does any of these strings stand unquoted as a whole scalar in the source? If they all
    come from quoted scalars, rapidyaml's strings were right."""
    alternatives = "|".join(re.escape(v) for v in sorted(values))
    plain = rf"(?:^|[:\-\[,{{]\s*|\s)(?:{alternatives})[ \t]*(?:$|[,\]}}#])"
    return re.search(plain, text, re.MULTILINE) is not None


_CONTENT_LINE = re.compile(r"^(?!---|\.\.\.|%|[ \t]*#|[ \t]*$)", re.MULTILINE)


def _parse_fast(text: str, first_line: int) -> list[Document] | None:
    """The rapidyaml path for one chunk, or None when PyYAML must handle it."""
    if ryml is None or _PROPERTIES.search(text):
        return None
    try:
        with quiet_stderr():
            tree = ryml.parse_in_arena(text.encode("utf-8"))
    except Exception:  # rapidyaml raises its own SWIG types; PyYAML will explain the error
        return None
    root = tree.root_id()
    if tree.is_stream(root):
        nodes = []
        child = tree.first_child(root)
        while child != ryml.NONE:
            nodes.append(child)
            child = tree.next_sibling(child)
    else:
        nodes = [root]
    if len(nodes) > 1:
        return None  # several documents in one chunk: PyYAML knows each one's start line
    if not nodes:
        return []
    emitted = ryml.emit_json(tree, nodes[0])
    if emitted is None:
        return []
    specials = {m.group(0)[1:-1] for m in _YAML11_SCALARS.finditer(emitted)}
    if specials and _any_plain(text, specials):
        return None
    try:
        data = json.loads(emitted, strict=False)
    except ValueError:
        return None  # e.g. `+5` or `.5`, which rapidyaml emits verbatim
    m = _CONTENT_LINE.search(text)
    line = first_line + (text.count("\n", 0, m.start()) if m else 0)
    return [Document(data, line, text, first_line, 0)] if data is not None else []


def _parse_chunk(text: str, first_line: int, offset: int) -> Iterator[Document]:
    loader = _Loader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if "*" in text and _expanded_size(node) > MAX_ALIAS_EXPANSION:
                raise ValueError("alias expansion too large (a YAML bomb?)")
            data = loader.construct_document(node)
            line = node.start_mark.line + first_line + offset
            yield Document(data, line, text, first_line + offset, index)
            index += 1
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node) -> int:
    """Node count with aliases expanded, memoised per node so the walk itself stays small."""
    memo: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        memo[key] = 1  # breaks recursive aliases
        total = 1
        if isinstance(n, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            total += sum(size(v) for v in n.value)
        memo[key] = min(total, MAX_ALIAS_EXPANSION + 1)
        return memo[key]

    return size(node)


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
