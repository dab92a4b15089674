"""Fix a chart where its users edit it: a values override built from the traced keys.

Each chosen finding's edits become edits of the values tree (through the traces); the
override holds the user's values plus the resulting changes. The chart is then rendered
with it and checked again: objects must keep their identities and schemas, and change
only at the fixed fields. Findings the override cannot reach get a suggested template
patch instead.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml

from kubevet.findings import Edit, Finding
from kubevet.fix.edits import apply_edits, edit_roots, vanishing_roots
from kubevet.fix.verify import identity, identity_problems, verify_object
from kubevet.fix.yamlout import dump
from kubevet.model import Path

_MISSING: Any = object()


@dataclass
class ChartResult:
    chart: str
    output: str
    values: dict[str, Any] = field(default_factory=dict)  # the whole override file
    findings: list[Finding] = field(default_factory=list)  # every active finding, traced
    applied: list[Finding] = field(default_factory=list)
    removed: list[Finding] = field(default_factory=list)  # gone after re-render and re-check
    template: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, patch)
    rejected: list[tuple[Finding, str]] = field(default_factory=list)
    blocked: list[tuple[Finding, str]] = field(default_factory=list)  # no override can verify
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    chosen: list[Finding] = field(default_factory=list)  # the fixes a round set out to make
    after: list[Finding] = field(default_factory=list)  # what the re-check found left
    render: Any = None  # the InputGroup `after` was found in (the last proven render)
    withdrawn: list[tuple[Finding, str]] = field(default_factory=list)  # added a finding
    overlay: Any = None  # lever 2, an overlay.OverlayResult
    overlay_dir: str = ""  # where the post-render patch set goes
    first_render: Any = None  # the chart rendered with the user's values, before any fix
    maintainer: Any = None  # lever 3, a templateproof.TemplateResult
    template_patch: str = ""  # where lever 3's patch goes


def values_edits(f: Finding, edits: tuple[Edit, ...], values: dict[str, Any]) -> list[Edit] | None:
    """The same change expressed on the values tree, or None when a template must change."""
    traces = {t.path: t for t in f.edit_traces}
    out: list[Edit] = []
    for e in edits:
        t = traces.get(e.path)
        if e.op == "remove" and (t is None or t.status != "values"):
            continue  # goes with another edit (NodePort-only fields); the re-check decides
        if t is None or t.status != "values":
            return None
        if t.key is not None:
            if t.enable is not None:
                out.append(Edit("set", t.enable, True))
            out.append(Edit(e.op, t.key, e.value))
        elif t.pattern and e.op == "set" and isinstance(e.value, str):
            solved = solve_pattern(t.pattern, e.value, values)
            if solved is None:
                return None
            out.extend(Edit("set", k, v) for k, v in solved)
        else:
            return None
    return out or None  # removals alone, none reachable by a key: the template must change


def solve_pattern(
    pattern: tuple[Any, ...], value: str, values: dict[str, Any]
) -> list[tuple[Path, str]] | None:
    """Leaf values that make `text leaf text leaf ... text` render as `value`.

    Every leaf but the last keeps its current value when the new text still starts the
    same way (so `repo:tag` -> `repo:tag@sha256:...` changes only the tag); otherwise the
    text is split at the literal parts.
    """
    import re

    leaves = [p for p in pattern if isinstance(p, tuple)]
    current = [str(_get(values, p)) for p in leaves]
    head = "".join(current[leaves.index(p)] if isinstance(p, tuple) else p for p in pattern[:-2])
    tail_text = pattern[-1] if isinstance(pattern[-1], str) else ""
    if value.startswith(head) and value.endswith(tail_text):
        last = value[len(head) : len(value) - len(tail_text)]
        groups = [*current[:-1], last]
    else:
        regex = "".join("(.*?)" if isinstance(p, tuple) else re.escape(p) for p in pattern)
        m = re.fullmatch(regex, value)
        if m is None:
            return None
        groups = list(m.groups())
    return [(p, g) for p, g, c in zip(leaves, groups, current, strict=True) if g != c]


def materialized(f: Finding, edits: list[Edit], obj: dict[str, Any]) -> list[Edit]:
    """`edits` plus, for each values map that feeds a rendered map, the fields that map
    shows in `obj` (the object with the fixes applied). Setting a map the template
    falls back from (`if .Values.sc` ... `else` hard-coded defaults) would otherwise drop
    those defaults."""
    out = list(edits)
    taken = {e.path for e in edits}
    for t in f.edit_traces:
        if t.anchor is None or t.map is None:
            continue
        leaves = _leaves(_get(obj, t.anchor) or {})
        if any(_structural(v) for _, v in leaves):
            # the map lands in a whole pod spec or object (a list rendered `| indent`
            # where the map was marked): its fields are the template's, not the map's
            continue
        for rel, value in leaves:
            key = (*t.map, *rel)
            if not any(key[: len(k)] == k or k[: len(key)] == key for k in taken):
                out.insert(0, Edit("set", key, value))
                taken.add(key)
    return out


def _structural(value: Any) -> bool:
    """A list of objects (containers, volumes): what a settings map never holds."""
    return isinstance(value, list) and any(isinstance(v, dict) for v in value)


def _leaves(node: Any, prefix: Path = ()) -> list[tuple[Path, Any]]:
    if isinstance(node, dict) and node:
        return [leaf for k, v in node.items() for leaf in _leaves(v, (*prefix, k))]
    return [(prefix, node)] if prefix else []


def override_delta(before: Any, after: Any) -> Any:
    """The values a user file must hold to turn `before` into `after` (None deletes)."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return after
    out: dict[str, Any] = {}
    for k, v in after.items():
        if k not in before:
            out[k] = v
        elif before[k] != v:
            out[k] = override_delta(before[k], v)
    for k in before:
        if k not in after:
            out[k] = None
    return out


