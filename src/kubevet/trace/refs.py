"""`.Values.a.b` references in a chart's templates (subcharts under their own key)."""

from __future__ import annotations

import os
import re

from kubevet.findings import InputError
from kubevet.model import Path
from kubevet.sources.reader import leaves, read_bytes

_REF = re.compile(r"\.Values((?:\.[A-Za-z_]\w*)+)")


def template_refs(chart_dir: str, prefix: Path = (), base: str = "") -> list[Path]:
    """Every `.Values` path the templates mention, parents first; [] for archives.
    Nothing is read through a link that leads out of the chart (`base`)."""
    if not os.path.isdir(chart_dir):
        return []
    base = base or os.path.realpath(chart_dir)
    refs: list[Path] = []
    templates = os.path.join(chart_dir, "templates")
    for root, _dirs, files in os.walk(templates) if not leaves(base, templates) else ():
        for name in sorted(files):
            if not leaves(base, os.path.join(root, name)):
                refs.extend(_file_refs(os.path.join(root, name), prefix))
    subcharts = os.path.join(chart_dir, "charts")
    if os.path.isdir(subcharts) and not leaves(base, subcharts):
        for name in sorted(os.listdir(subcharts)):
            sub = os.path.join(subcharts, name)
            if not leaves(base, sub) and os.path.isfile(os.path.join(sub, "Chart.yaml")):
                refs.extend(template_refs(sub, (*prefix, name), base))
    return list(dict.fromkeys(refs))


def _file_refs(path: str, prefix: Path) -> list[Path]:
    try:
        text = read_bytes(path).decode("utf-8")
    except (InputError, UnicodeDecodeError):  # only regular files, up to the size bound
        return []
    return [(*prefix, *m.group(1).strip(".").split(".")) for m in _REF.finditer(text)]
