"""Edits on plain data, and the before/after comparison that bounds what a fix may touch."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from kubevet.findings import Edit
from kubevet.model import Path


def tree_copy(node: Any) -> Any:
    """A copy of parsed YAML/JSON data (maps, lists, immutable scalars): what
    `copy.deepcopy` gives for it, several times faster (proofs copy whole renders)."""
    if isinstance(node, dict):
        return {k: tree_copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [tree_copy(v) for v in node]
    return node


def apply_edits(data: dict[str, Any], edits: Iterable[Edit]) -> dict[str, Any]:
    """A copy of `data` with the edits applied in order (list removals highest index first)."""
    out = tree_copy(data)
    for e in _ordered(edits):
        apply_edit(out, e)
    return out


def _ordered(edits: Iterable[Edit]) -> list[Edit]:
    """Removals of list items last and from the end, so earlier indices stay valid."""
    edits = list(edits)
    keep = [e for e in edits if not (e.op == "remove" and e.path and isinstance(e.path[-1], int))]
    items = [e for e in edits if e not in keep]
    return keep + sorted(items, key=lambda e: e.path[-1], reverse=True)  # type: ignore[arg-type,return-value]


def apply_edit(data: Any, e: Edit) -> None:
    parent = data
    for i, part in enumerate(e.path[:-1]):
        nxt = e.path[i + 1]
        if isinstance(parent, dict):
            if not isinstance(parent.get(part), dict | list):
                parent[part] = [] if isinstance(nxt, int) else {}
            parent = parent[part]
        else:
            parent = parent[part]
    last = e.path[-1]
    if e.op == "set":
        parent[last] = copy.deepcopy(e.value)
    elif e.op == "remove":
        if isinstance(parent, dict):
            parent.pop(last, None)
        elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            del parent[last]
    elif e.op == "append":
        if not isinstance(parent.get(last) if isinstance(parent, dict) else None, list):
            parent[last] = []
        parent[last].append(copy.deepcopy(e.value))


def changed_paths(before: Any, after: Any, prefix: Path = ()) -> Iterator[Path]:
    """Leaf paths whose value differs (a subtree present on one side only: all its leaves)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in dict.fromkeys([*before, *after]):
            b, a = before.get(key, _NONE), after.get(key, _NONE)
            if (b is None or b is _NONE) and (a is None or a is _NONE):
                continue  # `field: null` and no field are the same object to the API server
            yield from changed_paths(b, a, (*prefix, key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from changed_paths(b, a, (*prefix, i))
    elif isinstance(before, dict) and (after is _NONE or after is None):
        yield from (p for p, _ in _leaves(before, prefix))
    elif isinstance(after, dict) and (before is _NONE or before is None):
        yield from (p for p, _ in _leaves(after, prefix))
    elif before != after or type(before) is not type(after):
        yield prefix


_NONE: Any = object()


def _leaves(node: Any, prefix: Path) -> Iterator[tuple[Path, Any]]:
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from _leaves(v, (*prefix, k))
    else:
        yield prefix, node


def edit_roots(edits: Iterable[Edit]) -> list[Path]:
    """The subtrees a fix may change: each edit's path (a list, for item removals)."""
    roots = []
    for e in edits:
        path = e.path
        if e.op == "remove" and path and isinstance(path[-1], int):
            path = path[:-1]
        roots.append(path)
    return roots


def outside(paths: Iterable[Path], roots: list[Path]) -> list[Path]:
    """Changed paths not under any root; `checksum/...` annotations are derived from the
    rendered config, so they follow any values change and are not held against a fix."""
    return [
        p
        for p in paths
        if not any(p[: len(r)] == r for r in roots) and not str(p[-1]).startswith("checksum/")
    ]


# Service fields the API server accepts only with these types: a fix that makes a Service
# ClusterIP lets them go (the chart's template drops them with the type; kept, the API
# server would reject the object).
_SERVICE_TYPE_ONLY: dict[Path, tuple[str, ...]] = {
    ("spec", "externalTrafficPolicy"): ("NodePort", "LoadBalancer"),
    ("spec", "healthCheckNodePort"): ("LoadBalancer",),
    ("spec", "loadBalancerIP"): ("LoadBalancer",),
    ("spec", "loadBalancerSourceRanges"): ("LoadBalancer",),
    ("spec", "loadBalancerClass"): ("LoadBalancer",),
    ("spec", "allocateLoadBalancerNodePorts"): ("LoadBalancer",),
}


def vanishing_roots(kind: str, edits: Iterable[Edit]) -> list[Path]:
    """Fields that may disappear (and only disappear) because of the edits: the ones the
    API server forbids with the value a fix sets."""
    out: list[Path] = []
    for e in edits:
        if kind == "Service" and e.op == "set" and e.path == ("spec", "type"):
            out += [p for p, types in _SERVICE_TYPE_ONLY.items() if e.value not in types]
    return out