def _get(tree: Any, path: Path) -> Any:
    from kubevet.model import get_path

    return get_path(tree, path)


def null_defaults(chart_dir: str | None) -> dict[str, list[tuple[Path, Path]]]:
    """Per top-level subchart key, the null leaves of its default values and of its own
    subcharts' as (subchart scope, path inside it), globals aside: Helm drops them without
    user values, but keeps them once a values file names the subchart (helm/helm#32093)."""
    out: dict[str, list[tuple[Path, Path]]] = {}
    charts = os.path.join(chart_dir or "", "charts")
    if not chart_dir or not os.path.isdir(charts):
        return out
    for name in sorted(os.listdir(charts)):
        found = out.setdefault(name, [])
        for scope, directory in _chart_dirs(os.path.join(charts, name), (name,)):
            try:
                with open(os.path.join(directory, "values.yaml"), encoding="utf-8") as fh:
                    values = yaml.safe_load(fh) or {}
            except (OSError, yaml.YAMLError):
                continue
            found += [(scope, p) for p in _null_leaves(values) if "global" not in p]
    return out


def _chart_dirs(directory: str, scope: Path) -> list[tuple[Path, str]]:
    if not os.path.isfile(os.path.join(directory, "Chart.yaml")):
        return []
    out = [(scope, directory)]
    sub = os.path.join(directory, "charts")
    for name in sorted(os.listdir(sub)) if os.path.isdir(sub) else ():
        out += _chart_dirs(os.path.join(sub, name), (*scope, name))
    return out


def _null_leaves(node: Any, prefix: Path = ()) -> list[Path]:
    if not isinstance(node, dict):
        return []
    out: list[Path] = []
    for k, v in node.items():
        out += [(*prefix, k)] if v is None else _null_leaves(v, (*prefix, k))
    return out


# The first line of every file kubevet fix writes: what it may replace (--output).
OWNED_HEADER = "# Written by `kubevet fix`"


def values_text(values: dict[str, Any]) -> str:
    header = f"{OWNED_HEADER}: your values plus the fixes kubevet could prove.\n"
    return header + dump(values, default_flow_style=False)


