"""`.Values.a.b` references in a chart's templates (subcharts under their own key)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from kubevet.findings import InputError
from kubevet.model import Path
from kubevet.sources.reader import leaves, read_bytes

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


def _map_refs(text: str) -> list[re.Match[str]]:
    """The `.Values` references of a template where a values map could render its keys:
    handed on (`_handed_on`), or assigned to a variable that an action of the same
    `define` (variables are scoped to one) uses so."""
    out: list[re.Match[str]] = []
    for block in _DEFINE.split(text):
        if ".Values" not in block:
            continue
        actions = _ACTION.findall(block)
        used: set[str] | None = None  # found once an assignment needs it (most never do)
        for a in actions:
            if ".Values" not in a:  # no reference (the test is cheaper than the patterns)
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


def _handed_on(action: str, start: int, end: int) -> bool:
    """A map use before the reference (`toYaml .Values.x`, `with .Values.x`, `include "h"
    (dict "v" .Values.x)`) or down a pipe after it (`.Values.x | default dict | toYaml`),
    not beside it (`coalesce .Values.x (include "h" .)`)."""
    after = action[end:]
    pipe = after.find("|")
    return bool(_MAP_USE.search(action[:start])) or (
        pipe >= 0 and bool(_MAP_USE.search(after[pipe:]))
    )


def template_refs(chart_dir: str, maps_only: bool = False) -> list[Path]:
    """Every `.Values` path the templates mention, parents first; [] for archives.
    `maps_only`: only the paths mentioned where a map could render its keys (see
    `_MAP_USE`); a values map made up for a path missing from the values (`markers`)
    can land nowhere else, and elsewhere it breaks templates (gitlab: 695 paths, 425
    mentioned only as strings or numbers, behind most of its failed marker renders)."""
    refs: list[Path] = []
    for path, prefix in _template_files(chart_dir):
        refs.extend(_file_refs(path, prefix, maps_only))
    return list(dict.fromkeys(refs))


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
            if not (os.path.islink(file) and leaves(base, file)):  # only a link can lead out
                yield file, prefix
    subcharts = os.path.join(chart_dir, "charts")
    if os.path.isdir(subcharts) and not leaves(base, subcharts):
        for name in sorted(os.listdir(subcharts)):
            sub = os.path.join(subcharts, name)
            if not leaves(base, sub) and os.path.isfile(os.path.join(sub, "Chart.yaml")):
                yield from _template_files(sub, (*prefix, name), base)


def _file_refs(path: str, prefix: Path, maps_only: bool) -> list[Path]:
    try:
        text = read_bytes(path).decode("utf-8")
    except (InputError, UnicodeDecodeError):  # only regular files, up to the size bound
        return []
    found = _map_refs(text) if maps_only else _REF.finditer(text)
    return [(*prefix, *m.group(1).strip(".").split(".")) for m in found]
