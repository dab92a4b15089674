"""The rapidyaml fast path of the stream parser (see yamldocs for the parser choice).

rapidyaml parses; its tree is read into Python objects by treewalk (a C walk of its nodes)
where that walk is on and builds the chunk, else emitted as JSON that orjson or the C json
module loads (see _decode). Kubernetes decodes YAML 1.1, where plain `True`, `yes`, `on`,
`~`, `0755`, `0x1F`, `1_000` and `1:30` are booleans, nulls and numbers. The walk gives them
PyYAML's value itself (through _plain_scalar); rapidyaml's JSON has them as strings (and
rewrites `inf` as `.inf`), so after loading, a scan of the JSON for such strings decides
whether a document needs the YAML 1.1 pass, which looks up only those scalars in rapidyaml's
tree (their source text and whether they were plain) and gives them PyYAML's value. Anything
this cannot represent exactly returns None and PyYAML parses the chunk.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from typing import Any

import yaml

from kubevet.signals import held
from kubevet.sources import treewalk
from kubevet.sources.jsonscan import (
    ALIAS_LIKE,
    DUPLICATE_KEY,
    KEYS_UNCHECKED,
    MERGE_KEY,
    NEGATIVE_FRACTION,
    NUMBERS_UNSURE,
    scan_json,
)
from kubevet.sources.yamlload import _STR_TAGS, Document, _Duplicate, _Loader, _pairs
from kubevet.standin import stand_in, standing_in

_ORJSON: list[Any] = []
_ORJSON_LOCK = threading.Lock()  # render threads parse too


def _orjson() -> Any:
    """orjson, imported when the JSON path first loads a document (the tree walk needs none).
    It imports uuid, which imports platform only to ask platform.system() (AIX and Linux read
    their MAC addresses their own way): os.uname() answers it without platform's import and
    regexes (~1 ms). orjson must not be interrupted while it sets itself up (held)."""
    if not _ORJSON:
        with _ORJSON_LOCK, held():
            if not _ORJSON:
                with standing_in("platform", stand_in("platform", system=_system_name)):
                    import orjson
                _ORJSON.append(orjson)
    return _ORJSON[0]


def _system_name() -> str:
    return os.uname().sysname


def _import_rapidyaml() -> Any:
    """`import ryml` (rapidyaml), or None without it: the fast path is optional, PyYAML
    alone gives the same results. ryml.py, its SWIG wrappers, imports the `deprecation`
    package only to mark six functions kubevet never calls as deprecated, and that imports
    `packaging` and `textwrap`: about 2 ms of every check's start-up. Its stand-in's
    `deprecated` leaves a function as it is (those six then warn no more when called)."""
    deprecation = stand_in("deprecation", deprecated=lambda *_a, **_k: lambda function: function)
    try:
        with standing_in("deprecation", deprecation):
            import ryml
    except ImportError:
        return None
    return ryml


ryml = _import_rapidyaml()

_NODE_START = " \t\n[{,"  # what may precede a tag or an alias, or a plain scalar
# Plain `true`, `false` and `null` come out of rapidyaml unquoted: quoted, they were quoted.
_JSON_WORDS = frozenset(("true", "false", "null"))
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_RESOLVER = yaml.resolver.Resolver()
_STR = object()  # marks a plain scalar that YAML 1.1 reads as a string
_CONTENT_LINE = re.compile(r"^(?!---|\.\.\.|%|[ \t]*#|[ \t]*$)", re.MULTILINE)


def _float(literal: str) -> float:
    """A JSON float from rapidyaml is a plain YAML scalar: YAML 1.1 reads `1e3` (no dot, or no
    exponent sign) as a string, which the JSON can no longer tell apart: PyYAML decides."""
    if _plain_scalar(literal) is _STR:
        raise ValueError(literal)
    return float(literal)


_EXACT = json.JSONDecoder(strict=False, object_pairs_hook=_pairs, parse_float=_float)


@functools.lru_cache(maxsize=4096)
def _plain_scalar(text: str) -> Any:
    """PyYAML's value for `text` as a plain scalar, or _STR when that is the text itself."""
    if _plain_is_string(text):
        return _STR
    return yaml.load(text, Loader=_Loader)


