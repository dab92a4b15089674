"""The scan of rapidyaml's JSON (sources/jsonscan.py and its C module): repeated keys, YAML
1.1 candidate strings and marks, checked against what the generator of each JSON text put in
it; and the same documents through the C scan (and orjson) and through the fallback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.sources import jsonscan, yamldocs
from kubevet.sources.jsonscan import (
    ALIAS_LIKE,
    DUPLICATE_KEY,
    KEYS_UNCHECKED,
    MERGE_KEY,
    NEGATIVE_FRACTION,
    NUMBERS_UNSURE,
    scan_json,
)

needs_c = pytest.mark.skipif(
    jsonscan._scan_in_c is None,
    reason="kubevet.sources._jsonscan is not built (pip install -e . builds it with a C compiler)",
)

CANDIDATE = re.compile(jsonscan.CANDIDATE_FORMS)  # fullmatched: a whole string

# Strings near the candidate forms and near what the scan must not be fooled by: escaped
# quotes and backslashes (also right before a closing quote), `: ` inside strings.
TRICKY = st.sampled_from(
    ["yes", "No", "ON", "off", "~", "null", "True", "0755", "-0x1F", "1_000", "1:30", ".inf",
     "-.NaN", "+.5", "1.2.3", "0", "-5", "name", "nope", "onward", "yes\\", 'yes"', "<<", "*a",
     "*", 'a": b', 'a\\": b', "a\\", "\\", '"', "é:ü", "-0.5", "\n", ": x", "y", "ÿes"]
)  # fmt: skip
STRINGS = st.one_of(TRICKY, st.text(max_size=8))
NUMBERS = st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False))
LEAVES = st.one_of(STRINGS, NUMBERS, st.sampled_from([True, False, None]))


def pairs(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A JSON object as a list of pairs: keys may repeat, as in a YAML mapping with a
    duplicate key."""
    return st.lists(st.tuples(STRINGS, children), max_size=4).map(Pairs)


class Pairs(list):  # type: ignore[type-arg]
    pass


VALUES = st.recursive(
    LEAVES,
    lambda children: st.one_of(st.lists(children, max_size=4), pairs(children)),
    max_leaves=20,
)


def emit(value: Any) -> str:
    """JSON as rapidyaml writes it on one line: `": ` after each key, `,` between items."""
    if isinstance(value, Pairs):
        return "{" + ",".join(f"{emit(k)}: {emit(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(emit(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def expected(value: Any) -> tuple[int, list[tuple[str, bool]]]:
    """What the scan must find, from the value itself. Keys are compared as written: one
    holding an escape (which has other spellings) is left to the decoder."""
    marks, found = 0, []

    def string(s: str, is_key: bool) -> None:
        nonlocal marks
        marks |= ALIAS_LIKE if s.startswith("*") else 0
        marks |= MERGE_KEY if is_key and s == "<<" else 0
        if CANDIDATE.fullmatch(s):
            found.append((s, is_key))

    def walk(v: Any) -> None:
        nonlocal marks
        if isinstance(v, Pairs):
            seen = set()
            for k, child in v:
                if "\\" in json.dumps(k, ensure_ascii=False):
                    marks |= KEYS_UNCHECKED
                elif k in seen:
                    marks |= DUPLICATE_KEY
                seen.add(k)
                string(k, True)
                walk(child)
        elif isinstance(v, list):
            for child in v:
                walk(child)
        elif isinstance(v, str):
            string(v, False)
        elif isinstance(v, float):
            marks |= NEGATIVE_FRACTION if json.dumps(v).startswith("-0.") else 0
            marks |= NUMBERS_UNSURE if "e" in json.dumps(v) else 0
        if isinstance(v, int | float) and re.search("[0-9]{19}", json.dumps(v)):
            marks |= NUMBERS_UNSURE

    walk(value)
    return marks, found


@needs_c
@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_c_scan_finds_what_the_json_holds(value):
    assert scan_json(emit(value)) == expected(value)


@contextmanager
def without_c() -> Iterator[None]:
    """The fallback kubevet uses where the C module could not be built."""
    kept = jsonscan._scan_in_c
    jsonscan._scan_in_c = None
    try:
        yield
    finally:
        jsonscan._scan_in_c = kept


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_fallback_scan_finds_at_least_what_the_json_holds(value):
    """Without the C module: keys and numbers are left to the decoder, marks and candidates
    may include look-alikes inside strings, never fewer."""
    with without_c():
        marks, found = scan_json(emit(value))
    want_marks, want_found = expected(value)
    assert marks & (KEYS_UNCHECKED | NUMBERS_UNSURE) == KEYS_UNCHECKED | NUMBERS_UNSURE
    assert marks & want_marks == want_marks & ~DUPLICATE_KEY
    assert set(want_found) <= set(found)


@needs_c
@pytest.mark.parametrize("n", range(20))
@pytest.mark.parametrize("escape", ['\\"', "\\\\", "\\u00e9", ""])
def test_strings_are_read_whole_wherever_an_escape_falls(n, escape):
    """The C scan reads strings eight bytes at a time: an escaped quote or backslash at any
    offset of a word, a string ending on a word's edge or just past it, are read whole."""
    body = "x" * n
    text = '{"' + body + escape + body + '": "yes", "k": ["' + body + escape + '", "on"]'
    marks, found = scan_json(text + ', "' + body + '": 1, "' + body + '": 2}')
    assert marks & DUPLICATE_KEY  # the keys after the escapes were read as keys
    assert bool(marks & KEYS_UNCHECKED) == bool(escape)  # a key with an escape is not compared
    assert found == [("yes", False), ("on", False)]


@needs_c
@pytest.mark.parametrize("n", range(12))
def test_an_unterminated_string_ends_the_scan(n):
    marks, found = scan_json('{"on": "' + "x" * n + "\\")
    assert found == [("on", True)]
    assert not marks & DUPLICATE_KEY


@needs_c
def test_keys_past_what_the_scan_compares_are_left_to_the_decoder():
    wide = emit(Pairs([(f"k{i}", i) for i in range(260)] + [("k0", 0)]))
    deep = "[" * 70 + emit(Pairs([("a", 1), ("a", 2)])) + "]" * 70
    assert scan_json(wide)[0] == KEYS_UNCHECKED
    assert scan_json(deep)[0] == KEYS_UNCHECKED
    assert scan_json(emit(Pairs([(f"k{i}", i) for i in range(256)])))[0] == 0


@needs_c
def test_many_keys_of_open_mappings_are_all_compared():
    """Keys of nested mappings that are open together (a CRD's schema, a large ConfigMap)
    outgrow the scan's first room for keys: the innermost repeat is still found."""
    inner = Pairs([(f"c{i}", i) for i in range(200)] + [("c7", 0)])
    middle = Pairs([(f"b{i}", i) for i in range(199)] + [("b199", inner)])
    outer = emit(Pairs([(f"a{i}", i) for i in range(199)] + [("a199", middle)]))
    assert scan_json(outer)[0] == DUPLICATE_KEY
    assert scan_json(outer.replace('"c7": 0', '"c200": 0'))[0] == 0


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=64))
def test_c_scan_reads_any_text(text):
    try:
        marks, found = jsonscan._scan_in_c(text)
    except UnicodeEncodeError:  # a lone surrogate, which rapidyaml's UTF-8 never holds
        assert any("\ud800" <= c <= "\udfff" for c in text)
        return
    assert 0 <= marks < 64
    assert all(isinstance(s, str) and isinstance(k, bool) for s, k in found)


