"""The fast path's JSON emit: the same text as rapidyaml's own `emit_json`, without its leak."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

ryml = pytest.importorskip("ryml")

from kubevet.sources import yamlfast  # noqa: E402
from kubevet.sources.yamldocs import parse_stream  # noqa: E402

# Compared without what rapidyaml's own emit_json gets wrong: it ends its text at a NUL
# character (a C string) and hands a lone surrogate's bytes back as other characters (the
# in-place emit refuses those bytes as UTF-8, so PyYAML reads that chunk, correctly).
text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
scalars = st.one_of(text, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner),
    max_leaves=30,
)


def _yaml(value: object) -> bytes:
    import yaml

    return yaml.safe_dump(value, allow_unicode=True).encode("utf-8")


@settings(max_examples=150, deadline=None)
@given(values)
def test_emit_is_rapidyamls_own(value: object) -> None:
    try:
        tree = ryml.parse_in_arena(_yaml(value))
    except Exception:  # rapidyaml refuses some of PyYAML's spellings: PyYAML parses those
        assume(False)
    assert _outcome(yamlfast._emit_json, tree) == _outcome(ryml.emit_json, tree)


def _outcome(emit: object, tree: object) -> object:
    """The text, or that it failed (either way the caller then hands the chunk to PyYAML)."""
    try:
        return emit(tree, tree.root_id())  # type: ignore[operator,attr-defined]
    except Exception:  # rapidyaml's bytes that are not UTF-8 (a lone surrogate's escape)
        return "failed"


def test_a_document_larger_than_the_buffer_is_emitted_whole() -> None:
    big = {f"key{i}": "x" * 200 for i in range(4000)}  # ~900 KiB of JSON: the buffer grows
    yamlfast._EMIT.__dict__.pop("buffer", None)  # from its first size (512 KiB)
    tree = ryml.parse_in_arena(_yaml(big))
    assert yamlfast._emit_json(tree, tree.root_id()) == ryml.emit_json(tree, tree.root_id())


def test_an_empty_document_emits_nothing() -> None:
    tree = ryml.parse_in_arena(b"# only a comment\n")
    assert yamlfast._emit_json(tree, tree.root_id()) is None


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_parsing_the_same_document_again_and_again_does_not_grow_memory() -> None:
    # rapidyaml's emit_json leaks its output buffer: 60 parses of this ~1.4 MiB document
    # grew the process by more than 60 MiB before kubevet emitted into its own buffer.
    text = "".join(f"key{i}:\n  name: {'v' * 60}\n  n: {i}\n" for i in range(15000))
    docs, errors = parse_stream(text, "big.yaml")
    assert not errors and docs[0].data["key7"]["n"] == 7
    before = _rss_kib()
    for _ in range(60):
        parse_stream(text, "big.yaml")
    assert _rss_kib() - before < 30 * 1024
