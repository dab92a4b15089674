"""`.Values.a.b` references in a chart's templates (subcharts under their own key)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Set

from kubevet.findings import InputError
from kubevet.model import Path
from kubevet.sources.reader import leaves, link_leaves, read_bytes

_REF = re.compile(r"\.Values((?:\.[A-Za-z_]\w*)+)")
_ACTION = re.compile(r"{{(.*?)}}", re.S)
# What can write a values map's own keys into the output: serialising it, ranging over
# it, handing it to a helper or to `with`'s dot. A map kept in a variable counts where the
# variable is used so, unless the same action makes a string or number of it (`$name :=
# default .Chart.Name .Values.nameOverride`, then `$name | trunc 63`). A map that is only
# printed, compared, defaulted or converted renders no key of its own.
_MAP_USE = re.compile(
    r"\b(?:toYaml|toJson|toPrettyJson|toRawJson|with|range|include|template|tpl)\b"
)
_SCALAR = re.compile(
    r"\b(?:trunc|trim\w*|quote|squote|int|int64|float64|atoi|printf?|lower|upper|title"
    r"|replace|b64enc|b64dec|\w+sum|semverCompare|regex\w+|has(?:Prefix|Suffix)|contains"
    r"|eq|ne|lt|le|gt|ge|toString|cat|nospace|\w+case)\b"
)
_VAR = re.compile(r"\$\w+")
_DEFINE = re.compile(r"{{-?\s*define\b")


def _map_refs(text: str, only: Set[str] | None = None) -> list[re.Match[str]]:
    """The `.Values` references of a template where a values map could render its keys:
    handed on (`_handed_on`), or assigned to a variable that an action of the same
    `define` (variables are scoped to one) uses so. `only`: the mentions (`.a.b`) asked
    about; the blocks and actions without any are passed over (others may be missed)."""
    out: list[re.Match[str]] = []
    for block in _DEFINE.split(text):
        if not _mentions_any(block, only):
            continue
        actions = _ACTION.findall(block)
        used: set[str] | None = None  # found once an assignment needs it (most never do)
        for a in actions:
            if not _mentions_any(a, only):
                continue
            held = False
            if "=" in a and not _SCALAR.search(a):
                if used is None:
                    used = {v for x in actions if _MAP_USE.search(x) for v in _VAR.findall(x)}
                held = any(v in used for v in _VAR.findall(a))
            if not held and not _MAP_USE.search(a):  # a plain print: none is handed on (a
                continue  # use found in a part of the action is found in the whole)
            out.extend(m for m in _REF.finditer(a) if held or _handed_on(a, m.start(), m.end()))
    return out


def _mentions_any(text: str, only: Set[str] | None) -> bool:
    """Whether `text` may mention a `.Values` path of `only` (any, without it)."""
    if ".Values" not in text:  # the test is cheaper than the pattern
        return False
    return only is None or not only.isdisjoint(_REF.findall(text))


def _handed_on(action: str, start: int, end: int) -> bool:
    """A map use before the reference (`toYaml .Values.x`, `with .Values.x`, `include "h"
    (dict "v" .Values.x)`) or down a pipe after it (`.Values.x | default dict | toYaml`),
    not beside it (`coalesce .Values.x (include "h" .)`)."""
    after = action[end:]
    pipe = after.find("|")
    return bool(_MAP_USE.search(action[:start])) or (
        pipe >= 0 and bool(_MAP_USE.search(after[pipe:]))
    )


def template_refs(
    chart_dir: str, maps_only: bool = False, keep: Callable[[Path], bool] | None = None
) -> list[Path]:
    """Every `.Values` path the templates mention, parents first; [] for archives.
    `maps_only`: only the paths mentioned where a map could render its keys (see
    `_MAP_USE`); a values map made up for a path missing from the values (`markers`)
    can land nowhere else, and elsewhere it breaks templates (gitlab: 695 paths, 425
    mentioned only as strings or numbers, behind most of its failed marker renders).
    `keep`: only the paths it keeps; a template mentioning none is not read for map uses
    (most paths are in the values: looking for their uses was most of this time)."""
    files = [(prefix, _read(path)) for path, prefix in _template_files(chart_dir)]
    mentions = [set(_REF.findall(text)) for _, text in files]  # `.a.b`, map use or not
    kept = _kept(files, mentions, keep) if keep is not None else None
    refs: list[Path] = []
    for (prefix, text), found in zip(files, mentions, strict=True):
        only = kept.get(prefix, set()) & found if kept is not None else None
        if only is None or only:
            refs.extend(_file_refs(text, prefix, maps_only, only))
    return [r for r in dict.fromkeys(refs) if keep is None or keep(r)]


def _kept(
    files: list[tuple[Path, str]], mentions: list[set[str]], keep: Callable[[Path], bool]
) -> dict[Path, set[str]]:
    """The mentions whose paths `keep` keeps, by values prefix; each asked once (the
    templates of a chart repeat their paths)."""
    every: dict[Path, set[str]] = {}
    for (prefix, _), found in zip(files, mentions, strict=True):
        every.setdefault(prefix, set()).update(found)
    return {p: {m for m in found if keep(_path(p, m))} for p, found in every.items()}


def _template_files(
    chart_dir: str, prefix: Path = (), base: str = ""
) -> Iterator[tuple[str, Path]]:
    """(file, values prefix) of every template of the chart and its subcharts, in order.
    Nothing is read through a link that leads out of the chart (`base`)."""
    if not os.path.isdir(chart_dir):
        return
    base = base or os.path.realpath(chart_dir)
    templates = os.path.join(chart_dir, "templates")
    for root, _dirs, files in os.walk(templates) if not leaves(base, templates) else ():
        for name in sorted(files):
            file = os.path.join(root, name)
            if not link_leaves(base, file):
                yield file, prefix
    subcharts = os.path.join(chart_dir, "charts")
    if os.path.isdir(subcharts) and not leaves(base, subcharts):
        for name in sorted(os.listdir(subcharts)):
            sub = os.path.join(subcharts, name)
            if not leaves(base, sub) and os.path.isfile(os.path.join(sub, "Chart.yaml")):
                yield from _template_files(sub, (*prefix, name), base)


def _read(path: str) -> str:
    try:
        return read_bytes(path).decode("utf-8")
    except (InputError, UnicodeDecodeError):  # only regular files, up to the size bound
        return ""


def _file_refs(
    text: str, prefix: Path, maps_only: bool, only: Set[str] | None = None
) -> list[Path]:
    found = _map_refs(text, only) if maps_only else _REF.finditer(text)
    return [_path(prefix, m.group(1)) for m in found]


def _path(prefix: Path, mention: str) -> Path:
    return (*prefix, *mention.strip(".").split("."))