@functools.lru_cache(maxsize=4096)
def _plain_is_string(text: str) -> bool:
    """Whether YAML 1.1 reads `text`, plain, as that string: the resolver's answer alone.
    Most candidates were quoted in the source and keep their text, so their value as a
    plain scalar (a PyYAML load each) is only worked out for those that were plain."""
    return _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) in _STR_TAGS


class _T:
    """rapidyaml's tree functions, called with the SWIG object itself (`Tree.this`). Through
    the `Tree` proxy, SWIG 4 works out the proxy's type name on every call: each call cost
    about five times more, a tenth of the whole parse. (Filled in below.)"""


_RAW = getattr(ryml, "_ryml", None)  # rapidyaml's SWIG module; its methods call it
for _name in (
    "root_id", "is_stream", "num_children", "first_child", "is_container",
    "set_container_style", "has_children", "last_child", "is_val_literal", "is_val_folded",
    "size", "type_has_any", "child", "is_key_plain", "key", "is_val_plain", "val",
):  # fmt: skip
    _call = getattr(_RAW, "Tree_" + _name, None) or getattr(
        getattr(ryml, "Tree", None), _name, None
    )
    setattr(_T, _name, staticmethod(_call))
# The module's functions too, without ryml.py's Python wrappers around them (parse_in_arena,
# Tree(), emit_json_in_place: six Python calls per chunk). A tree from new_Tree is its SWIG
# object alone, which deletes the tree when it is freed.
_new_tree = getattr(_RAW, "new_Tree", None) or (lambda: ryml.Tree().this)
_parse_csubstr = getattr(_RAW, "parse_csubstr", None) or getattr(ryml, "parse_csubstr", None)
_emit_json_to_substr = getattr(_RAW, "emit_json_to_substr", None) or getattr(
    ryml, "emit_json_to_substr", None
)

# rapidyaml's tree read into Python objects without the JSON, where that is known to be right
# for this rapidyaml (see treewalk); None: the JSON path alone.
_build = treewalk.load(ryml, _RAW, _plain_scalar, _STR)


def _parse_fast(text: str, first_line: int) -> tuple[list[Document] | None, bool]:
    """(documents, or None when PyYAML must parse the chunk; whether the chunk is known to
    nest no deeper than rapidyaml's emitter, 64 levels, far below MAX_DEPTH)."""
    if ryml is None:
        return None, False
    tree = _new_tree()  # (see _T)
    try:
        _parse_csubstr(text.encode("utf-8"), tree)  # ryml.parse_in_arena
    except Exception:  # rapidyaml raises its own SWIG types; PyYAML will explain the error
        return None, False
    node = root = _T.root_id(tree)
    if _T.is_stream(tree, root):
        if _T.num_children(tree, root) != 1:  # PyYAML knows each document's start line
            return (None, False) if _T.num_children(tree, root) else ([], True)
        node = _T.first_child(tree, root)
    if _T.is_container(tree, node):
        data = _build(tree, node) if _build is not None else NotImplemented
        if data is not NotImplemented:  # straight from the tree, as the JSON below gives
            return _built(text, first_line, tree, node, data)
        _T.set_container_style(tree, node, ryml.FLOW_SL)  # one line: 40% less JSON
    try:
        emitted = _emit_json(tree, node)
    except Exception:  # deeper than the emitter's limit
        return None, False
    if emitted is None:
        return [], True
    if emitted[:1] == '"' and not _T.is_container(tree, node) and _T.is_val_plain(tree, node):
        return None, False  # one plain scalar (`yes`, `~`, `0755`): PyYAML reads it (rare)
    marks, found = scan_json(emitted)
    # rapidyaml writes a plain `-.5` (a string in YAML 1.1) as the number -0.5
    if (marks & NEGATIVE_FRACTION and _signed_fraction(text)) or marks & MERGE_KEY:
        return None, True
    # An alias comes out of rapidyaml's JSON as the string "*name", a bare `*` (which PyYAML
    # refuses) as "*", and its `*` starts a node in the text (also right after a flow `:`):
    # the tree then says whether such a string was an alias or quoted text.
    alias = marks & ALIAS_LIKE and _follows_space(text, "*", _NODE_START + ":")
    if (alias or _follows_space(text, "!")) and _has_properties(tree):
        return None, True
    try:
        data = _decode(emitted, marks)
    except (ValueError, _Duplicate, RecursionError):  # `+5`, `01.5`, `1e3`, a repeated key
        return None, True
    if not text.endswith("\n") and not _final_line_break(text, tree, node, data):
        return None, True
    try:
        values, keys = _candidates(found)
        if (values or keys) and not _yaml11(tree, node, data, values, keys):
            return None, True
    except ValueError:  # a scalar PyYAML resolves but cannot build (`0b_`): it reports it
        return None, True
    return _documents(text, first_line, data)


