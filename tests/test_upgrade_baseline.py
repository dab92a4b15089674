"""What this upgrade breaks, apart from what is broken already at the running release;
the report's per-input lines and stated assumptions; the README's `upgrade` examples."""

from __future__ import annotations

import json
import re
import shlex
import shutil

from conftest import FIXTURES, ROOT

from kubevet.cli import main

CHART = FIXTURES / "upgrade" / "capabilities"
FLOW = ["--set", "legacyFlowSchema=true"]


def upgrade(tmp_path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "report.json"
    code = main(["upgrade", "--format", "json", "-o", str(out), *args])
    return code, json.loads(out.read_text())


def test_a_chart_object_served_today_and_gone_at_the_target_blocks(tmp_path):
    code, report = upgrade(tmp_path, "--to", "1.29", *FLOW, str(CHART))
    assert report["from"] == "1.28" and report["from_assumed"]
    (obj,) = report["objects"]
    assert obj["kind"] == "FlowSchema" and obj["problems"][0]["already"] == ""
    assert report["blockers"] == 1 and report["already_broken"] == 0 and code == 1
    assert [i["state"] for i in report["inputs"]] == ["BLOCKED"]


def test_a_chart_object_already_gone_at_the_baseline_is_reported_apart(tmp_path):
    code, report = upgrade(tmp_path, "--to", "1.30", *FLOW, str(CHART))
    (obj,) = report["objects"]
    assert obj["problems"][0]["blocker"] and obj["problems"][0]["already"] == "1.29"
    assert report["blockers"] == 0 and report["already_broken"] == 1 and code == 0
    assert [i["state"] for i in report["inputs"]] == ["BROKEN"]
    code, report = upgrade(tmp_path, "--to", "1.30", "--from", "1.28", *FLOW, str(CHART))
    assert report["blockers"] == 1 and not report["from_assumed"] and code == 1


def test_report_states_its_assumptions_and_one_line_per_input(tmp_path, capsys):
    manifests = tmp_path / "deploy"
    manifests.mkdir()
    shutil.copy(FIXTURES / "upgrade" / "removed-1.29.yaml", manifests)
    code = main(
        ["upgrade", "--to", "1.29", "--set", "selector.app=api", str(CHART), str(manifests)]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Upgrade from 1.28 to Kubernetes 1.29: BLOCKED")
    assert lines[1].startswith("from: 1.28, assumed")
    assert lines[2] == (
        "values: chart defaults with --set selector.app=api; "
        "release release-name in namespace default"
    )
    assert lines[3].startswith(
        "API list: Kubernetes 1.29 default API set, from kubernetes-validate"
    )
    assert lines[4].startswith("schema: Kubernetes 1.29 OpenAPI schema")
    summary = [ln for ln in lines if re.match(r"^(OK|BLOCKED|BROKEN|WARN|ERROR) ", ln)]
    assert summary == [
        f"OK       chart {CHART} (capabilities-0.1.0): 4 objects",
        f"BLOCKED  manifests {manifests}: 2 objects, 2 blockers",
    ]
    assert f"== {manifests}" in lines and code == 1


def test_every_readme_upgrade_example_runs(tmp_path, monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = [  # lines that read a cluster run against the test API server instead
        ln.split("#")[0].strip()  # (tests/test_readme_cluster.py)
        for ln in readme.splitlines()
        if ln.startswith("kubevet upgrade") and "--cluster" not in ln
    ]
    assert len(examples) >= 3
    shutil.copytree(CHART, tmp_path / "my-chart")
    # the fixture's misspelt capability check is test_upgrade_capabilities' case: here it
    # would warn (once per process, so the outcome depended on which test ran first)
    (tmp_path / "my-chart" / "templates" / "typo.yaml").unlink()
    (tmp_path / "deploy").mkdir()
    shutil.copy(FIXTURES / "upgrade" / "removed-1.29.yaml", tmp_path / "deploy")
    shutil.copy(FIXTURES / "upgrade" / "audit.log", tmp_path / "audit.jsonl")
    monkeypatch.chdir(tmp_path)
    for example in examples:
        code = main(shlex.split(example)[1:])
        out = capsys.readouterr()
        assert code in (0, 1), (example, out.err)
        assert out.out.startswith("Upgrade from "), example
        assert out.err == "", example
