"""A report is never written over a file the run reads."""

from __future__ import annotations

import shutil

from conftest import ROOT

from kubevet.cli import main

MANIFEST = ROOT / "examples" / "manifests" / "deployment.yaml"
CHART = ROOT / "examples" / "chart"


def test_a_report_over_a_named_input_is_refused_before_any_work(tmp_path, capsys):
    """`kubevet check deploy.yaml -o deploy.yaml` replaced the manifest with the report."""
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(MANIFEST.read_text())
    values = tmp_path / "values-prod.yaml"
    values.write_text("replicaCount: 2\n")
    for argv in (
        ["check", str(manifest), "-o", str(manifest)],
        ["check", str(manifest), "--format", f"sarif={manifest}"],
        ["check", str(CHART), "-f", str(values), "-o", str(values)],
        ["upgrade", "--to", "1.29", str(manifest), "-o", str(manifest)],
        ["check", str(manifest), "--write-baseline", str(manifest)],
    ):
        assert main(argv) == 2, argv
        assert f"to {manifest if 'values' not in argv[-1] else values}: " in (
            capsys.readouterr().err
        )
    assert manifest.read_text() == MANIFEST.read_text()
    assert values.read_text() == "replicaCount: 2\n"


def test_inside_a_walked_directory_manifests_and_chart_files_are_refused(tmp_path, capsys):
    (tmp_path / "deploy.yaml").write_text(MANIFEST.read_text())
    shutil.copytree(CHART, tmp_path / "chart")
    (tmp_path / "chart" / "notes.json").write_text("{}\n")  # any file of a chart is read
    for target in ("deploy.yaml", "chart/notes.json"):
        assert main(["check", str(tmp_path), "-o", str(tmp_path / target)]) == 2, target
        assert "the run reads it" in capsys.readouterr().err
    assert (tmp_path / "deploy.yaml").read_text() == MANIFEST.read_text()


def test_an_earlier_report_in_the_walked_directory_is_replaced(tmp_path, capsys):
    (tmp_path / "deploy.yaml").write_text(MANIFEST.read_text())
    for fmt, name in (
        ("json", "report.json"),
        ("sarif", "r.sarif.json"),
        ("policyreport", "pr.yaml"),
    ):
        target = tmp_path / name
        for _ in range(2):  # the second run finds the first one's report in the walk
            assert main(["check", str(tmp_path), "--format", fmt, "-o", str(target)]) in (0, 1)
        assert "cannot write" not in capsys.readouterr().err


def test_fix_output_never_replaces_a_file_kubevet_did_not_write(tmp_path, capsys, monkeypatch):
    """`fix chart --output chart/values.yaml` replaced the chart's defaults and comments
    with a three-line override."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(CHART, tmp_path / "chart")
    defaults = (tmp_path / "chart" / "values.yaml").read_text()
    (tmp_path / "prod.yaml").write_text("# prod\nreplicaCount: 3\n")
    (tmp_path / "other.yaml").write_text("x: 1\n")
    for argv in (
        ["--output", "chart/values.yaml"],
        ["-f", "prod.yaml", "-f", "other.yaml", "--output", "prod.yaml"],  # not the last
        ["--output", "other.yaml"],
        ["--template-patch", "chart/templates/deployment.yaml"],
    ):
        assert main(["fix", "chart", *argv]) == 2, argv
        assert argv[-2] in capsys.readouterr().err  # the flag is named
    assert (tmp_path / "chart" / "values.yaml").read_text() == defaults
    assert (tmp_path / "prod.yaml").read_text() == "# prod\nreplicaCount: 3\n"
    assert (tmp_path / "other.yaml").read_text() == "x: 1\n"
    for _ in range(2):  # its own override is replaced, run after run
        assert main(["fix", "chart", "--output", "override.yaml"]) in (0, 1)
        assert "wrote override.yaml" in capsys.readouterr().out
