"""End to end: every chart of the shared corpus renders and is checked without error."""

from __future__ import annotations

import json

from conftest import CORPUS_CHARTS, need

from kubevet.cli import main


def test_every_corpus_chart_renders_and_is_checked(tmp_path, capsys):
    charts = need(CORPUS_CHARTS)
    out = tmp_path / "report.json"
    code = main(["check", str(charts), "--format", "json", "-o", str(out)])
    report = json.loads(out.read_text())
    assert report["errors"] == []
    assert code == 1  # the corpus has findings
    labels = {i["label"] for i in report["inputs"]}
    expected = {str(p) for p in charts.iterdir() if (p / "Chart.yaml").exists()}
    assert labels == expected and len(labels) == 60
    assert all(i["objects"] > 0 for i in report["inputs"])
    assert report["summary"]["findings"] > 0
