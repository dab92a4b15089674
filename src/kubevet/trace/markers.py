"""Marker renders: where do values leaves and values maps land in the rendered objects?

Two kinds of mutation of the (merged) values, each with a unique number n:
- a leaf: a non-empty string leaf is replaced by `zqv<n>q`; wherever that text shows up in
  a rendered field, the leaf feeds the field;
- an injection: a key `zqk<n>q` is added to a values map (and, when the map has
  `enabled: false`, it is switched on); wherever that key shows up as a rendered map key,
  the values map feeds that rendered map (the `toYaml .Values.foo` pattern), so a field
  missing there is set by `foo.<field>`.
All mutations go into one render; a render that fails is split in halves until the
mutations that break the template are isolated (those are reported as not traceable).
Empty strings are marked in a second batch: as markers they turn `if` guards on and
would hide the first batch's landings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from kubevet.model import Path
from kubevet.trace import blame
from kubevet.trace.nodes import marked, missing_part, walk
from kubevet.trace.proof import Differs, Plain, Proof
from kubevet.trace.render import (
    ChartRenderer,
    ObjKey,
    ParseCache,
    Rendered,
    RenderFailed,
)
from kubevet.trace.wanted import Wanted

LEAF_RE = re.compile(r"zqv(\d+)q")
KEY_RE = re.compile(r"^zqk(\d+)q$")
LIST_RE = re.compile(r"^zql(\d+)q$")
MAX_RENDERS = 500  # per chart, for the bisection of failing batches (gitlab needs 437)


@dataclass(frozen=True, slots=True)
class Mutation:
    n: int
    kind: Literal["leaf", "inject", "create", "list"]
    path: Path  # values path of the leaf or of the map
    enable: bool = False  # injection also sets `enabled: true` on the map


@dataclass
class Landings:
    """Per rendered field: the values leaves and values maps that feed it."""

    leaves: dict[tuple[ObjKey, Path], set[Path]] = field(default_factory=dict)
    exact: dict[tuple[ObjKey, Path], Path] = field(default_factory=dict)  # whole value = leaf
    texts: dict[tuple[ObjKey, Path], str] = field(default_factory=dict)  # value with markers
    maps: dict[tuple[ObjKey, Path], Mutation] = field(default_factory=dict)
    failed: list[Mutation] = field(default_factory=list)
    leaf_paths: dict[int, Path] = field(default_factory=dict)
    # map landings in a map that holds a list or null: where a list could stand beside
    listed: set[tuple[ObjKey, Path]] = field(default_factory=set)


def values_paths(values: Any, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every node of a values tree with its path (the root excluded)."""
    for path, node in walk(values, prefix):
        if path:
            yield path, node


def plan_mutations(
    values: dict[str, Any], scopes: blame.Scopes | None = None, wanted: Wanted | None = None
) -> list[list[Mutation]]:
    """Batches, each rendered (and bisected) on its own, safest first.

    1. non-empty strings and map injections; 2. `true` and non-zero numbers as markers
    (a marker is truthy like them, but arithmetic and comparisons may break); 3. empty
    strings (as markers they turn `if` guards on); 4. maps switched on (`enabled: true`),
    which changes the most structure, so it is used only where nothing else answered.
    Subcharts' copies of `global` are left alone: users set `global`, Helm copies it.
    With `wanted`, leaves and maps that cannot land in a finding's field are left alone.
    """
    batches: list[list[Mutation]] = [[], [], [], []]
    n = 0
    for path, node in values_paths(values):
        if scopes is not None and (scopes.global_copy(path) or scopes.overwritten(path, values)):
            n += 1
            continue
        if isinstance(node, str):
            if wanted is None or wanted.leaf(path, node):
                batches[0 if node else 2].append(Mutation(n, "leaf", path))
        elif node is True or (isinstance(node, int | float) and node and node is not False):
            if wanted is None or wanted.leaf(path, node):
                batches[1].append(Mutation(n, "leaf", path))
        elif isinstance(node, dict) and not any(isinstance(p, int) for p in path):
            if wanted is None or wanted.map(path, node):
                batches[0].append(Mutation(n, "inject", path))
            if node.get("enabled") is False and (wanted is None or wanted.named(path)):
                n += 1
                batches[3].append(Mutation(n, "inject", path, True))
        n += 1
    return batches


