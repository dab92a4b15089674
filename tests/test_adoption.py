"""Living with kubevet in a repository: baselines, exemptions, expiring suppressions,
severity overrides and rules added to the default set."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import FIXTURES, ROOT

from kubevet.cli import main

ADOPT = FIXTURES / "adoption"


def _run(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(["check", *argv, "--format", "json"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else {}, out.err


def _active(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["suppressed"] is None]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(ADOPT / "app.yaml", tmp_path / "app.yaml")
    return tmp_path


def test_baseline_survives_lines_inserted_above_and_fails_only_on_new(repo, capsys):
    code, report, err = _run(capsys, "app.yaml", "--write-baseline", "base.json")
    assert code == 0 and "wrote" in err
    recorded = json.loads((repo / "base.json").read_text())["findings"]
    assert len(recorded) == len(_active(report)) > 5

    text = (repo / "app.yaml").read_text()
    (repo / "app.yaml").write_text("# owned by team api\n# see ADR-7\n" + text)
    code, report, _ = _run(capsys, "app.yaml", "--baseline", "base.json")
    assert code == 0 and _active(report) == []

    # A new problem (hostNetwork) fails the run; only it is reported as active.
    new = (
        (repo / "app.yaml")
        .read_text()
        .replace("    spec:\n", "    spec:\n      hostNetwork: true\n")
    )
    (repo / "app.yaml").write_text(new)
    code, report, _ = _run(capsys, "app.yaml", "--baseline", "base.json")
    assert code == 1
    assert {f["code"] for f in _active(report)} == {"KV123"}  # host-network


def test_baseline_lists_entries_that_no_longer_occur(repo, capsys):
    _run(capsys, "app.yaml", "--write-baseline", "base.json")
    fixed = (repo / "app.yaml").read_text().replace("privileged: true", "privileged: false")
    (repo / "app.yaml").write_text(fixed)
    code, _, err = _run(capsys, "app.yaml", "--baseline", "base.json")
    assert code == 0
    assert "1 baseline entries of base.json no longer occur" in err
    assert "KV105 Deployment shop/api" in err


def test_baseline_fingerprints_are_sarif_fingerprints(repo, capsys):
    _run(capsys, "app.yaml", "--write-baseline", "base.json")
    main(["check", "app.yaml", "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    prints = {r["partialFingerprints"]["kubevetFinding/v1"] for r in sarif["runs"][0]["results"]}
    recorded = {e["fingerprint"] for e in json.loads((repo / "base.json").read_text())["findings"]}
    assert recorded == prints


def test_bad_baseline_is_a_usage_error(repo, capsys):
    (repo / "base.json").write_text('{"findings": []}')
    code, _, err = _run(capsys, "app.yaml", "--baseline", "base.json")
    assert code == 2 and "not a kubevet baseline" in err


def _config(repo, text: str) -> None:
    (repo / ".kubevet.yaml").write_text(text)


def test_exemption_by_kind_and_name_glob_with_reason(repo, capsys):
    _config(
        repo,
        "exemptions:\n"
        "  - {rules: [KV105, privileged-container], kind: Deployment, name: 'a*',"
        " reason: 'vendor image, OPS-12', expires: 2999-01-01}\n",
    )
    code, report, err = _run(capsys, "app.yaml", "--select", "KV105")
    assert code == 0 and _active(report) == []
    assert report["findings"][0]["suppressed"] == "exempted: vendor image, OPS-12"
    assert "unused" not in err


def test_expired_exemption_fires_again_and_says_so(repo, capsys):
    _config(repo, "exemptions:\n  - {rules: [KV105], reason: old, expires: 2020-05-01}\n")
    code, report, err = _run(capsys, "app.yaml", "--select", "KV105")
    assert code == 1 and [f["code"] for f in _active(report)] == ["KV105"]
    assert "expired on 2020-05-01" in err


def test_unused_exemption_is_reported(repo, capsys):
    _config(repo, "exemptions:\n  - {rules: [KV105], namespace: other, reason: x}\n")
    code, _, err = _run(capsys, "app.yaml", "--select", "KV105")
    assert code == 1 and "unused exemption #1" in err


def test_exemption_by_chart_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "examples" / "chart", tmp_path / "chart")
    _config(tmp_path, "exemptions:\n  - {rules: [KV101], chart: 'sho?', reason: vendor}\n")
    code, report, _ = _run(capsys, "chart", "--select", "KV101")
    assert code == 0 and report["findings"] and _active(report) == []


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("{rules: [KV105]}", "'reason' is required"),
        ("{rules: [KV999], reason: x}", "unknown rule 'KV999'"),
        ("{rules: [KV105], reason: x, expires: soon}", "not a date"),
        ("{rules: [KV105], reason: x, nmae: a}", "unknown key 'nmae'"),
    ],
)
def test_bad_exemptions_are_usage_errors(repo, capsys, entry, problem):
    _config(repo, f"exemptions:\n  - {entry}\n")
    code, _, err = _run(capsys, "app.yaml")
    assert code == 2 and problem in err


def test_annotation_suppressions_expire(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ADOPT)
    code, report, _ = _run(capsys, "expiring.yaml", "--select", "KV105,KV002")
    by_name = {}
    for f in report["findings"]:
        by_name.setdefault(f["object"]["name"], []).append(f)
    legacy = by_name["legacy"]
    assert [f["suppressed"] for f in legacy] == ["vendor image needs it until the rewrite"]
    overdue = {f["code"]: f for f in by_name["overdue"]}
    assert overdue["KV105"]["suppressed"] is None  # the expired entry applies no more
    assert "expired on 2020-01-31" in overdue["KV002"]["message"]
    assert code == 1


def test_severity_override_changes_findings_and_the_gate(repo, capsys):
    _config(repo, "severity: {KV111: critical}\n")
    code, report, _ = _run(capsys, "app.yaml", "--select", "KV111", "--fail-on", "critical")
    assert code == 1 and {f["severity"] for f in report["findings"]} == {"critical"}
    _config(repo, "severity: {KV111: urgent}\n")
    code, _, err = _run(capsys, "app.yaml")
    assert code == 2 and "severity.KV111" in err


def test_extend_select_adds_rules_off_by_default(repo, capsys):
    _, report, _ = _run(capsys, "app.yaml")
    assert "KV107" not in {f["code"] for f in report["findings"]}  # drop-net-raw: off
    _, report, _ = _run(capsys, "app.yaml", "--extend-select", "KV107")
    assert "KV107" in {f["code"] for f in report["findings"]}
    _config(repo, "extend-select: [drop-net-raw]\n")
    _, report, _ = _run(capsys, "app.yaml", "--select", "KV105")
    assert {f["code"] for f in report["findings"]} == {"KV105", "KV107"}
    code, _, err = _run(capsys, "app.yaml", "--extend-select", "KV10x")
    assert code == 2 and "--extend-select" in err


MATRIX = ADOPT / "matrix-chart"


def test_values_matrix_attributes_each_finding_to_its_value_sets(monkeypatch, capsys):
    monkeypatch.chdir(ADOPT)
    envs = ["envs/dev.yaml", "envs/prod.yaml"]
    code, report, _ = _run(
        capsys, "matrix-chart", "--select", "KV105,KV101", "--values-matrix", *envs
    )
    assert code == 1
    by_code = {f["code"]: f for f in report["findings"]}
    assert by_code["KV105"]["valueSets"] == ["dev"]
    assert by_code["KV105"]["message"].endswith("(value sets: dev)")
    assert by_code["KV101"]["valueSets"] == ["dev", "prod"]  # once, not once per render
    assert by_code["KV101"]["message"].endswith("(all value sets)")
    assert len(report["findings"]) == 2 and len(report["inputs"]) == 1


def test_values_set_names_files_and_is_checked(monkeypatch, capsys):
    monkeypatch.chdir(ADOPT)
    code, report, _ = _run(
        capsys, "matrix-chart", "--select", "KV105", "--values-set", "safe=envs/prod.yaml"
    )
    assert code == 0 and report["findings"] == []
    code, _, err = _run(capsys, "matrix-chart", "--values-set", "broken")
    assert code == 2 and "NAME=FILE" in err
    code, _, err = _run(capsys, "matrix-chart", "--values-set", "a=envs/nope.yaml")
    assert code == 2 and "no such file" in err


def test_set_file_and_set_json_as_helm_has_them(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ADOPT)
    banner = tmp_path / "banner.txt"
    banner.write_text("hello from a file")
    argv = ["matrix-chart", "--select", "KV105", "--set-file", f"banner={banner}"]
    code, report, _ = _run(capsys, *argv, "--set-json", "privileged=true")
    assert code == 1 and [f["code"] for f in report["findings"]] == ["KV105"]


@pytest.mark.parametrize("framework", ["cis", "nsa", "mitre"])
def test_framework_selects_its_rules_and_summarises_controls(repo, capsys, framework):
    from kubevet.frameworks import framework_of
    from kubevet.rules.registry import get_rule

    fw = framework_of(framework)
    assert all(get_rule(code) for code in fw.rules)  # the table names real rules
    code, report, err = _run(capsys, "app.yaml", "--select", framework, "--statistics")
    assert code == 1
    assert {f["code"] for f in report["findings"]} <= fw.rules
    rows = {r["control"]: r for r in report["compliance"]}
    assert set(rows) == {c.id for c in fw.controls}
    for row in rows.values():
        found = [f for f in _active(report) if f["code"] in row["rules"]]
        assert row["findings"] == len(found)
        assert row["status"] == ("fail" if found else "pass")
    assert "controls fail" in err


def test_cis_privileged_control_fails_on_a_privileged_container(repo, capsys):
    _, report, _ = _run(capsys, "app.yaml", "--select", "cis")
    rows = {r["control"]: r for r in report["compliance"]}
    assert rows["5.2.2"]["status"] == "fail"  # privileged: true
    assert rows["5.2.5"]["status"] == "pass"  # no hostNetwork
