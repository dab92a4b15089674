"""GitLab Code Quality report: the documented issue shape, unique line-free fingerprints."""

from __future__ import annotations

import json

import jsonschema
from conftest import FIXTURES, ROOT

from kubevet.report import render
from kubevet.runner import RunSettings, run_check

CLI = FIXTURES / "cli"

# The fields GitLab's Code Quality widget reads (docs.gitlab.com, "Code Quality report
# format"): description, check_name, fingerprint, severity (five values), location.path
# and location.lines.begin. Written here from those facts; extra Code Climate fields allowed.
CODE_QUALITY_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


def _issues(paths: list[str], select: list[str]) -> tuple[list[dict], object]:
    report = run_check(paths, RunSettings(select=select, jobs=1))
    issues = json.loads(render("gitlab", report))
    jsonschema.validate(issues, CODE_QUALITY_SCHEMA)
    return issues, report


def test_findings_become_code_quality_issues(monkeypatch):
    monkeypatch.chdir(ROOT)
    issues, report = _issues(["examples/manifests", str(CLI / "suppressed")], ["KV101", "KV105"])
    assert len(issues) == len(report.active)  # suppressed findings are not issues
    priv = [i for i in issues if i["check_name"] == "kubevet/KV105-privileged-container"]
    assert len(priv) == 1
    assert priv[0]["severity"] == "critical"
    path, line = priv[0]["location"]["path"], priv[0]["location"]["lines"]["begin"]
    assert path == "examples/manifests/deployment.yaml"
    assert "privileged: true" in (ROOT / path).read_text().splitlines()[line - 1]
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)  # GitLab shows one issue per print


def test_fingerprints_ignore_lines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "examples/manifests/deployment.yaml").read_text()
    (tmp_path / "app.yaml").write_text(text)
    before, _ = _issues(["app.yaml"], ["KV101"])
    (tmp_path / "app.yaml").write_text("# a comment\n# and another\n" + text)
    after, _ = _issues(["app.yaml"], ["KV101"])
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]
    assert [i["location"]["lines"]["begin"] + 2 for i in before] == [
        i["location"]["lines"]["begin"] for i in after
    ]


def test_input_errors_are_blockers(monkeypatch):
    monkeypatch.chdir(ROOT)
    issues, _ = _issues([str(CLI / "bad.yaml"), "examples/manifests"], ["KV101"])
    blockers = [i for i in issues if i["severity"] == "blocker"]
    assert len(blockers) == 1
    assert blockers[0]["location"]["path"] == "tests/fixtures/cli/bad.yaml"
    assert blockers[0]["location"]["lines"]["begin"] >= 6
    assert "invalid YAML" in blockers[0]["description"]


def test_the_streamed_report_is_the_indented_json_of_the_whole_list(monkeypatch):
    from kubevet.report import render_chunks
    from kubevet.result import Report

    monkeypatch.chdir(ROOT)
    report = run_check(["examples/manifests", "no-such-dir"], RunSettings(jobs=1))
    chunks = list(render_chunks("gitlab", report))
    text = "".join(chunks)
    assert len(chunks) == len(report.active) + len(report.errors) + 1  # one per issue
    assert report.errors and len(report.active) > 1
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    assert render("gitlab", Report()) == "[]\n"
