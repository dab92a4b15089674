"""Read a JSON file as one document, with the same limits and errors as YAML."""

from __future__ import annotations

import json
from typing import Any

from kubevet import lazy_compile
from kubevet.findings import InputError
from kubevet.sources.yamlload import MAX_DEPTH, Document, _Duplicate, _duplicate_error, _pairs


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


_JSON_TOKEN = lazy_compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}:\n]')


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
