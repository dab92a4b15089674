"""Locations a CI can trust: every file named exists, every line given is the right one."""

from __future__ import annotations

import shutil
import subprocess

from conftest import FIXTURES

from kubevet.findings import Finding
from kubevet.fix.run import FixOptions, FixReport, fix_chart
from kubevet.report._location import line_of
from kubevet.runner import RunSettings, run_check

DEMO = FIXTURES / "trace" / "demo"
EXAMPLE_CHART = FIXTURES.parent.parent / "examples" / "chart"


def _check(*paths: str, trace: bool = False) -> list[Finding]:
    settings = RunSettings(jobs=1, trace=trace)
    return run_check(list(paths), settings).findings


def test_suggested_template_patch_applies_with_patch_p1(tmp_path, monkeypatch):
    shutil.copytree(DEMO, tmp_path / "charts" / "demo")
    monkeypatch.chdir(tmp_path)
    opts = FixOptions(output=str(tmp_path / "override.yaml"))
    settings = RunSettings(select=["KV106"])
    result = fix_chart("charts/demo", settings, opts, FixReport())
    patches = [p for _, p in result.template if p.startswith("---")]
    assert patches, "the demo chart has a hard-coded field that needs a template patch"
    for patch in patches:
        assert patch.startswith("--- a/charts/demo/templates/")
        done = subprocess.run(
            ["patch", "-p1", "--dry-run"], input=patch, text=True, capture_output=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_untraced_chart_finding_names_the_template_without_a_rendered_line():
    findings = [f for f in _check(str(EXAMPLE_CHART)) if f.origin.template]
    assert findings
    template_lines = len((EXAMPLE_CHART / "templates" / "deployment.yaml").read_text().splitlines())
    for f in findings:
        line = line_of(f)
        assert line is None or line <= template_lines
