"""Keys of a user's values file that change nothing: neither a key of the chart's own
values.yaml nor a name any template of the chart tree reads (`securityContxt`,
`replicaCout`). Helm renders them without a word, so a typo passes every check.

Static and conservative, by design: a key counts as read when its name appears anywhere in
any template or helper of the chart or its subcharts (helpers are shared across the tree),
when a template passes the values whole (`toYaml .Values`) or passes the map holding it
(`toYaml .Values.podSecurityContext`), when a dependency's condition or `tags:` names it,
or when it configures a subchart whose templates read it. Only keys no template could read
are reported; a chart packed as a .tgz (or a packed subchart) is not looked into.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from typing import Any

from kubevet.model import Path, get_path
from kubevet.sources.helmoptions import HelmOptions, is_values_name

# The whole values map dumped or walked, so that any key may be read without its name
# written anywhere (`toYaml .Values`, `.Values | toJson`, `range $k, $v := .Values`). Handed
# to a helper (`dict "root" .Values`), its keys are still read by name there.
_BARE_VALUES = re.compile(r"\.Values(?![\w.])")
_DUMPED_BEFORE = re.compile(r"(?:\b(?:mustT|t)o\w*|\brange\b[^}]*?)\s*\(?\s*\$?$")
_DUMPED_AFTER = re.compile(r"\s*\|\s*\w*[tT]o")


def _values_dumped(text: str) -> bool:
    for found in _BARE_VALUES.finditer(text):  # few: most `.Values` are followed by a key
        start = found.start()
        before = text[max(0, start - 80) : start]
        if _DUMPED_BEFORE.search(before) or _DUMPED_AFTER.match(text, found.end()):
            return True
    return False


_WORD = re.compile(r"[\w-]+")


def unused_key_warnings(chart: str, user: dict[str, Any], opts: HelmOptions) -> list[str]:
    """One warning per key of the user's values that changes nothing, at its line in the
    last values file that sets it (or naming --set)."""
    texts = [(vf, _read(vf)) for vf in opts.values_files]
    paths = unused_keys(chart, user, tuple(text for _, text in texts))
    if not paths:
        return []
    files = [(name, text, _parse(text, name)) for name, text in texts]  # each parsed once
    warnings = []
    for path in paths:
        dotted = ".".join(str(p) for p in path)
        where = _where(path, files)
        warnings.append(
            f"{where}: values key {dotted!r} is neither a key of the chart's values.yaml nor "
            f"read by any template of {chart}: it changes nothing (a typo?)"
        )
    return warnings


def _where(path: Path, files: list[tuple[str, str, Any]]) -> str:
    """`file:line` of the last values file that sets `path`, else --set."""
    from kubevet.sources.yamldocs import locate_many

    for name, text, data in reversed(files):
        if isinstance(data, dict) and get_path(data, path, _ABSENT) is not _ABSENT:
            (line,) = locate_many(text, 1, 0, [path])
            return f"{name}:{line}" if line else name
    return "--set"


_ABSENT = object()


def _read(path: str) -> str:
    from kubevet.findings import InputError
    from kubevet.sources.reader import read_text

    try:
        return read_text(path)
    except InputError:
        return ""


def unused_keys(chart: str, user: dict[str, Any], user_texts: tuple[str, ...] = ()) -> list[Path]:
    """Paths of `user` (merged values) that no template of the chart at `chart` can read;
    `user_texts`: the values files' texts, whose `{{ }}` actions a chart's `tpl` runs."""
    if not os.path.isdir(chart):
        return []
    text = "\n".join([_templates_text(chart), *map(_actions, user_texts)])
    if _values_dumped(text):
        return []
    return list(_unused(chart, user, (), _Text(text)))


class _Text:
    """The chart tree's text, with its words counted once (keys are looked up by the
    dozen in megabytes of templates)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = set(_WORD.findall(text))

    def mentions(self, key: str) -> bool:
        if _WORD.fullmatch(key):
            return key in self.words
        return key in self.text  # a key of other characters: anywhere at all


def _unused(chart: str, user: dict[str, Any], at: Path, text: _Text) -> Iterator[Path]:
    defaults = _load(os.path.join(chart, "values.yaml"))
    subcharts = _subcharts(chart)
    conditions = _conditions(chart)
    for key, value in user.items():
        if not isinstance(key, str) or key == "global" or (not at and key == "tags"):
            continue
        path = (*at, key)
        if key in subcharts:
            sub = subcharts[key]
            if sub and isinstance(value, dict):
                yield from _under_subchart(sub, value, path, conditions, text)
            continue
        yield from _check(key, value, defaults, path, text)


