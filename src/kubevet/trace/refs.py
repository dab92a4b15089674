"""`.Values.a.b` references in a chart's templates (subcharts under their own key)."""

from __future__ import annotations

import os
import re

from kubevet.model import Path

_REF = re.compile(r"\.Values((?:\.[A-Za-z_]\w*)+)")


def template_refs(chart_dir: str, prefix: Path = ()) -> list[Path]:
    """Every `.Values` path the templates mention, parents first; [] for archives."""
    if not os.path.isdir(chart_dir):
        return []
    refs: list[Path] = []
    templates = os.path.join(chart_dir, "templates")
    for root, _dirs, files in os.walk(templates):
        for name in sorted(files):
            refs.extend(_file_refs(os.path.join(root, name), prefix))
    subcharts = os.path.join(chart_dir, "charts")
    if os.path.isdir(subcharts):
        for name in sorted(os.listdir(subcharts)):
            sub = os.path.join(subcharts, name)
            if os.path.isfile(os.path.join(sub, "Chart.yaml")):
                refs.extend(template_refs(sub, (*prefix, name)))
    return list(dict.fromkeys(refs))


def _file_refs(path: str, prefix: Path) -> list[Path]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return []
    return [(*prefix, *m.group(1).strip(".").split(".")) for m in _REF.finditer(text)]
