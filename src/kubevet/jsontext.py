"""JSON read from inputs, bounded in depth.

`json.loads` raises RecursionError (not a ValueError) on nesting past about a thousand
levels, and data nested nearly that deep overflows the recursive code that walks it
later. So JSON kubevet reads from a file, an annotation, an option or a Secret goes
through `loads`: nesting past MAX_DEPTH is a `json.JSONDecodeError` like any bad JSON,
which every caller already reports as an input error.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 200  # the bound manifests have (sources.yamldocs)


def loads(text: str | bytes | bytearray) -> Any:
    try:
        data = json.loads(text)
    except RecursionError:
        raise _too_deep(text) from None
    if deeper_than(data, MAX_DEPTH):
        raise _too_deep(text)
    return data


def _too_deep(text: str | bytes | bytearray) -> json.JSONDecodeError:
    doc = text if isinstance(text, str) else bytes(text).decode("utf-8", "replace")
    return json.JSONDecodeError(f"nesting deeper than {MAX_DEPTH} levels", doc, 0)


def deeper_than(data: Any, limit: int) -> bool:
    """Is `data` nested deeper than `limit` containers (checked without recursion)?"""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items if isinstance(item, dict | list))
    return False
