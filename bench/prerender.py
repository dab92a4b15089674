"""Render every corpus chart once to plain YAML (what `helm template` prints), so kubevet
and Checkov can be timed on identical, pre-rendered input.

    python bench/prerender.py [CHARTS_DIR] [OUT_DIR]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHARTS = ROOT.parent / "shared" / "corpus" / "mycharts" / "charts"
DEFAULT_OUT = ROOT / "bench" / "out" / "rendered"


def prerender(charts: Path, out: Path) -> int:
    """Write one YAML file per chart; return the number of documents written."""
    from kubevet.sources.helm import HelmOptions, _render

    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for chart in sorted(p for p in charts.iterdir() if (p / "Chart.yaml").exists()):
        rendered, crds, _meta, _names = _render(str(chart), {}, HelmOptions(), [])
        parts = []
        for template, text in sorted(crds + rendered):
            if text.strip():
                parts.append(f"---\n# Source: {template}\n{text}")
                total += text.count("\n---") + 1
        name = chart.name.replace(" ", "_")
        (out / f"{name}.yaml").write_text("\n".join(parts), encoding="utf-8")
    return total


if __name__ == "__main__":
    charts = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CHARTS
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_OUT
    if not charts.is_dir():
        sys.exit(f"no chart corpus at {charts}")
    print(f"{prerender(charts, out)} documents -> {os.path.relpath(out)}")
