"""What the YAML fast path needs to know about rapidyaml's JSON besides its values: whether a
mapping repeats a key, which strings YAML 1.1 may read otherwise if they were plain, and a
few marks.

The C module (_jsonscan.c, built at install where a compiler is found) answers in one pass,
and a text it clears loads with orjson. Without it, the same questions go to regular
expressions and substring tests that may answer "maybe" (a string inside a string), and the
standard decoder checks every mapping's keys and every number as it builds them: the same
documents, only more slowly.
"""

from __future__ import annotations

from kubevet import lazy_compile

try:
    from kubevet.sources._jsonscan import scan as _scan_in_c
except ImportError:  # not built (no C compiler at install): the regular expressions below
    _scan_in_c = None

NEGATIVE_FRACTION = 1  # a number written -0.x: rapidyaml's reading of a plain `-.x`
MERGE_KEY = 2  # a key `<<`
ALIAS_LIKE = 4  # a string starting with `*`: an alias comes out as "*name"
DUPLICATE_KEY = 8  # a mapping repeats a key
KEYS_UNCHECKED = 16  # some keys were not compared: the decoder must check them
NUMBERS_UNSURE = 32  # an exponent (YAML 1.1 may read a string) or 19+ digits (past 64 bits)

# JSON strings that YAML 1.1 may read as something else when they were plain in the source:
# booleans, nulls, numbers in any base, sexagesimal, infinities; rapidyaml writes `inf` and
# `nan` as `.inf` and `.nan`. A wide net: PyYAML's own resolver makes the decision. The C
# scan tests the same forms.
CANDIDATE_FORMS = (
    r"~|[Yy]es|YES|[Nn]o|NO|[Tt]rue|TRUE|[Ff]alse|FALSE|[Oo]n|ON|[Oo]ff|OFF|[Nn]ull|NULL"
    r"|[-+]?\.?(?:inf|Inf|INF|nan|NaN|NAN)|[-+]?[0-9.][0-9a-fA-FxXoO_:.eE+-]*"
)
_CANDIDATE = lazy_compile(r'"(?=[~YyNnTtFfOoIi0-9.+-])(' + CANDIDATE_FORMS + r')"(:?)')


def scan_json(emitted: str) -> tuple[int, list[tuple[str, bool]]]:
    """(marks; candidate strings with whether each is a key) for the JSON `emitted`. Without
    the C scan, marks and candidates may include look-alikes inside strings (callers check
    them in the tree), and keys and numbers are left to the decoder."""
    if _scan_in_c is not None:
        return _scan_in_c(emitted)
    marks = KEYS_UNCHECKED | NUMBERS_UNSURE
    marks |= NEGATIVE_FRACTION if "-0." in emitted else 0
    marks |= MERGE_KEY if '"<<":' in emitted else 0
    marks |= ALIAS_LIKE if '"*' in emitted else 0
    found = [(m.group(1), bool(m.group(2))) for m in _CANDIDATE.finditer(emitted)]
    return marks, found