def apply_mutations(values: dict[str, Any], batch: list[Mutation]) -> dict[str, Any]:
    """The values with the batch's mutations; `values` is left as it was. Only the maps and
    lists on the mutated paths are copied (a deep copy of gitlab's values per render cost
    more than the renders' parse)."""
    out = dict(values)
    owned: set[Path] = {()}
    for m in batch:
        if m.kind == "leaf":
            writable(out, m.path[:-1], owned)[m.path[-1]] = f"zqv{m.n}q"
            continue
        if m.kind == "list":
            parent = writable(out, m.path[:-1], owned, create=True)
            if parent is not None:
                parent[m.path[-1]] = [{"name": f"zql{m.n}q"}]
            continue
        if m.kind == "create":
            parent = writable(out, m.path[:-1], owned, create=True)
            if parent is None or m.path[-1] in parent:
                continue
            parent[m.path[-1]] = {}
        target = writable(out, m.path, owned)
        target[f"zqk{m.n}q"] = f"zqi{m.n}q"
        if m.enable:
            target["enabled"] = True
    return out


def writable(tree: Any, path: Path, owned: set[Path], create: bool = False) -> Any:
    """The node at `path`, each map and list on the way replaced by a copy of its own (once:
    `owned` holds the paths already copied). With `create`, missing maps are made, and
    None is returned where the path crosses something that is not a map."""
    node = tree
    for cut, part in enumerate(path, 1):
        if create and not isinstance(node, dict):
            return None
        sub = path[:cut]
        if create and part not in node:
            node[part] = {}
            owned.add(sub)
        elif sub not in owned:
            child = node[part]
            if isinstance(child, dict | list):
                node[part] = dict(child) if isinstance(child, dict) else list(child)
                owned.add(sub)
        node = node[part]
    if create and not isinstance(node, dict):
        return None
    return node


def collect(
    renderer: ChartRenderer,
    values: dict[str, Any],
    refs: list[Path] | None = None,
    wanted: Wanted | None = None,
    plain: Plain | None = None,
    reads: set[tuple[ObjKey, Path]] | None = None,
) -> Landings:
    """Render the marker batches (bisecting failures) and index where markers land.

    `refs` are `.Values` paths the templates mention; those missing from the values get
    a map of their own (last batch), so `{{ toYaml .Values.a.b }}` with no `a.b` in
    values.yaml still tells that `a.b.<field>` sets the field. With `wanted`, only those
    with a step named like one of a finding's path, as for an empty map in the values (a
    made-up map has no key to compare either; gitlab: 177 made up, 9 broke templates).
    `plain`: the check's render of the chart, for the copy's plain render (`proof`).
    `reads`: the (object, rendered map) pairs whose map landings a trace looks up; a list
    probe (`_drop_lists`) is rendered only where a made-up map landed in one of them.
    """
    try:
        return _collect(renderer, values, refs, wanted, plain, reads)
    except Differs:  # the copy renders other objects: its own plain render decides
        return _collect(renderer, values, refs, wanted, None, reads)


def _collect(
    renderer: ChartRenderer,
    values: dict[str, Any],
    refs: list[Path] | None,
    wanted: Wanted | None,
    plain: Plain | None,
    reads: set[tuple[ObjKey, Path]] | None = None,
) -> Landings:
    parsed: ParseCache = {}  # the templates no marker reached parse once
    proof = Proof(renderer, values, plain, parsed)
    base = proof.base
    scopes = blame.Scopes(renderer.templates)
    batches = plan_mutations(values, scopes, wanted)
    start = 1 + max((m.n for b in batches for m in b), default=0)
    missing = [p for p in _missing(values, refs or [], wanted) if not scopes.global_copy(p)]
    batches.append([Mutation(start + i, "create", p) for i, p in enumerate(missing)])
    by_n = {m.n: m for batch in batches for m in batch}
    landings = Landings(leaf_paths={n: m.path for n, m in by_n.items() if m.kind == "leaf"})
    each = [Landings() for _ in batches]  # merged in batch order: as if rendered one by one
    failed = [part.failed for part in each]
    steps = _render_batches(renderer, values, batches, failed, base, scopes, parsed, proof)
    for i, rendered in steps:
        _index(rendered, by_n, each[i], values)
    proof.settle()
    for part in each:
        _merge(landings, part)
    _drop_lists(renderer, values, landings, base, scopes, parsed, reads)
    return landings


def _merge(into: Landings, later: Landings) -> None:
    """Index `later`'s landings after `into`'s, as `_index` would have (the first map and
    text stay, the last exact leaf wins)."""
    for key, m in later.maps.items():
        into.maps.setdefault(key, m)
    for key, paths in later.leaves.items():
        into.leaves.setdefault(key, set()).update(paths)
    for key, text in later.texts.items():
        into.texts.setdefault(key, text)
    into.exact.update(later.exact)
    into.failed.extend(later.failed)
    into.listed |= later.listed


