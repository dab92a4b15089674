"""Python objects straight from rapidyaml's tree (the C module _treewalk), where its reading
of the tree is known to be right: yamlfast's JSON path without the JSON.

_treewalk reads the tree's nodes at the memory layout of the rapidyaml release it was written
for, as the binding offers no faster access (see the C file). So it is used only with that
release (KNOWN_RELEASES), and before that, `load` compares what it reads with the binding's
own answers (the tree's size and capacity first, then node by node over sample documents) and
what it builds with the expected values: any difference (another platform, another build)
and yamlfast's JSON path runs alone, as before. Without a C compiler at install,
there is no _treewalk, with the same outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from kubevet.sources import _treewalk
except ImportError:  # not built (no C compiler at install)
    _treewalk = None

Build = Callable[[Any, int], Any]  # (tree, node) -> the value, or NotImplemented

# The rapidyaml releases whose tree layout _treewalk reads (c4::yml::NodeData, Tree): with
# any other, not a byte of a tree is read through it. A new release goes here once the tests
# pass with it (test_treewalk checks the layout against the binding).
KNOWN_RELEASES = frozenset({"0.15"})

# The sample documents, and what each one's root builds into (None: not built, the JSON
# path's). Each kind of node and scalar style the walk meets, and some it must leave alone.
_SAMPLES: list[tuple[bytes, Any]] = [
    (
        b"a: 1\nb: [x, 'y', \"z\\n\", -7, 0, 012, 1.5, yes, ~, '']\nc: |\n  lit\nd:\n"
        b"e:\n  f: {g: h}\n  'h': >\n    folded\n    text\n\"q\": null\n",
        {
            "a": 1,
            "b": ["x", "y", "z\n", -7, 0, 10, 1.5, True, None, ""],  # 012: octal in YAML 1.1
            "c": "lit\n",
            "d": None,
            "e": {"f": {"g": "h"}, "h": "folded text\n"},
            "q": None,
        },
    ),
    (b"- - - deep\n  - [1, {k: v}]\n- on: off\n", [[["deep"], [1, {"k": "v"}]], {True: False}]),
    (b"a: &x 1\nb: *x\n", None),
    (b"a: !!str 1\n", None),
    (b"a: 1\na: 2\n", None),
]


def load(ryml: Any, raw: Any, resolve: Callable[[str], Any], string: object) -> Build | None:
    """The build function, or None where _treewalk is missing or reads this rapidyaml
    otherwise than its binding does."""
    if _treewalk is None or ryml is None or raw is None or release(ryml) not in KNOWN_RELEASES:
        return None
    try:
        bits = {name: getattr(ryml, name) for name in ("KEY", "MAP", "SEQ")}
        bits |= {name: getattr(ryml, name) for name in ("KEY_PLAIN", "VAL_PLAIN", "VALNIL")}
        bits["UNSURE"] = (
            ryml.KEYANCH | ryml.VALANCH | ryml.KEYREF | ryml.VALREF | ryml.KEYTAG | ryml.VALTAG
            | ryml.KEYNIL | ryml.KEY_UNFILT | ryml.VAL_UNFILT
        )  # fmt: skip
        _treewalk.configure(bits)
    except (AttributeError, KeyError, TypeError, OverflowError):
        return None

    def build(tree: Any, node: int) -> Any:
        return _treewalk.build(tree, node, resolve, string)

    try:
        ok = all(_sample_ok(raw, text, want, build) for text, want in _SAMPLES)
    except Exception:  # the binding itself refused something: do without
        return None
    return build if ok else None


def release(ryml: Any) -> str:
    """rapidyaml's major.minor release ("0.15"), "" where it does not say."""
    version = str(getattr(ryml, "__version__", ""))
    return ".".join(version.split(".")[:2]) if version.count(".") >= 1 else ""


def _sample_ok(raw: Any, text: bytes, expected: Any, build: Build) -> bool:
    tree = raw.new_Tree()
    raw.parse_csubstr(text, tree)
    if _treewalk.head(tree) != (raw.Tree_capacity(tree), raw.Tree_size(tree)):
        return False  # the nodes are not where _treewalk would read them: none is read
    if not all(_node_ok(raw, tree, i) for i in range(raw.Tree_size(tree))):
        return False
    root = raw.Tree_root_id(tree)
    got = build(tree, root)
    if expected is None:
        return got is NotImplemented
    return _same(got, expected)


def _node_ok(raw: Any, tree: Any, i: int) -> bool:
    """Whether _treewalk reads node i as the binding does."""
    kind, key, val, parent, first, following = _treewalk.node(tree, i)
    want_key = _bytes(raw.Tree_key(tree, i)) if raw.Tree_has_key(tree, i) else key
    want_val = _bytes(raw.Tree_val(tree, i)) if raw.Tree_has_val(tree, i) else val
    return (
        kind == raw.Tree_type(tree, i)
        and key == want_key
        and val == want_val
        and parent == _id(raw.Tree_parent(tree, i))
        and first == _id(raw.Tree_first_child(tree, i))
        and following == _id(raw.Tree_next_sibling(tree, i))
    )


def _bytes(scalar: Any) -> bytes | None:
    return None if scalar is None else bytes(scalar)


def _id(node: int) -> int:
    return -1 if node < 0 or node >= 2**63 else node


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True is not 1 here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
