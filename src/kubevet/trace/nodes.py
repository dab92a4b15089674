"""Walks of values trees and rendered objects, and lookups along a path in them."""

from __future__ import annotations

from typing import Any

from kubevet.model import Path, get_path

_MISSING = object()


def walk(node: Any, prefix: Path = ()) -> list[tuple[Path, Any]]:
    """(path, value) of every node, containers included, depth first. Built as a list by
    one recursive function: a chain of generators passed each node up through every level
    above it (tracing walks every values node and marked object a few times)."""
    out: list[tuple[Path, Any]] = []

    def visit(node: Any, path: Path) -> None:
        out.append((path, node))
        if isinstance(node, dict):
            for k, v in node.items():
                visit(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, (*path, i))

    visit(node, prefix)
    return out


def marked(obj: Any) -> list[tuple[Path, Any]]:
    """(path, node) of each map with a `zqk` key and each string holding `zqv`, in `walk`'s
    order: the only nodes `markers._index` looks at. The path is made only for those (one
    for every node of every marked object was most of `_index`'s time)."""
    out: list[tuple[Path, Any]] = []
    path: list[Any] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if any(isinstance(k, str) and k[:3] == "zqk" for k in node):
                out.append((tuple(path), node))
            items: Any = node.items()
        else:
            items = enumerate(node)
        for k, v in items:
            if isinstance(v, dict | list):
                path.append(k)
                visit(v)
                path.pop()
            elif isinstance(v, str) and "zqv" in v:
                out.append(((*path, k), v))

    if isinstance(obj, dict | list):
        visit(obj)
    elif isinstance(obj, str) and "zqv" in obj:
        out.append(((), obj))
    return out


def nodes_on(data: Any, path: Path) -> list[Any]:
    """The node at each prefix of `path` (`get_path` of each), up to the first missing:
    one step down at a time, where `get_path` of each prefix went down from the top."""
    out = [data]
    for part in path:
        node = get_path(out[-1], (part,), _MISSING)
        if node is _MISSING:
            break
        out.append(node)
    return out


def missing_part(values: dict[str, Any], ref: Path) -> Path | None:
    """The shortest part of `ref` absent from the values, where its parent is a map."""
    node: Any = values
    for i, part in enumerate(ref):
        if not isinstance(node, dict):
            return None
        if part not in node:
            return ref[: i + 1]
        node = node[part]
    return None