def _built(
    text: str, first_line: int, tree: Any, node: int, data: Any
) -> tuple[list[Document] | None, bool]:
    """_parse_fast's answer for a chunk whose data _build read from the tree."""
    if not text.endswith("\n") and not _final_line_break(text, tree, node, data):
        return None, True
    return _documents(text, first_line, data)


def _documents(text: str, first_line: int, data: Any) -> tuple[list[Document] | None, bool]:
    if data is None:
        return [], True
    m = _CONTENT_LINE.search(text)
    line = first_line + (text.count("\n", 0, m.start()) if m else 0)
    return [Document(data, line, text, first_line, 0)], True


def _decode(emitted: str, marks: int) -> Any:
    """The JSON's value; _Duplicate if a mapping repeats a key. Where the scan compared every
    key and found no unsure number (NUMBERS_UNSURE), orjson loads it, about twice
    as fast as the standard decoder with its per-mapping and per-float hooks, which decides
    everything else."""
    if marks & DUPLICATE_KEY:
        raise _Duplicate
    if not marks & (KEYS_UNCHECKED | NUMBERS_UNSURE):
        orjson = _orjson()
        try:
            return orjson.loads(emitted)
        except orjson.JSONDecodeError:  # e.g. a control character, which it refuses
            pass
    return _EXACT.decode(emitted)


_EMIT = threading.local()  # each thread's reusable output buffer


def _emit_json(tree: Any, node: int) -> str | None:
    """rapidyaml's JSON for `node` (None when there is none), as `ryml.emit_json` gives it
    (whole, where that one stops at a NUL character).
    `ryml.emit_json` returns a buffer its binding never frees (rapidyaml 0.15: a run's memory
    grew by the size of every document's JSON), so this emits into a buffer kubevet owns.
    It starts at 512 KiB, more than the corpus's largest document's JSON (320 KB): a
    document that does not fit is emitted twice (the first pass only finds its size)."""
    buffer = getattr(_EMIT, "buffer", None) or bytearray(1 << 19)
    failed, size = _emit_json_to_substr(tree, node, buffer)  # ryml.emit_json_in_place
    if failed:  # too small: `size` is what it needs (as ryml.emit_json_in_place reads it)
        buffer = bytearray(max(size, 2 * len(buffer)))
        failed, size = _emit_json_to_substr(tree, node, buffer)
        if failed:
            raise IndexError(f"rapidyaml's JSON needs {size} bytes, not {len(buffer)}")
    _EMIT.buffer = buffer
    return str(memoryview(buffer)[:size], "utf-8") or None


