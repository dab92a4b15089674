"""Which marker mutations to suspect when a marker render fails.

A failed render names the templates it failed in: Helm's error text, the documents that
did not parse, the objects that vanished. A template of subchart `a/charts/b/...` sees only
the values under `b` (and `global`), so the mutations outside that scope are set apart at
once instead of by halving, and a `<.Values.x.y>` or a marker named in the error is tried
on its own. On umbrella charts (gitlab: 12,000 values paths, a few hundred that break a
template) halving alone ran out of renders before most markers had landed.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kubevet.model import Path

_TEMPLATE = re.compile(r"((?:[\w.-]+/)+templates/[\w./-]*\w)(?::(\d+))?")
_MARKER = re.compile(r"zq[vki](\d+)q")
_REF = re.compile(r"\$?\.Values((?:\.[\w-]+)+)")
_QUOTED = re.compile(r"`([\w-]+(?:\.[\w-]+)+)`")  # "Make sure to set `global.psql.ssl`"
_AT = re.compile(r"at <([^>]*)>")
_FIELD = re.compile(r"\.([A-Za-z_]\w*)")
_FAIL = re.compile(r"execution error at \([^)]*\): ([^\n]*)")  # `fail`, `required`
_WORD = re.compile(r"[A-Za-z_]\w*")
_VARIABLE = re.compile(r"\$(\w+)")
_AT_WHOLE = re.compile(r'at <((?:"[^"]*"|[^">])*)>')  # `<semverCompare ">=1.20" $v>` whole


@dataclass
class Blame:
    """What a failure points at, strongest first: markers, values paths (on the failing
    lines, then just above them), field names, the words of a chart's own failure
    message, the values paths of the templates it names, and the templates themselves."""

    templates: set[str] = field(default_factory=set)
    markers: set[int] = field(default_factory=set)
    refs: set[Path] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # `.field` names in `at <...>`
    file_refs: set[Path] = field(default_factory=set)
    words: set[str] = field(default_factory=set)  # of a `fail`/`required` message, folded
    above: set[Path] = field(default_factory=set)  # paths just above the failing lines
    nearest: set[int] = field(default_factory=set)  # each alone closest to a YAML error
    guards: set[Path] = field(default_factory=set)  # of the `if`s where objects vanished


def from_error(text: str, chart_dir: str | None = None) -> Blame:
    """What Helm's error names: templates, markers, `.Values` paths in the error and in
    the template lines it points at (`file.yaml:12:4`). A path in an included helper is
    read in the scope of every template of the chain (helpers run in their caller's)."""
    found = _TEMPLATE.findall(text)
    templates = {t for t, _ in found}
    rel = {_ref(m) for m in _REF.findall(text)}
    above: set[Path] = set()  # `{{ range .Values.envVars }}` over a failing `{{ .name }}`
    variables = {v for at in _AT_WHOLE.findall(text) for v in _VARIABLE.findall(at)}
    for template, line in found:
        for n in range(int(line), int(line) - 1 - ABOVE, -1) if chart_dir and line else ():
            source = _line(chart_dir, template, n) or ""
            (rel if n == int(line) else above).update(_ref(m) for m in _REF.findall(source))
        if variables and chart_dir and line:
            above |= _assigned(chart_dir, template, int(line), variables)
    if chart_dir:
        rel |= _with_refs(chart_dir, text)
        for msg in _FAIL.findall(text):
            at, near_at = _message_refs(chart_dir, templates, msg)
            rel |= at
            above |= near_at
    scopes = {scope_of(t) for t in templates} or {()}
    refs = {_normal((*s, *r)) for s in scopes for r in rel}
    refs.update(tuple(m.split(".")) for m in _QUOTED.findall(text))
    names = {n for at in _AT.findall(text) for n in _FIELD.findall(at)} - {"Values"}
    markers = {int(n) for n in _MARKER.findall(text)}
    words = {w.casefold() for msg in _FAIL.findall(text) for w in _WORD.findall(msg)}
    near = {_normal((*s, *r)) for s in scopes for r in above}
    file_refs = _file_refs(chart_dir, templates)
    return Blame(templates, markers, refs, names, file_refs, words, near)


ABOVE = 3  # lines above a failing line whose `.Values` paths come next (its `range`, `if`)
# lines above a failing line searched for its variables' assignments, up to its `define`
# (gitlab's certmanager-issuer job sets `$imageCfg` on line 2, includes it on line 27)
ASSIGNED = 60
_DEFINE = re.compile(r"\{\{-?\s*define\b")


def _assigned(chart_dir: str, template: str, line: int, variables: set[str]) -> set[Path]:
    """The `.Values` paths given to the variables the failure names, on the ASSIGNED lines
    above it (in its `define`) up to each one's closest declaration: `$version :=
    .Values.image.tag | toString` for `<semverCompare ... $version>` (datadog, with a `$version
    = "1.20.0"` between), `range $key, $value := .Values.secretEnv` for `<$value.key>`
    (pihole: not the `range` over another map above it)."""
    out: set[Path] = set()
    left = set(variables)
    for n in range(line - 1, max(0, line - 1 - ASSIGNED), -1):
        source = _line(chart_dir, template, n) or ""
        for v in list(left):
            assigned = re.search(rf"\${re.escape(v)}\s*(:?)=", source)
            if assigned:
                out.update(_ref(m) for m in _REF.findall(source))
                if assigned.group(1):
                    left.discard(v)
        if not left or _DEFINE.search(source):
            break
    return out


def _with_refs(chart_dir: str, text: str) -> set[Path]:
    """`<eq .usernameChangingEnabled true>` under `{{ with .Values.global.appConfig }}`:
    the `.Values` path a failing action's own fields read, where the block around it
    sets the dot to a values path (gitlab: the `with` was 9 lines up, past ABOVE)."""
    out: set[Path] = set()
    for template, line, col, action in _EXECUTING.findall(text):
        chains = [c for c in _CHAIN.findall(action) if c.split(".")[1] not in _BUILTIN]
        dot = _dot(chart_dir, template, int(line), int(col or 0)) if chains else None
        out.update((*dot, *_ref(c)) for c in chains if dot is not None)
    return out


_EXECUTING = re.compile(
    r'((?:[\w.-]+/)+templates/[\w./-]*\w):(\d+)(?::(\d+))?:?\s+executing "[^"]*" '
    r'at <((?:"[^"]*"|[^">])*)>'
)
_CHAIN = re.compile(r'(?<![\w$).\]"])((?:\.[A-Za-z_]\w*)+)')  # `.a.b`, not `$x.a`
_BUILTIN = {"Values", "Release", "Chart", "Template", "Capabilities", "Files", "Subcharts"}
_ACTION = re.compile(r"\{\{-?\s*(if|with|range|define|block|end)\b([^}]*)")
_WITH_VALUES = re.compile(r"\s*(?:\$\w+\s*:?=\s*)?\$?\.Values((?:\.[\w-]+)+)\s*-?")


def _dot(chart_dir: str, template: str, line: int, col: int) -> Path | None:
    """The values path the dot holds at `line` (1-based; actions before column `col` of
    it count): the innermost enclosing `with .Values.x`, or None where an enclosing
    `range`, `define` or other `with` sets it to something else (or none is found)."""
    lines = read_lines(template_file(chart_dir, template)) or ()
    if not 0 < line <= len(lines):
        return None
    depth = 0
    for n in range(line - 1, -1, -1):
        text = lines[n][: max(col - 1, 0)] if n == line - 1 else lines[n]
        for word, args in reversed(_ACTION.findall(text)):
            if word == "end":
                depth += 1
            elif depth:  # the opening of an inner block, closed before `line`
                depth -= 1
            elif word != "if":  # an enclosing `if` leaves the dot as it was
                found = _WITH_VALUES.fullmatch(args) if word == "with" else None
                return _ref(found.group(1)) if found else None
    return None


def _message_refs(chart_dir: str, templates: set[str], message: str) -> tuple[set[Path], set[Path]]:
    """The `.Values` paths on the line of the chart's templates that hold a `fail` or
    `required` message as a literal (Helm may point at the caller's line instead:
    gitlab's postgresql statefulset), and those on the ABOVE lines over it."""
    at: set[Path] = set()
    above: set[Path] = set()
    quoted = f'"{message}"'
    for root in {_chart_root(chart_dir, t) for t in templates}:
        for lines in _chart_sources(root):
            for n, source in enumerate(lines):
                if quoted not in source:
                    continue
                at.update(_ref(m) for m in _REF.findall(source))
                for prev in lines[max(0, n - ABOVE) : n]:
                    above.update(_ref(m) for m in _REF.findall(prev))
    return at, above


def _chart_root(chart_dir: str, template: str) -> str:
    path = template_file(chart_dir, template)
    return path[: path.rfind("/templates/")] if "/templates/" in path else chart_dir


@functools.lru_cache(maxsize=64)
def _chart_sources(root: str) -> tuple[tuple[str, ...], ...]:
    """The lines of every file under a chart's own templates/ (its helpers included)."""
    out = []
    for folder, _, files in os.walk(os.path.join(root, "templates")):
        for name in sorted(files):
            lines = read_lines(os.path.join(folder, name))
            if lines:
                out.append(lines)
    return tuple(out)


def from_render(
    templates: set[str],
    chart_dir: str | None = None,
    markers: set[int] | None = None,
    nearest: set[int] | None = None,
    lost: set[str] | None = None,
) -> Blame:
    """A render whose documents did not parse or whose objects vanished, in `templates`;
    `markers`: the ones standing just above where a document broke, `nearest`: those
    alone on the marked line closest to an error; `lost`: the templates whose objects vanished."""
    out = Blame(templates, set(markers or ()), file_refs=_file_refs(chart_dir, templates))
    out.nearest = set(nearest or ())
    for template in lost or () if chart_dir else ():
        out.guards |= _guard_refs(chart_dir, template)
    return out


_GUARD = re.compile(r"\{\{-?\s*(?:else\s+)?(?:if|with)\b")


@functools.lru_cache(maxsize=512)
def _guard_refs(chart_dir: str, template: str) -> frozenset[Path]:
    """The `.Values` paths of a template's `if` and `with` lines: an object vanishes where
    a marker turns a guard (`gt (.Values.replicaCount | int) 1`) false (gitlab's
    nginx-ingress PDB: 2 suspects, not the 3 numbers the template reads)."""
    lines = read_lines(template_file(chart_dir, template)) or ()
    scope = scope_of(template)
    found = (m for line in lines if _GUARD.search(line) for m in _REF.findall(line))
    return frozenset(_normal((*scope, *_ref(m))) for m in found)


def _file_refs(chart_dir: str | None, templates: set[str]) -> set[Path]:
    out: set[Path] = set()
    for template in templates if chart_dir else ():
        out.update(_template_refs(chart_dir, template))
    return out


@functools.lru_cache(maxsize=512)
def _template_refs(chart_dir: str, template: str) -> frozenset[Path]:
    """The `.Values` paths of a template, read once per run (a chart's failing renders
    name the same templates again); a path stays on its line, so the text is searched
    whole."""
    lines = read_lines(template_file(chart_dir, template)) or ()
    scope = scope_of(template)
    return frozenset(_normal((*scope, *_ref(m))) for m in _REF.findall("\n".join(lines)))


def _normal(path: Path) -> Path:
    """`sub.global.x` -> `global.x`: globals are marked at the top only."""
    return path[path.index("global") :] if "global" in path else path


def _ref(match: str) -> Path:
    return tuple(match.strip(".").split("."))


def _line(chart_dir: str, template: str, line: int) -> str | None:
    """Line `line` of a template, read from the chart directory (None for archives)."""
    lines = read_lines(template_file(chart_dir, template))
    return lines[line - 1] if lines and 0 < line <= len(lines) else None


def template_file(chart_dir: str, template: str) -> str:
    """The file of a template (its name starts with the chart's name; a subchart is named
    by its alias where it has one, its directory by the chart's own name)."""
    parts = template.split("/")[1:]
    directory = chart_dir
    while len(parts) >= 2 and parts[0] == "charts":
        name = parts[1]
        if not os.path.isdir(os.path.join(directory, "charts", name)):
            name = _aliases(directory).get(name, name)
        directory = os.path.join(directory, "charts", name)
        parts = parts[2:]
    return os.path.join(directory, *parts)


@functools.lru_cache(maxsize=128)
def _aliases(chart_dir: str) -> dict[str, str]:
    """alias -> chart name, from Chart.yaml (v2) or requirements.yaml (v1) dependencies."""
    import yaml

    from kubevet.findings import InputError
    from kubevet.sources.reader import leaves, read_bytes

    out: dict[str, str] = {}
    for name in ("Chart.yaml", "requirements.yaml"):
        path = os.path.join(chart_dir, name)
        if leaves(os.path.realpath(chart_dir), path):
            continue  # never read through a link out of the chart (it was not rendered)
        try:
            meta = yaml.safe_load(read_bytes(path)) or {}
        except (InputError, yaml.YAMLError):
            continue
        for dep in meta.get("dependencies") or () if isinstance(meta, dict) else ():
            if isinstance(dep, dict) and dep.get("alias") and dep.get("name"):
                out[str(dep["alias"])] = str(dep["name"])
    return out


@functools.lru_cache(maxsize=512)
def read_lines(path: str) -> tuple[str, ...] | None:
    """A template's lines, read once per run (None when it cannot be read)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return tuple(fh.read().splitlines())
    except (OSError, UnicodeDecodeError):
        return None


def scope_of(template: str) -> Path:
    """`root/charts/a/charts/b/templates/x.yaml` -> ("a", "b"): where its values live."""
    parts = template.split("/")
    out: list[str] = []
    i = 1
    while i + 1 < len(parts) and parts[i] == "charts":
        out.append(parts[i + 1])
        i += 2
    return tuple(out)


class Scopes:
    """The values scopes of a chart's templates (the chart and each subchart)."""

    def __init__(self, templates: Iterable[str]) -> None:
        self.all = {scope_of(t) for t in templates} | {()}
        self.children: dict[Path, set[str]] = {}
        for s in self.all:
            for cut in range(len(s)):
                self.children.setdefault(s[:cut], set()).add(s[cut])

    def global_copy(self, path: Path) -> bool:
        """`sub.global.x`: Helm's copy of `global.x` in a subchart's values."""
        return "global" in path and any(
            p == "global" and path[:i] in self.all for i, p in enumerate(path) if i
        )

    def overwritten(self, path: Path, values: dict[str, Any]) -> bool:
        """`sub.global.x` of a chart on the way to rendered ones (that renders none
        itself: gitlab's `gitlab` has helpers only) where the top `global.x` is a leaf
        too: Helm lays the parent's globals over it, so its marker can neither land nor
        break (it was one render more); a global only the subchart has is kept."""
        for i, p in enumerate(path):
            if i and p == "global" and path[:i] in self.children:
                top, sub = _get(values, path[i:]), _get(values, path)
                return top is not _NONE and not isinstance(sub, dict)
        return False

    def owns(self, scope: Path, path: Path, globals: bool = True) -> bool:
        """A values path a template of `scope` can see (globals are seen everywhere;
        with `globals=False`, only its own values)."""
        if "global" in path:  # the top-level one, or a copy on the way down to `scope`
            cut = path.index("global")
            return globals and path[:cut] == scope[:cut]
        if path[: len(scope)] != scope:
            return False
        rest = path[len(scope) :]
        return not rest or rest[0] not in self.children.get(scope, ())


_NONE = object()


def _get(tree: Any, path: Path) -> Any:
    for part in path:
        if not isinstance(tree, dict) or part not in tree:
            return _NONE
        tree = tree[part]
    return tree


def split(part: list[Any], blame: Blame, scopes: Scopes) -> list[list[Any]]:
    """Parts to render next: the suspects apart from the rest, or two halves."""
    blamed = {scope_of(t) for t in blame.templates}

    def seen(m: Any, globals: bool = True) -> bool:
        return any(scopes.owns(s, m.path, globals) for s in blamed)

    alone = [m for m in part if m.n in blame.nearest]  # each alone at a YAML error of its own
    if alone and len(alone) < len(part):
        return _parts(alone, part, named=True)
    tiers = [
        lambda m: m.n in blame.markers,
        # the very path before its ancestors: a key injected into `image` leaves the
        # `image.tag` that `semverCompare` failed on as it was (datadog)
        lambda m: m.path in blame.refs,
        lambda m: any(_related(m.path, r) for r in blame.refs),
        lambda m: m.path in blame.above,
        lambda m: any(_related(m.path, r) for r in blame.above),
        lambda m: _named(m.path, blame.names) and seen(m),
        lambda m: _named(m.path, blame.names),
        # "Certificate CA filename is required when TLS in enabled": `redis.tls` in the
        # failing template's own values, then in the globals it sees too
        lambda m: _named(m.path, blame.words, True) and seen(m, False),
        lambda m: _named(m.path, blame.words, True) and seen(m),
        lambda m: any(_related(m.path, r) for r in blame.guards),
        lambda m: any(_related(m.path, r) for r in blame.file_refs),
        seen,
    ]
    for tier, suspect in enumerate(tiers):
        first = [m for m in part if suspect(m)]
        if first and len(first) < len(part):
            if len(first) == 1 and tier < NAMED_TIERS:
                return _parts(first, part, named=True)
            return _parts(first, part)
    half = len(part) // 2
    return [part[half:], part[:half]]


SOLO = 3  # suspects up to this many are rendered one by one at once
# The first tiers are what the failure itself names (its marker, a `.Values` path on or
# just above the failing line, or read there through `with` or a variable), as are the
# markers alone closest above YAML errors. The one suspect such a tier finds broke the
# template on its own in every such case on the corpus (33 of 33): rendering it alone
# only confirmed it.
NAMED_TIERS = 5


class Named(list):  # type: ignore[type-arg]
    """A part of one mutation that the failure names alone: taken as broken, not rendered."""


def _named(path: Path, names: set[str], fold: bool = False) -> bool:
    return bool(path) and (str(path[-1]).casefold() if fold else path[-1]) in names


def _parts(first: list[Any], part: list[Any], named: bool = False) -> list[list[Any]]:
    """The rest, then the suspects: up to SOLO one by one (rendered together, a few that
    hold the culprit fail and are split again, a render more each time: 6 of gitlab's
    40 renders), more as one part; a `named` one as `Named`."""
    taken = {id(m) for m in first}
    rest = [m for m in part if id(m) not in taken]
    if named:
        return [rest, Named(first)]
    return [rest, *([m] for m in reversed(first))] if len(first) <= SOLO else [rest, first]


def _related(path: Path, ref: Path) -> bool:
    n = min(len(path), len(ref))
    return path[:n] == ref[:n]