def _drop_lists(
    renderer: ChartRenderer,
    values: dict[str, Any],
    out: Landings,
    base: Any,
    scopes: blame.Scopes,
    parsed: ParseCache,
    reads: set[tuple[ObjKey, Path]] | None = None,
) -> None:
    """A key missing from the values could be a list (`extraVolumes`, rendered with
    `toYaml | indent` into a list): its map marker then lands beside the list, in the
    enclosing map. Render each such key as a one-item list; where the item shows up in a
    rendered list, the key is a list and its map landings go. With `reads`, nothing is
    rendered when no made-up map landed where a trace looks: the probe could only drop
    landings no one reads (11 of the corpus's 24 such renders); nor is a key probed whose
    map landed only where no trace looks (a probe that broke the render cost a render
    more: datadog, nextcloud), or only in maps that hold no list and no null (`listed`):
    a list item lands beside only where the template writes the list's key just before
    (`volumeMounts:` then the values), and the map's keys then follow a key left null
    (or holding the list's other items) in that map. On the corpus, 8 of the 9 probes
    rendered dropped nothing, and each of those 8 landed in such a map."""
    created = {
        m.n: m
        for at, m in out.maps.items()
        if m.kind == "create" and (reads is None or at in reads) and at in out.listed
    }
    if not created:
        return
    probes = [Mutation(n, "list", m.path) for n, m in created.items()]
    beside: set[tuple[int, ObjKey, Path]] = set()  # (n, object, map holding the list)
    broke: list[Mutation] = []  # a key used as a map breaks as a list: it stays a map
    for _, rendered in _render_batches(renderer, values, [probes], [broke], base, scopes, parsed):
        for key, obj in rendered.objects.items():
            for path, node in walk(obj):
                name = node.get("name") if isinstance(node, dict) else None
                m = LIST_RE.match(name) if isinstance(name, str) else None
                if m and len(path) >= 2 and isinstance(path[-1], int):
                    beside.add((int(m.group(1)), key, canonical(obj, path[:-2])))
    for (key, where), m in list(out.maps.items()):
        if (m.n, key, where) in beside:
            del out.maps[(key, where)]


def _unmarker(by_n: dict[int, Mutation], values: dict[str, Any]) -> Any:
    """`name-zqv3q` -> `name-<the value of leaf 3>`: a container named from values (as
    `{{ .Values.server.name }}`) keeps its name in the index, so the maps and leaves that
    land in it are found again under the name of the plain render."""

    def unmark(text: str) -> str | None:
        def one(m: re.Match[str]) -> str:
            mut = by_n.get(int(m.group(1)))
            if mut is None or mut.kind != "leaf":
                return m.group(0)
            try:
                leaf = _node(values, mut.path)
            except (KeyError, IndexError, TypeError):
                return m.group(0)
            return leaf if isinstance(leaf, str) else m.group(0)

        out = LEAF_RE.sub(one, text)
        return None if "zq" in out else out

    return unmark


def _render_batches(
    renderer: ChartRenderer,
    values: dict[str, Any],
    batches: list[list[Mutation]],
    failed: list[list[Mutation]],
    base: Any,
    scopes: blame.Scopes,
    parsed: ParseCache | None = None,
    proof: Proof | None = None,
) -> Iterator[tuple[int, Rendered]]:
    """(batch index, render) of each batch, split until each part renders, parses, and
    keeps every object of the plain render (a marker compared in `if eq` can make a whole
    object vanish); `failed[i]` gets batch i's mutations that broke a template alone, or
    that a failure named alone (`blame.Named`).
    A failing part is split by what the failure names (see `blame`), else in halves.
    Each batch takes up to two parts a step, as it would alone; the steps of all batches
    render together, two at a time (see `ChartRenderer.render_many`), where gitlab's
    batches took 29 renders one batch after another. Each batch gives the parts and renders, in
    the same order, that it gave alone."""
    stacks: list[list[list[Mutation]]] = [[batch] if batch else [] for batch in batches]
    while any(stacks):
        step = []
        for i, stack in enumerate(stacks):
            step += [(i, part) for part in _next_parts(stack, failed[i])]
        if renderer.count >= MAX_RENDERS:
            for i, part in step:
                failed[i].extend(part)
            continue
        if proof is not None and step:
            proof.before(step[0][1])
        renders: list[Rendered | RenderFailed] = []
        for at in range(0, len(step), RENDER_THREADS):  # each call under the render bounds
            chunk = step[at : at + RENDER_THREADS]
            renders += renderer.render_many([apply_mutations(values, p) for _, p in chunk], parsed)
        judged = [_judge(result, base, renderer.source_dir) for result in renders]
        if proof is not None:
            proof.after(any(why is None for _, why in judged))
        for (i, part), (rendered, why) in zip(step, judged, strict=True):
            if why is None:
                yield i, rendered
            elif len(part) == 1:
                failed[i].extend(part)
            else:
                stacks[i].extend(blame.split(part, why, scopes))