@needs_c
def test_c_scan_reads_keys_not_look_alikes():
    text = emit(Pairs([("a", 'x": y'), ("b", ["yes", ": z"]), ("<<", "*n"), ("c", -0.25)]))
    assert scan_json(text) == (NEGATIVE_FRACTION | MERGE_KEY | ALIAS_LIKE, [("yes", False)])
    nested = emit(Pairs([("a", Pairs([("b", 1)])), ("b", Pairs([("a", 1), ("c", 1e20)]))]))
    assert scan_json(nested) == (NUMBERS_UNSURE, [])
    assert scan_json(emit(Pairs([("a", Pairs([("b", 1), ("b", 2)]))])))[0] == DUPLICATE_KEY


# YAML documents the two scans must give identically: duplicate keys (also after a string
# holding an escaped quote and `: `), merge keys, aliases, `-.5`, YAML 1.1 scalars as keys
# and values, JSON inside strings.
YAML_PARTS = st.sampled_from(
    ["a: yes", "b: 'yes'", "c: -.5", "d: -0.5", "e: '*x'", "f: &x 1", "g: *x", "'<<': m",
     'h: "say \\"hi\\": now"', "i: 'a\\'", "j: '{\"k\": \"v\", \"k\": 1}'", "a: dup",
     "0755: octal", "k: [on, 'off', ~]", "l: {m: n, m: o}", "p: |\n  q: r\n  q: s",
     "q: 1.5e+3", "r: 1e3", "s: 2.5", 't: "a\tb\x01"', "u: 123456789012345678901234567890",
     "v: -9223372036854775809", '"w\\u0061": 1', "wa: 2"]
)  # fmt: skip


@needs_c
@settings(max_examples=200, deadline=None)
@given(st.lists(YAML_PARTS, min_size=1, max_size=6))
def test_documents_are_the_same_with_and_without_the_c_scan(parts):
    text = "\n".join(parts) + "\n"
    with_c = yamldocs.parse_stream(text, "t.yaml")
    with without_c():
        without = yamldocs.parse_stream(text, "t.yaml")
    assert repr(with_c) == repr(without)


@needs_c
@pytest.mark.parametrize("c_scan", [True, False])
def test_a_duplicate_key_is_reported_with_both_lines(c_scan):
    """Found by the C scan (a string holding `\\": ` must not hide it) or, without it, by the
    decoder; reported with both lines, and the last value is used."""
    text = 'x: "say \\"a\\": b"\nspec:\n  a: 1\n  b: 2\n  a: 3\n'
    with nullcontext() if c_scan else without_c():
        docs, errors = yamldocs.parse_stream(text, "dup.yaml")
    assert [d.data for d in docs] == [{"x": 'say "a": b', "spec": {"a": 3, "b": 2}}]
    assert [e.line for e in errors] == [5]
    assert "duplicate key 'a' (lines 3 and 5)" in errors[0].message


# Streams near the cuts: `---` at a line's start followed by the end, a space, a tab, a
# line break or anything else; `---` not at a line's start; text of 1, 2 and 4 bytes per
# character (str kinds, which the C scan reads each its own way).
STREAM_PARTS = st.sampled_from(
    ["\n", "---", "\n---", "\n--- ", "\n---\t", "\n---\r\n", "\n----", "\n--", "-", " ", "a",
     "k: v", "é", "ĳ", "😀", "\n...", "#", "\r"]
)  # fmt: skip


@pytest.mark.skipif(yamldocs._cuts_in_c is None, reason="kubevet.sources._jsonscan.cuts not built")
@settings(max_examples=500, deadline=None)
@given(st.lists(STREAM_PARTS, max_size=12).map("".join))
def test_c_cuts_split_a_stream_as_the_python_does(text):
    with mock.patch.object(yamldocs, "_cuts_in_c", None):
        want = list(yamldocs._split(text))
    assert list(yamldocs._split(text)) == want
    assert "".join(chunk for chunk, _ in want) == text