def _under_subchart(
    sub: str, user: dict[str, Any], at: Path, conditions: set[str], text: _Text
) -> Iterator[Path]:
    """A subchart's values: its own keys, less those a condition of the parent reads."""
    named = ".".join(str(p) for p in at)
    kept = {k: v for k, v in user.items() if f"{named}.{k}" not in conditions}
    yield from _unused(sub, kept, at, text)


def _check(key: str, value: Any, defaults: Any, path: Path, text: _Text) -> Iterator[Path]:
    known = isinstance(defaults, dict) and key in defaults
    if not known and not text.mentions(key):
        yield path
        return
    if not isinstance(value, dict) or _passed_whole(path, text):
        return
    below = defaults.get(key) if known else None
    for child, sub_value in value.items():
        if isinstance(child, str):
            yield from _check(child, sub_value, below, (*path, child), text)


def _passed_whole(path: Path, text: _Text) -> bool:
    """Whether a template hands the map at `path` on as a whole (`toYaml .Values.a.b`,
    `with .Values.a.b`, `$x := .Values.a.b`): its keys need not appear anywhere."""
    dotted = r"\.".join(re.escape(str(p)) for p in path)
    return re.search(rf"\.Values\.{dotted}(?![\w.])", text.text) is not None


def _templates_text(chart: str) -> str:
    """Every text file of the chart tree but values files: templates and helpers, and the
    files templates read through `.Files` and `tpl` (where `.Values` may be read too)."""
    parts = []
    for root, dirs, names in os.walk(chart):
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(root, name)
            if name.endswith(".tgz") or not _regular(full):
                continue
            try:
                with open(full, "rb") as f:
                    data = f.read(_MOST_READ)
            except OSError:
                continue
            if b"\0" not in data:
                text = data.decode("utf-8", "replace")
                parts.append(_actions(text) if is_values_name(name) else text)
    return "\n".join(parts)


def _regular(path: str) -> bool:
    """A regular file, not a link: nothing is read through a link (it may lead out of the
    chart), and a FIFO would block."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def _actions(text: str) -> str:
    """The template actions of a values file (run by a chart's `tpl`): its keys are the
    values themselves, not readers of them."""
    return "\n".join(_ACTION.findall(text))


_MOST_READ = 4 << 20  # bytes of one file: a larger one is data, not a template


def _subcharts(chart: str) -> dict[str, str | None]:
    """Subchart names (and aliases) of `chart`: its directory, or None where it is packed."""
    found: dict[str, str | None] = {}
    charts = os.path.join(chart, "charts")
    if os.path.isdir(charts):
        for name in sorted(os.listdir(charts)):
            full = os.path.join(charts, name)
            if os.path.isfile(os.path.join(full, "Chart.yaml")):
                meta = _load(os.path.join(full, "Chart.yaml"))
                found[str(meta.get("name") if isinstance(meta, dict) else name)] = full
            elif name.endswith(".tgz"):
                found[name.rsplit("-", 1)[0]] = None
    for dep in _dependencies(chart):
        name, alias = dep.get("name"), dep.get("alias")
        if isinstance(name, str):
            target = found.get(name)
            found.setdefault(name, target)
            if isinstance(alias, str):
                found[alias] = target
    return found


def _conditions(chart: str) -> set[str]:
    paths: set[str] = set()
    for dep in _dependencies(chart):
        condition = dep.get("condition")
        if isinstance(condition, str):
            paths.update(c.strip() for c in condition.split(","))
    return paths


def _dependencies(chart: str) -> list[dict[str, Any]]:
    meta = _load(os.path.join(chart, "Chart.yaml"))
    deps = meta.get("dependencies") if isinstance(meta, dict) else None
    if not isinstance(deps, list):  # Helm 2 charts list them in requirements.yaml
        req = _load(os.path.join(chart, "requirements.yaml"))
        deps = req.get("dependencies") if isinstance(req, dict) else None
    return [d for d in deps or [] if isinstance(d, dict)]


def _load(path: str) -> Any:
    return _parse(_read(path), path) if os.path.isfile(path) else None


def _parse(text: str, name: str) -> Any:
    from kubevet.findings import InputError
    from kubevet.sources.manifests import load_yaml

    try:
        return load_yaml(text, name)
    except InputError:
        return None  # the render reports a broken chart or values file itself