def _follows_space(text: str, char: str, before: str = _NODE_START) -> bool:
    """Does `char` occur where a node may start (a tag's `!`, an alias's `*`)?"""
    at = text.find(char)
    while at != -1:
        if at == 0 or text[at - 1] in before:
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
    while _T.has_children(tree, leaf):
        leaf = _T.last_child(tree, leaf)
    if not (_T.is_val_literal(tree, leaf) or _T.is_val_folded(tree, leaf)):
        return True
    last_line = text[text.rfind("\n") + 1 :]
    if not last_line.strip(" \t\r") or (last_line.startswith("#") and leaf != node):
        return True  # the content's line break is there (a nested block's content is indented)
    if not _T.is_val_literal(tree, leaf) or last_line.lstrip().startswith("#"):
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
    has = _T.type_has_any
    return any(has(tree, i, mask) for i in range(_T.size(tree)))


def _candidates(found: list[tuple[str, bool]]) -> tuple[set[str], set[str]]:
    """JSON strings (values, keys) that YAML 1.1 reads otherwise if they were plain."""
    values: set[str] = set()
    keys: set[str] = set()
    for s, is_key in found:
        if _plain_is_string(s):
            continue
        if is_key:
            keys.add(s)
        elif s not in _JSON_WORDS and not _JSON_NUMBER.fullmatch(s):
            values.add(s)  # (a plain JSON number or word would have come out unquoted)
    return values, keys


def _find(
    value: Any,
    path: tuple[int, ...],
    values: set[str],
    keys: set[str],
    found: list[tuple[Any, Any, tuple[int, ...], bool]],
) -> None:
    """Add to `found` each (container, key or index, path of child indexes, is a key) whose
    key or string value is among the candidates. (A module function, not a closure: a
    recursive closure is a reference cycle that only the collector frees.) The values are
    decoded JSON, of exact types: `type(v) is` tests, a counter instead of enumerate and no
    key test without candidate keys made this walk (every node of a document holding a
    candidate) about 40% cheaper."""
    i = -1
    if type(value) is dict:
        for k, v in value.items():
            i += 1
            if keys and k in keys:
                found.append((value, k, (*path, i), True))
            kind = type(v)
            if kind is str:
                if v in values:
                    found.append((value, k, (*path, i), False))
            elif kind is dict or kind is list:
                _find(v, (*path, i), values, keys, found)
    elif type(value) is list:
        for v in value:
            i += 1
            kind = type(v)
            if kind is str:
                if v in values:
                    found.append((value, i, (*path, i), False))
            elif kind is dict or kind is list:
                _find(v, (*path, i), values, keys, found)


def _yaml11(tree: Any, doc: int, data: Any, values: set[str], keys: set[str]) -> bool:
    """Give YAML 1.1 values to the scalars of `data` that were plain in the source; False if
    that makes two keys of a mapping equal (PyYAML then reports the duplicate)."""
    found: list[tuple[Any, Any, tuple[int, ...], bool]] = []
    _find(data, (), values, keys, found)
    renamed: dict[int, tuple[dict[Any, Any], dict[Any, Any]]] = {}
    for container, key, path, is_key in found:
        node = doc
        for i in path:
            node = _T.child(tree, node, i)
        if is_key:
            if _T.is_key_plain(tree, node):
                source = bytes(_T.key(tree, node)).decode("utf-8")
                value = _plain_scalar(source)
                new = source if value is _STR else value
                renamed.setdefault(id(container), (container, {}))[1][key] = new
        elif _T.is_val_plain(tree, node):
            source = bytes(_T.val(tree, node)).decode("utf-8")
            value = _plain_scalar(source)
            container[key] = source if value is _STR else value
    for mapping, new_keys in renamed.values():
        items = [(new_keys.get(k, k), v) for k, v in mapping.items()]
        mapping.clear()
        mapping.update(items)
        if len(mapping) != len(items):
            return False
    return True
