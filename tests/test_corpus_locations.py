"""Every location `check` puts in SARIF for the corpus charts (no --trace) can be opened:
the file exists, the line (when given) is in it, and the line is the template line that
writes the field, the list item it is in, or one of its ancestors."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from conftest import CORPUS_CHARTS, need

from kubevet.runner import Report, RunSettings, run_check


@pytest.fixture(scope="module")
def corpus() -> tuple[Report, dict]:
    from kubevet.report.sarif_report import sarif_log

    charts = need(CORPUS_CHARTS)
    report = run_check([str(charts)], RunSettings(jobs=2))
    return report, sarif_log(report)


def _file(location: dict, base: str) -> Path:
    uri = location["artifactLocation"]["uri"]
    if uri.startswith("file:"):
        return Path(unquote(urlparse(uri).path))
    return Path(base) / unquote(uri)


def test_every_sarif_location_exists_and_points_at_the_field(corpus):
    report, log = corpus
    assert report.errors == []
    run = log["runs"][0]
    base = unquote(urlparse(run["originalUriBaseIds"]["%SRCROOT%"]["uri"]).path)
    results = run["results"]
    assert len(results) == len(report.findings) > 1000
    lined = 0
    for f, result in zip(report.findings, results, strict=True):
        physical = result["locations"][0]["physicalLocation"]
        path = _file(physical, base)
        assert path.is_file(), (f.code, str(path))
        line = physical.get("region", {}).get("startLine")
        if line is None:
            assert "rendered output" in result["message"]["text"] or "!" in f.origin.file
            continue
        lined += 1
        text = path.read_text(encoding="utf-8").splitlines()
        assert 0 < line <= len(text), (f.code, str(path), line)
        _assert_writes_field_or_parent(text[line - 1], f)
    assert lined > len(results) / 2  # most chart findings get their template line


def _assert_writes_field_or_parent(text: str, f) -> None:
    stripped = text.strip()
    keys = [p for p in f.path if isinstance(p, str)]
    where = (f.code, f.origin.file, f.path_text, text)
    if stripped.startswith("- "):  # opens the list item the field is in, or the field
        assert any(isinstance(p, int) for p in f.path), where
        return
    key = stripped.split(":", 1)[0].strip().strip("\"'")
    assert key in keys, where


def test_every_template_named_is_inside_the_chart_it_came_from(corpus):
    report, _ = corpus
    for f in report.findings:
        if f.origin.template and "!" not in f.origin.file:
            chart = f.input
            assert os.path.commonpath([f.origin.file, chart]) == chart, f.origin.file
