"""JSON Patch (RFC 6902) as Kustomize applies it: made from a before/after pair, applied
exactly (a missing parent or member is an error, as it is for Kustomize)."""

from __future__ import annotations

import copy
from typing import Any

from kubevet.fix.edits import tree_copy

JsonOp = dict[str, Any]


class PatchError(ValueError):
    """A patch operation that does not apply to the object."""


def pointer(parts: tuple[Any, ...]) -> str:
    """The JSON Pointer (RFC 6901) of a path of keys and list indices."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _parts(ptr: str) -> list[str]:
    if ptr == "":
        return []
    if not ptr.startswith("/"):
        raise PatchError(f"{ptr!r} is not a JSON pointer")
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr[1:].split("/")]


def diff_ops(before: Any, after: Any, at: tuple[Any, ...] = ()) -> list[JsonOp]:
    """Operations turning `before` into `after`: members added and removed, lists of the
    same length compared item by item, anything else replaced where it differs."""
    if isinstance(before, dict) and isinstance(after, dict):
        ops: list[JsonOp] = [
            {"op": "remove", "path": pointer((*at, k))} for k in before if k not in after
        ]
        for k, v in after.items():
            if k not in before:
                ops.append({"op": "add", "path": pointer((*at, k)), "value": copy.deepcopy(v)})
            else:
                ops += diff_ops(before[k], v, (*at, k))
        return ops
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            op
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for op in diff_ops(b, a, (*at, i))
        ]
    if before == after and type(before) is type(after):
        return []
    return [{"op": "replace", "path": pointer(at), "value": copy.deepcopy(after)}]


def apply_ops(doc: dict[str, Any], ops: list[JsonOp]) -> dict[str, Any]:
    """A copy of `doc` with `ops` applied in order (add, remove, replace, test)."""
    out = tree_copy(doc)
    for op in ops:
        _apply(out, op)
    return out


def _apply(doc: Any, op: JsonOp) -> None:
    kind, parts = op.get("op"), _parts(str(op.get("path", "")))
    if not parts:
        raise PatchError(f"{kind} on the whole object is not supported")
    parent = _walk(doc, parts[:-1], op)
    last = parts[-1]
    if isinstance(parent, list):
        _apply_list(parent, last, op)
    elif isinstance(parent, dict):
        if kind == "add":
            parent[last] = copy.deepcopy(op["value"])
        elif last not in parent:
            raise PatchError(f"{kind} {op['path']}: no such member")
        elif kind == "replace":
            parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del parent[last]
        elif kind == "test" and parent[last] != op["value"]:
            raise PatchError(f"test {op['path']}: value differs")
    else:
        raise PatchError(f"{kind} {op['path']}: the parent is not a map or a list")


def _apply_list(items: list[Any], last: str, op: JsonOp) -> None:
    kind = op.get("op")
    if kind == "add" and last == "-":
        items.append(copy.deepcopy(op["value"]))
        return
    index = _index(last, op)
    if kind == "add":
        if index > len(items):
            raise PatchError(f"add {op['path']}: index past the end")
        items.insert(index, copy.deepcopy(op["value"]))
        return
    if index >= len(items):
        raise PatchError(f"{kind} {op['path']}: no such item")
    if kind == "replace":
        items[index] = copy.deepcopy(op["value"])
    elif kind == "remove":
        del items[index]
    elif kind == "test" and items[index] != op["value"]:
        raise PatchError(f"test {op['path']}: value differs")


def _walk(doc: Any, parts: list[str], op: JsonOp) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list):
            index = _index(part, op)
            if index >= len(node):
                raise PatchError(f"{op.get('op')} {op['path']}: no item {index}")
            node = node[index]
        else:
            raise PatchError(f"{op.get('op')} {op['path']}: no {part!r} on the way")
    return node


def _index(part: str, op: JsonOp) -> int:
    if not part.isdigit() or (part.startswith("0") and part != "0"):
        raise PatchError(f"{op.get('op')} {op['path']}: {part!r} is not a list index")
    return int(part)