RENDER_THREADS = 2


def _next_parts(stack: list[list[Mutation]], failed: list[Mutation]) -> list[list[Mutation]]:
    """Up to RENDER_THREADS parts off the stack to render; a `blame.Named` part met on the
    way goes to `failed` without a render."""
    out: list[list[Mutation]] = []
    while stack and len(out) < RENDER_THREADS:
        part = stack.pop()
        if isinstance(part, blame.Named):
            failed.extend(part)
        else:
            out.append(part)
    return out


def _judge(
    result: Rendered | RenderFailed, base: Any, source_dir: str | None
) -> tuple[Any, blame.Blame | None]:
    """(the render, None) when a part rendered cleanly, else (None, what the failure names)."""
    if isinstance(result, RenderFailed):
        return None, blame.from_error(result.detail, source_dir)
    lost = {k[0] for k in base - result.objects.keys()}
    if not result.errors and not lost:
        return result, None
    templates = lost | result.error_templates
    near, nearest = result.near_errors, result.nearest_errors
    return None, blame.from_render(templates, source_dir, near, nearest, lost)


def canonical(obj: Any, path: Path, unmark: Any = None) -> Path:
    """Named list items (containers, volumes, env) by name, so that inserted items do not
    shift the paths of the others between renders. `unmark` turns a name rendered from
    marker values back into the name the plain render has (or None when it cannot)."""
    out: list[Any] = []
    node = obj
    for part in path:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            item = node[part]
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and "zq" in name and unmark is not None:
                name = unmark(name)
            out.append(f"#name={name}" if isinstance(name, str) and "zq" not in name else part)
            node = item
            continue
        out.append(part)
        node = node.get(part) if isinstance(node, dict) else None
    return tuple(out)


def _index(
    rendered: Rendered, by_n: dict[int, Mutation], out: Landings, values: Any = None
) -> None:
    unmark = _unmarker(by_n, values) if values is not None else None
    for key, obj in rendered.objects.items():
        if "zq" not in rendered.texts.get(key[0], "zq"):
            continue  # no marker landed in this template
        for raw, node in marked(obj):  # the canonical path only where a marker is
            if isinstance(node, dict):
                for k in node:
                    m = KEY_RE.match(k) if isinstance(k, str) and k[:3] == "zqk" else None
                    if m and int(m.group(1)) in by_n:
                        path = canonical(obj, raw, unmark)
                        out.maps.setdefault((key, path), by_n[int(m.group(1))])
                        if any(v is None or isinstance(v, list) for v in node.values()):
                            out.listed.add((key, path))
                        break
            elif isinstance(node, str) and "zqv" in node:
                found = [by_n[int(n)] for n in LEAF_RE.findall(node) if int(n) in by_n]
                if not found:
                    continue
                path = canonical(obj, raw, unmark)
                out.leaves.setdefault((key, path), set()).update(m.path for m in found)
                out.texts.setdefault((key, path), node)
                if node == f"zqv{found[0].n}q":
                    out.exact[(key, path)] = found[0].path


def _node(tree: Any, path: Path) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def pattern_of(text: str, by_n: dict[int, Path]) -> list[str | Path]:
    """`zqv1q:zqv2q` -> ["", (image, repository), ":", (image, tag), ""]: text and leaves."""
    parts: list[str | Path] = []
    pos = 0
    for m in LEAF_RE.finditer(text):
        parts.extend([text[pos : m.start()], by_n[int(m.group(1))]])
        pos = m.end()
    parts.append(text[pos:])
    return parts


def _missing(values: dict[str, Any], refs: list[Path], wanted: Wanted | None) -> list[Path]:
    """Referenced paths absent from the values whose parent is (or can be) a map, and
    that a map may be made up for (`made_up_part`)."""
    found = (made_up_part(values, ref, wanted) for ref in dict.fromkeys(refs))
    return list(dict.fromkeys(p for p in found if p is not None))


def made_up_part(values: dict[str, Any], ref: Path, wanted: Wanted | None) -> Path | None:
    """The part of `ref` missing from the values, where a made-up map there could answer a
    finding (`Wanted.made_up`); the global copies aside (they need the chart's scopes)."""
    part = missing_part(values, ref)
    return part if part is not None and (wanted is None or wanted.made_up(part)) else None
