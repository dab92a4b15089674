"""The shapes rules rely on, checked once when an object is built.

A field of the wrong type (`containers: web`, `ports: "80"`, `securityContext: [..]`,
`capabilities: {add: {a: b}}`) would make any rule that reads it raise. Instead the
object is conformed here: each malformed field is reported with its path, and rules see
a view without it (a malformed mapping in a list becomes an empty `Hole`, so the indices
of its siblings, and so their lines, stay right). Everything well-shaped is still checked.

The shapes of the kinds are data, in kubevet.kindshapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from kubevet.kindshapes import KINDS, META, STR, Each, Leaf

if TYPE_CHECKING:
    from kubevet.malformed import Malformed
    from kubevet.model import Path


class Hole(dict):  # type: ignore[type-arg]
    """Stands in, empty, for a malformed mapping inside a list."""


_DROP = object()


def conform(data: dict[str, Any]) -> tuple[dict[str, Any], list[Malformed]]:
    """(the object with each malformed field taken out, the malformed fields).

    The input is never changed; containers on the way to a malformed field are copied,
    so a well-shaped object comes back as the very same dict."""
    kind = str(data.get("kind", ""))
    if _kind_checker(kind)(data):  # nearly every object: no copy, no paths built
        return data, []
    shape = {"metadata": META, **KINDS.get(kind, {})}
    problems: list[Malformed] = []
    out = _conform(data, shape, (), problems)
    return (out if isinstance(out, dict) else {}), problems


_CONTAINERS = (dict, list)
Check = Callable[[Any], bool]
_KIND_CHECKERS: dict[str, Check] = {}


def _kind_checker(kind: str) -> Check:
    """Whether `_conform` would find nothing to take out of an object of `kind` (the same
    walk without paths), compiled once per kind: this runs on every object of a run."""
    check = _KIND_CHECKERS.get(kind)
    if check is None:
        shape = {"metadata": META, **KINDS.get(kind, {})}
        check = _KIND_CHECKERS[kind] = _checker(shape, {})
    return check


def _checker(shape: Any, done: dict[int, Check]) -> Check:
    """A function telling whether a value has `shape` (`_conform` would take nothing out),
    one closure per shape node so that the walk does no dispatch on the shape."""
    if id(shape) not in done:
        if type(shape) is Leaf:
            done[id(shape)] = _scalar
        elif type(shape) is list:
            done[id(shape)] = _members_checker(shape[0], done, list, iter)
        elif type(shape) is Each:
            done[id(shape)] = _members_checker(shape.shape, done, dict, dict.values)
        else:
            done[id(shape)] = _mapping_checker(shape, done)
    return done[id(shape)]


def _scalar(value: Any) -> bool:
    return not isinstance(value, _CONTAINERS)


def _members_checker(
    item: Any, done: dict[int, Check], container: type, members: Callable[[Any], Iterable[Any]]
) -> Check:
    """For a list of `item` (`members` = iter) or an `Each(item)` (`members` = dict.values)."""
    if type(item) is Leaf:

        def scalars(value: Any) -> bool:
            if not isinstance(value, container):
                return value is None
            for v in members(value):  # noqa: SIM110 - a loop is twice as fast as all() here
                if isinstance(v, _CONTAINERS):
                    return False
            return True

        return scalars
    check = _checker(item, done)

    def shaped(value: Any) -> bool:
        if not isinstance(value, container):
            return value is None
        for v in members(value):  # noqa: SIM110
            if v is not None and not check(v):
                return False
        return True

    return shaped


def _mapping_checker(shape: dict[str, Any], done: dict[int, Check]) -> Check:
    subs = {k: None if type(sub) is Leaf else _checker(sub, done) for k, sub in shape.items()}
    if all(check is None for check in subs.values()):  # ports, volume mounts, ...

        def scalar_fields(value: Any) -> bool:
            if not isinstance(value, dict):
                return value is None
            for key, v in value.items():  # noqa: SIM110
                if isinstance(v, _CONTAINERS) and key in subs:
                    return False
            return True

        return scalar_fields

    def mapping(value: Any) -> bool:
        if not isinstance(value, dict):
            return value is None
        for key, v in value.items():
            if key in subs:
                check = subs[key]
                if check is None:  # a scalar field
                    if isinstance(v, _CONTAINERS):
                        return False
                elif v is not None and not check(v):
                    return False
        return True

    return mapping


def _conform(value: Any, shape: Any, path: Path, problems: list[Malformed]) -> Any:
    if value is None:
        return value
    if isinstance(shape, Leaf):
        if shape.accepts(value):
            return value
        return _bad(path, shape.name, value, problems)
    if isinstance(shape, list):
        if not isinstance(value, list):
            return _bad(path, "a list", value, problems)
        return _conform_list(value, shape[0], path, problems)
    if not isinstance(value, dict):
        return _bad(path, "a mapping", value, problems)
    if isinstance(shape, Each):
        pairs = [(k, shape.shape) for k in value]
    else:
        pairs = [(k, sub) for k, sub in shape.items() if k in value]
    out = value
    for key, sub in pairs:
        new = _conform(value[key], sub, (*path, key), problems)
        if new is value[key]:
            continue
        if out is value:
            out = dict(value)
        if new is _DROP:
            del out[key]
        else:
            out[key] = new
    return out


def _conform_list(value: list[Any], item: Any, path: Path, problems: list[Malformed]) -> Any:
    out = value
    for index, element in enumerate(value):
        new = _conform(element, item, (*path, index), problems)
        if new is element:
            continue
        if out is value:
            out = list(value)
        # A stand-in keeps the index of every item after this one (and so its line).
        out[index] = new if new is not _DROP else _hole(item)
    if out is not value and _DROP in out:
        out = [v for v in out if v is not _DROP]  # numbers: no harmless stand-in
    return out


def _hole(item: Any) -> Any:
    if isinstance(item, Leaf):
        return "" if item is STR else _DROP
    return Hole()


def _bad(path: Path, expected: str, value: Any, problems: list[Malformed]) -> Any:
    from kubevet.malformed import Malformed  # only inputs with a malformed field need it

    problems.append(Malformed(path, f"expected {expected}, got {describe(value)}"))
    return _DROP


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def __getattr__(name: str) -> Any:
    if name == "Malformed":  # its home before kubevet.malformed
        from kubevet.malformed import Malformed

        return Malformed
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