def write_values(path: str, values: dict[str, Any]) -> None:
    """A values file kubevet owns (a temporary one), written plainly."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(values_text(values))


def render_with(path: str, values: dict[str, Any], helm: Any) -> Any:
    """The chart rendered with exactly `values` (as a values file, like the user will)."""
    from kubevet.sources.helm import load_chart

    with values_file(values, helm) as opts:
        group = load_chart(path, opts)
    raise_limit(group)
    return group


def raise_limit(group: Any) -> None:
    """A render past a time or memory bound stops fixing the chart (an input error),
    where any other render problem only refuses the fixes being proven."""
    from kubevet.sources.renderworker import LimitError

    for err in group.errors:
        if isinstance(err, LimitError):
            raise err


@contextmanager
def values_file(values: dict[str, Any], helm: Any) -> Iterator[Any]:
    """Helm options giving exactly `values` (in a temporary values file, for the block)."""
    from dataclasses import replace

    fd, tmp = tempfile.mkstemp(suffix=".yaml", prefix="kubevet-override-")
    os.close(fd)
    try:
        write_values(tmp, values)
        yield replace(helm, values_files=[tmp], set_values=[], set_string_values=[])
    finally:
        os.remove(tmp)


def noise_roots(first: list[Any], second: list[Any]) -> dict[Any, list[Path]]:
    """Fields that differ between two renders with the same values (random passwords and
    their checksums): they change whatever the fix does, so they are not held against it."""
    from kubevet.fix.edits import changed_paths

    again = {identity(o.data): o.data for o in second}
    out: dict[Any, list[Path]] = {}
    for obj in first:
        other = again.get(identity(obj.data))
        if other is not None:
            out[identity(obj.data)] = list(changed_paths(obj.data, other))
    return out


def unstable_names(first: list[Any], second: list[Any]) -> set[Any]:
    """Identities that change between two renders with the same values (random names)."""
    return {identity(o.data) for o in first} - {identity(o.data) for o in second}


def verify_render(
    before: list[Any],
    after: list[Any],
    roots: dict[Any, list[Path]],
    version: Any,
    unstable: set[Any] | None = None,
    vanish: dict[Any, list[Path]] | None = None,
) -> list[str]:
    """Problems of the re-rendered objects against the original ones."""
    unstable = unstable or set()
    kept = [o.data for o in before if identity(o.data) not in unstable]
    known = {identity(d) for d in kept}
    random_kinds = [k[0] for k in unstable]
    fresh = []
    for o in after:  # a randomly named object comes back under another random name
        ident = identity(o.data)
        if ident not in known and ident[0] in random_kinds:
            random_kinds.remove(ident[0])
            continue
        fresh.append(o.data)
    problems = identity_problems(kept, fresh)
    by_id = {identity(o.data): o.data for o in after}
    for obj in before:
        new = by_id.get(identity(obj.data))
        if new is None:
            continue
        ident = identity(obj.data)
        gone = (vanish or {}).get(ident)
        for p in verify_object(obj.data, new, roots.get(ident, []), version, gone):
            problems.append(f"{obj.kind} {obj.name}: {p}")
    return problems


def object_roots(applied: list[tuple[Finding, tuple[Edit, ...]]]) -> dict[Any, list[Path]]:
    """Per object identity, the subtrees the applied fixes may change."""
    roots: dict[Any, list[Path]] = {}
    for f, edits in applied:
        obj = f.obj
        extra = [t.created for t in f.edit_traces if t.created]
        roots.setdefault(identity(obj.data), []).extend(edit_roots(edits) + extra)
    return roots


def object_vanish(applied: list[tuple[Finding, tuple[Edit, ...]]]) -> dict[Any, list[Path]]:
    """Per object identity, the fields the applied fixes may make go away."""
    out: dict[Any, list[Path]] = {}
    for f, edits in applied:
        obj = f.obj
        out.setdefault(identity(obj.data), []).extend(vanishing_roots(obj.kind, edits))
    return out


def apply_values(values: dict[str, Any], edits: list[Edit]) -> dict[str, Any]:
    return apply_edits(copy.deepcopy(values), edits)
