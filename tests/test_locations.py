"""Locations a CI can trust: every file named exists, every line given is the right one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import FIXTURES

from kubevet.findings import Finding
from kubevet.fix.run import FixOptions, FixReport, fix_chart
from kubevet.report._location import file_of, line_of
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


def test_untraced_chart_findings_carry_template_lines_that_name_the_field():
    findings = [f for f in _check(str(EXAMPLE_CHART)) if f.origin.template]
    lined = [f for f in findings if line_of(f)]
    assert len(lined) > len(findings) / 2
    for f in lined:
        text = Path(f.origin.file).read_text(encoding="utf-8").splitlines()[line_of(f) - 1]
        if text.strip().startswith("- "):  # the list item (a container) the field is in
            assert any(isinstance(p, int) for p in f.path), f.path_text
        else:
            key = text.strip().split(":", 1)[0]
            assert key in [p for p in f.path if isinstance(p, str)], f.path_text


def test_without_a_provable_template_line_no_format_gives_a_line(tmp_path):
    import xml.etree.ElementTree as ET

    from kubevet.report import github_report, junit_report
    from kubevet.report.sarif_report import sarif_log

    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: whole\nversion: 0.1.0\n")
    (tmp_path / "templates" / "_helpers.tpl").write_text(
        '{{- define "whole.svc" -}}\n' + CHILD_TEMPLATE + "{{- end }}\n"
    )
    (tmp_path / "templates" / "svc.yaml").write_text('{{ include "whole.svc" . }}\n')
    report = run_check([str(tmp_path)], RunSettings(jobs=1, select=["KV602"]))
    [finding] = report.findings
    assert finding.line == 6 and line_of(finding) is None  # rendered line 6 of a 1-line file
    [result] = sarif_log(report)["runs"][0]["results"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("templates/svc.yaml")
    assert "region" not in physical
    assert (
        "line 6 of the rendered output of template whole/templates/svc.yaml"
        in (result["message"]["text"])
    )
    annotation = github_report.render(report).splitlines()[0]
    assert "svc.yaml" in annotation and ",line=" not in annotation
    assert "rendered output" in annotation
    case = ET.fromstring(junit_report.render(report)).find(".//testcase")
    assert case.get("file").endswith("svc.yaml") and case.get("line") is None


CHILD_TEMPLATE = """\
apiVersion: v1
kind: Service
metadata:
  name: child
spec:
  type: NodePort
  ports:
    - port: 80
"""


def _parent(root, dependency: str) -> None:
    (root / "charts").mkdir(parents=True)
    (root / "Chart.yaml").write_text(
        "apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n" + dependency
    )


def _child(root) -> None:
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: child\nversion: 0.1.0\n")
    (root / "templates" / "svc.yaml").write_text(CHILD_TEMPLATE)


def test_a_subchart_under_an_alias_is_named_by_its_directory(tmp_path):
    _parent(tmp_path, "  - name: child\n    version: 0.1.0\n    alias: kid\n")
    _child(tmp_path / "charts" / "child")
    findings = [f for f in _check(str(tmp_path)) if f.code == "KV602"]
    assert findings
    for f in findings:
        assert f.origin.file == str(tmp_path / "charts" / "child" / "templates" / "svc.yaml")
        assert line_of(f) == 6  # `type: NodePort`


def test_a_subchart_archive_is_named_as_the_archive(tmp_path):
    import tarfile

    _parent(tmp_path, "  - name: child\n    version: 0.1.0\n")
    _child(tmp_path / "src" / "child")
    archive = tmp_path / "charts" / "child-0.1.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / "child", arcname="child")
    shutil.rmtree(tmp_path / "src")
    findings = [f for f in _check(str(tmp_path)) if f.code == "KV602"]
    assert findings
    for f in findings:
        assert f.origin.file == f"{archive}!templates/svc.yaml"
        assert file_of(f) == str(archive) and line_of(f) is None
