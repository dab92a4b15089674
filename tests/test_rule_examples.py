"""Every rule's documented examples are its failing and passing fixtures."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.api import check_yaml
from kubevet.rules import examples
from kubevet.rules.registry import all_rules

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_bad_example_fails(rule):
    findings = check_yaml(rule.example_bad, select=["ALL"])
    assert rule.code in {f.code for f in findings}, f"{rule.code} did not fire on its bad example"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_good_example_passes(rule):
    findings = check_yaml(rule.example_good, select=["ALL"])
    hits = [f for f in findings if f.code == rule.code]
    assert not hits, f"{rule.code} fired on its good example: {[f.message for f in hits]}"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_metadata_complete(rule):
    for field in ("what", "why", "how_to_fix", "title"):
        assert getattr(rule, field).strip(), f"{rule.code} has no {field}"
    assert rule.code[:2] == "KV" and rule.code[2:].isdigit()
    assert rule.slug == rule.slug.lower() and " " not in rule.slug


# Documents like the examples' and, half of the time, with values they never hold (spaces,
# numbers as strings, YAML 1.1 words, floats, long keys, an object met twice): those go
# through PyYAML itself, and the two writers must agree either way.
_PLAIN_WORDS = ["web", "nginx:1.27", "/var/log", "ALL", "registry.example.com/web:1.4.2", "a=b"]
_OTHER_WORDS = ["yes", "on", "null", "1.5", "0755", "a b", "x:", "-x", "*", "", "~", "k" * 130]


def _documents(unusual: bool) -> st.SearchStrategy[dict]:
    words = st.sampled_from(_PLAIN_WORDS + (_OTHER_WORDS if unusual else []))
    leaves = words | st.booleans() | st.none() | st.integers(-5, 70000)
    leaves = leaves | st.just(1.5) if unusual else leaves
    values = st.recursive(
        leaves | st.builds(dict) | st.builds(list),
        lambda inner: st.dictionaries(words, inner, max_size=4) | st.lists(inner, max_size=3),
        max_leaves=30,
    )
    return st.dictionaries(words, values, max_size=5)


@settings(max_examples=400, deadline=None)
@given(doc=st.booleans().flatmap(_documents), shared=st.booleans())
def test_examples_are_written_as_pyyaml_writes_them(doc, shared):
    if shared and doc:  # the same object twice: PyYAML writes an anchor and an alias
        doc = {**doc, "again": next(iter(doc.values()))}
    assert examples._dump(doc) == yaml.dump(doc, Dumper=examples._DUMPER, sort_keys=False)


def test_the_examples_writer_writes_what_rules_show_without_pyyaml(monkeypatch):
    # The point of it: the usual example is written without PyYAML's representer.
    monkeypatch.setattr(examples.yaml, "dump", None)
    text = examples.example_pod({"securityContext": {"capabilities": {"drop": ["ALL"]}}})
    assert "      capabilities:\n        drop:\n        - ALL\n" in text
