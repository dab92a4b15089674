"""Many small, deterministic inputs for the scale tests and bench/scale.py: manifest
directories and chart directories made from the examples, varied so that findings differ
from one input to the next (names, replicas, privilege, image tags); and chart directories
linked to the corpus charts whose templates render nothing random."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app{k}
  namespace: team{team}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: app{k}}}
  template:
    metadata:
      labels: {{app: app{k}}}
    spec:
      containers:
        - name: main
          image: registry.example/app{k}:{tag}
          securityContext: {{privileged: {privileged}}}
"""


def make_manifests(root: Path, count: int) -> list[str]:
    """`count` directories m00000/... of one Deployment each; returns their paths."""
    paths = []
    for k in range(count):
        d = root / f"m{k:05d}"
        d.mkdir(parents=True)
        text = _MANIFEST.format(
            k=k,
            team=k % 7,
            replicas=1 + k % 3,
            tag="latest" if k % 5 == 0 else f"1.{k % 11}",
            privileged="true" if k % 4 == 0 else "false",
        )
        (d / "app.yaml").write_text(text, encoding="utf-8")
        paths.append(str(d))
    return paths


def make_charts(root: Path, count: int, sources: list[Path] | None = None) -> list[str]:
    """`count` chart directories c00000/..., copies of `sources` in turn (default: the
    example chart) each under its own name; returns their paths."""
    sources = sources or [ROOT / "examples" / "chart"]
    paths = []
    for k in range(count):
        d = root / f"c{k:05d}"
        shutil.copytree(sources[k % len(sources)], d)
        chart = d / "Chart.yaml"
        lines = chart.read_text(encoding="utf-8").splitlines()
        named = [f"name: chart{k}" if line.startswith("name:") else line for line in lines]
        chart.write_text("\n".join(named) + "\n", encoding="utf-8")
        paths.append(str(d))
    return paths


# Template functions whose output differs from one render to the next: a chart calling one
# cannot give the same report twice, whatever runs it.
RANDOM = re.compile(r"\b(rand\w*|uuidv4|gen(CA|SelfSignedCert|PrivateKey|SignedCert)|now)\b")


def deterministic(charts_dir: Path) -> list[Path]:
    """Charts none of whose templates (or subcharts' templates) calls a random function."""
    keep = []
    for chart in sorted(p for p in charts_dir.iterdir() if (p / "Chart.yaml").exists()):
        files = [f for f in chart.rglob("*") if f.is_file() and "templates" in f.parts]
        if not any(RANDOM.search(f.read_text(errors="replace")) for f in files):
            keep.append(chart)
    return keep


def link_charts(sources: list[Path], root: Path, count: int) -> list[str]:
    """`count` chart directories c00000... under root, each a link to a source in turn;
    returns their names (relative to root)."""
    paths = []
    for k in range(count):
        link = root / f"c{k:05d}"
        link.symlink_to(sources[k % len(sources)], target_is_directory=True)
        paths.append(link.name)
    return paths
