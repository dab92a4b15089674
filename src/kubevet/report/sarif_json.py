"""`json.dumps(value, indent=2, ensure_ascii=False)`, byte for byte, several times faster.

With `indent=` the standard library falls back to its pure-Python encoder (a generator
per container, a yield per token): on a large run most of the SARIF report's time went
there. Here each container is one join, and strings (nearly all of a SARIF log's bytes)
go through the same C function the standard encoder uses for them, so the escapes are
the standard library's own. Numbers and constants are spelled as `json` spells them.
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring  # the C version when the _json module exists
from typing import Any

from kubevet.signals import held

with held():  # orjson must not be interrupted while it sets itself up
    import orjson

_CONSTANTS = {True: "true", False: "false"}  # looked up only for bool (True == 1)


def dumps(value: Any, newline: str = "\n") -> str:
    """`value` indented by 2 spaces per level; `newline` is the line break plus the
    indentation of the line `value` starts on (the text inside is indented relative to it)."""
    return _encode(value, newline)


def dumps_without_floats(value: Any, newline: str = "\n") -> str:
    """dumps(value, newline) for a value built of str, int, bool, None, lists and dicts
    with str keys, and no float (orjson spells some floats otherwise, and NaN as null): a
    SARIF result. orjson's two-space indentation and escapes are json's (tested); what it
    refuses (a lone surrogate, an int past 64 bits, a non-str key) goes to dumps."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8")
    except TypeError:
        return _encode(value, newline)
    # JSON strings hold no raw line break: every one is a line of the layout
    return text if newline == "\n" else text.replace("\n", newline)


def _encode(o: Any, nl: str) -> str:
    kind = type(o)
    if kind is str:
        return encode_basestring(o)
    if kind is dict:
        if not o:
            return "{}"
        inner = nl + "  "
        items = [
            (encode_basestring(k) if type(k) is str else _key(k))
            + ": "
            + (encode_basestring(v) if type(v) is str else _encode(v, inner))
            for k, v in o.items()
        ]
        return "{" + inner + ("," + inner).join(items) + nl + "}"
    if kind is list or kind is tuple:
        if not o:
            return "[]"
        inner = nl + "  "
        parts = [encode_basestring(v) if type(v) is str else _encode(v, inner) for v in o]
        return "[" + inner + ("," + inner).join(parts) + nl + "]"
    return _scalar_or_subclass(o, nl)


def _scalar_or_subclass(o: Any, nl: str) -> str:
    """Everything but exact str, dict, list and tuple, in the order json's encoder tests."""
    if isinstance(o, str):
        return encode_basestring(o)
    if o is None:
        return "null"
    if o is True or o is False:
        return _CONSTANTS[o]
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return _float(o)
    if isinstance(o, list | tuple):
        return _encode(list(o), nl)
    if isinstance(o, dict):
        return _encode(dict(o), nl)
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def _float(o: float) -> str:
    if math.isnan(o):
        return "NaN"
    if math.isinf(o):
        return "Infinity" if o > 0 else "-Infinity"
    return float.__repr__(o)


def _key(k: Any) -> str:
    """A dict key as json writes it: strings as they are, the other scalars spelled out."""
    if isinstance(k, str):
        return encode_basestring(k)
    if isinstance(k, float):
        return encode_basestring(_float(k))
    if k is True or k is False or k is None:
        return encode_basestring("null" if k is None else _CONSTANTS[k])
    if isinstance(k, int):
        return encode_basestring(int.__repr__(k))
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")
