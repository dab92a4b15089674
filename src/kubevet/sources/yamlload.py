"""The YAML loader and document type shared by the stream parser (yamldocs), its rapidyaml
fast path (yamlfast) and the JSON reader (jsondocs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from kubevet.findings import InputError

# Deepest nesting accepted. Real charts reach 38 levels (CRD schemas, in the corpus), the
# Kubernetes API types about 20. Past this, recursive code (PyYAML's constructor, rule
# helpers, reporters) would near Python's 1,000-frame limit, and libyaml's composer recurses
# on the C stack, so a deeper document is refused before PyYAML composes it.
MAX_DEPTH = 200
_STR_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "timestamp", "value")
)  # read as strings by _Loader, as Kubernetes does


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's parser with PyYAML's safe constructor; notes duplicate mapping keys."""

    duplicates: list[tuple[str, int, int]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # keys merged in with `<<` are meant to be overridden
            key = self.construct_object(key_node, deep=True)  # memoised: built once
            try:
                first = seen.get(key)
                if first is None:
                    seen[key] = key_node.start_mark.line
                    continue
            except TypeError:
                continue  # an unhashable key: the constructor reports it
            if not hasattr(self, "duplicates"):
                self.duplicates = []
            self.duplicates.append((repr(key), first, key_node.start_mark.line))
        return super().construct_mapping(node, deep)


# YAML 1.1 types that Kubernetes does not use; read them as plain strings, not errors.
for _tag in ("tag:yaml.org,2002:value", "tag:yaml.org,2002:timestamp"):
    _Loader.add_constructor(_tag, lambda loader, node: loader.construct_scalar(node))


def load_one(text: str) -> Any:
    """One YAML document with libyaml (data tables, values and config files load on every
    run; PyYAML's pure-Python safe_load took tens of milliseconds for them)."""
    return yaml.load(text, Loader=_Loader)


@dataclass(slots=True)
class Document:
    """One parsed YAML document with where it starts in its stream."""

    data: Any
    line: int  # 1-based line of the document's first content
    text: str  # the source chunk holding the document (for `locate`)
    first_line: int  # 1-based line where `text` starts in the stream
    index: int = 0  # which document of `text` this is
    prefix: tuple[str | int, ...] = ()  # where the object is in it: ("items", 2) in a List


class _Duplicate(Exception):
    """A mapping repeats a key: PyYAML parses the document again and reports both lines."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _Duplicate
    return mapping


def _duplicate_error(name: str, key: str, first: int, second: int) -> InputError:
    return InputError(
        name,
        f"duplicate key {key} (lines {first} and {second}): the API server refuses it, "
        "and here the last one is used",
        second,
    )
