"""SARIF output: valid against the official 2.1.0 schema, and carrying what code scanning uses."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES, ROOT

from kubevet.findings import Severity, Trace
from kubevet.report import render
from kubevet.report.sarif_report import fingerprint, pascal_case, sarif_log
from kubevet.runner import RunSettings, run_check
from kubevet.trace.valuelines import key_lines

SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text("utf-8"))
VALIDATOR = jsonschema.Draft4Validator(
    SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
)


def validate(doc: dict) -> None:
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def run(*paths: str, select: tuple[str, ...] = ()) -> object:
    return run_check(list(paths), RunSettings(select=list(select), jobs=1))


@pytest.fixture(scope="module")
def examples_report() -> object:
    return run(str(ROOT / "examples" / "chart"), str(ROOT / "examples" / "manifests"))


@pytest.fixture(scope="module")
def mixed_report() -> object:
    """A suppressed finding, an input error and a render failure in one run."""
    cli = FIXTURES / "cli"
    return run(str(cli / "suppressed"), str(cli / "bad.yaml"), str(cli / "broken-chart"))


def test_schema_is_the_official_one():
    assert SCHEMA["id"] == (
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]


def test_validator_rejects_broken_documents(examples_report):
    doc = sarif_log(examples_report, cwd=str(ROOT))
    validate(doc)  # the real output passes...
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(AssertionError):
        validate(broken)
    broken = copy.deepcopy(doc)
    del broken["version"]
    with pytest.raises(AssertionError):
        validate(broken)
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] = {"startLine": 0}
    with pytest.raises(AssertionError):
        validate(broken)


def test_examples_output_is_valid_sarif(examples_report, monkeypatch):
    monkeypatch.chdir(ROOT)
    doc = json.loads(render("sarif", examples_report))
    validate(doc)
    assert doc["version"] == "2.1.0"
    run0 = doc["runs"][0]
    assert run0["tool"]["driver"]["name"] == "kubevet"
    assert run0["invocations"][0]["executionSuccessful"] is True
    assert {r["ruleId"] for r in run0["results"]} >= {"KV101", "KV105"}


def test_mixed_output_is_valid_sarif(mixed_report):
    validate(sarif_log(mixed_report, cwd=str(ROOT)))


def test_rule_descriptors(examples_report):
    doc = sarif_log(examples_report, cwd=str(ROOT))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in examples_report.rules]
    kv105 = next(r for r in rules if r["id"] == "KV105")
    assert kv105["name"] == "PrivilegedContainer"
    assert kv105["defaultConfiguration"]["level"] == "error"  # critical
    assert kv105["properties"]["security-severity"] == "9.5"
    assert float(kv105["properties"]["security-severity"]) > 9.0
    assert "security" in kv105["properties"]["tags"]
    assert kv105["help"]["markdown"].startswith("## KV105 privileged-container")
    assert "```" not in kv105["help"]["text"]
    kv101 = next(r for r in rules if r["id"] == "KV101")
    assert kv101["defaultConfiguration"]["level"] == "warning"  # medium
    assert "CKV_K8S_23" in kv101["properties"]["equivalents"]["checkov"]
    kv001 = next(r for r in rules if r["id"] == "KV001")
    assert kv001["defaultConfiguration"]["level"] == "note"  # low
    assert "security-severity" not in kv001["properties"]  # meta is not a security rule


def test_results_point_at_relative_files_and_lines(examples_report):
    doc = sarif_log(examples_report, cwd=str(ROOT))
    run0 = doc["runs"][0]
    rules = run0["tool"]["driver"]["rules"]
    priv = next(r for r in run0["results"] if r["ruleId"] == "KV105")
    assert rules[priv["ruleIndex"]]["id"] == "KV105"
    assert priv["level"] == "error"
    loc = priv["locations"][0]
    artifact = loc["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "examples/manifests/deployment.yaml", "uriBaseId": "%SRCROOT%"}
    text = (ROOT / artifact["uri"]).read_text().splitlines()
    line = loc["physicalLocation"]["region"]["startLine"]
    assert "privileged: true" in text[line - 1]
    names = [(lg["kind"], lg["fullyQualifiedName"]) for lg in loc["logicalLocations"]]
    assert names[0] == ("resource", "Deployment/shop/api")
    assert names[1][1].endswith("spec.template.spec.containers[0].securityContext.privileged")
    root_uri = run0["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root_uri.startswith("file:///") and root_uri.endswith("/")


def test_paths_outside_the_working_directory_are_absolute_uris(examples_report, tmp_path):
    doc = sarif_log(examples_report, cwd=str(tmp_path))
    for result in doc["runs"][0]["results"]:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uri"].startswith("file:///") and "uriBaseId" not in artifact
    validate(doc)


def test_fingerprints_are_stable_and_distinct(examples_report):
    first = sarif_log(examples_report, cwd=str(ROOT))["runs"][0]["results"]
    reordered = run(str(ROOT / "examples" / "manifests"), str(ROOT / "examples" / "chart"))
    again = sarif_log(reordered, cwd=str(ROOT))["runs"][0]["results"]
    key = "kubevetFinding/v1"
    prints = [r["partialFingerprints"][key] for r in first]
    assert len(set(prints)) == len(prints)
    assert sorted(prints) == sorted(r["partialFingerprints"][key] for r in again)
    f = examples_report.findings[0]
    moved = copy.copy(f)
    moved.line = (f.line or 0) + 40  # a finding that moved down the file keeps its print
    assert fingerprint(moved, "a.yaml") == fingerprint(f, "a.yaml")
    other = copy.copy(f)
    other.container = "another"
    assert fingerprint(other, "a.yaml") != fingerprint(f, "a.yaml")


def test_suppressed_findings_and_input_errors(mixed_report):
    doc = sarif_log(mixed_report, cwd=str(ROOT))
    run0 = doc["runs"][0]
    suppressed = [r for r in run0["results"] if "suppressions" in r]
    assert [r["ruleId"] for r in suppressed] == ["KV105"]
    assert suppressed[0]["suppressions"] == [
        {"kind": "inSource", "justification": "the node agent needs the host, see ADR-7"}
    ]
    invocation = run0["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    errors = [n for n in notes if n["level"] == "error"]
    assert len(errors) == len(mixed_report.errors) == 2
    bad = next(n for n in errors if "invalid YAML" in n["message"]["text"])
    phys = bad["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"]["uri"] == "tests/fixtures/cli/bad.yaml"
    assert phys["region"]["startLine"] >= 6
    assert any("boom" in n["message"]["text"] for n in errors)


def test_traced_chart_finding_has_related_locations(examples_report):
    report = copy.deepcopy(examples_report)
    chart = next(f for f in report.findings if f.origin.template and f.code == "KV101")
    keys = ("securityContext", "image.tag", "not.in.values")
    values_file = str(ROOT / "examples" / "chart" / "values.yaml")
    chart.trace = Trace(
        template=chart.origin.template,
        template_line=24,
        values_keys=keys,
        status="values",
        values_file=values_file,  # as kubevet.trace records them: the reporter reads no file
        values_lines=key_lines(values_file, keys),
    )
    doc = sarif_log(report, cwd=str(ROOT))
    validate(doc)
    result = next(
        r for r in doc["runs"][0]["results"] if r["ruleId"] == "KV101" and "relatedLocations" in r
    )
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 24  # the template line, not the rendered one
    template, *values = result["relatedLocations"]
    assert template["physicalLocation"]["artifactLocation"]["uri"] == (
        "examples/chart/templates/deployment.yaml"
    )
    values_yaml = (ROOT / "examples" / "chart" / "values.yaml").read_text().splitlines()
    by_key = {v["logicalLocations"][0]["name"]: v for v in values}
    tag = by_key["image.tag"]["physicalLocation"]
    assert tag["artifactLocation"]["uri"] == "examples/chart/values.yaml"
    assert values_yaml[tag["region"]["startLine"] - 1].strip() == "tag: latest"
    sc = by_key["securityContext"]["physicalLocation"]["region"]["startLine"]
    assert values_yaml[sc - 1].startswith("securityContext:")
    assert "region" not in by_key["not.in.values"]["physicalLocation"]
    assert len({v["id"] for v in result["relatedLocations"]}) == 4


@pytest.mark.parametrize(
    ("sev", "level"),
    [
        (Severity.CRITICAL, "error"),
        (Severity.HIGH, "error"),
        (Severity.MEDIUM, "warning"),
        (Severity.LOW, "note"),
        (Severity.INFO, "note"),
    ],
)
def test_levels(sev, level):
    from kubevet.report._location import level_of

    assert level_of(sev) == level


def test_pascal_case():
    assert pascal_case("run-as-non-root") == "RunAsNonRoot"
    assert pascal_case("host_pid") == "HostPid"


def test_stdin_findings_have_only_logical_locations(monkeypatch):
    import io

    text = (ROOT / "examples" / "manifests" / "deployment.yaml").read_text()
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    doc = sarif_log(run("-", select=("KV105",)), cwd=str(ROOT))
    validate(doc)
    (result,) = doc["runs"][0]["results"]
    assert "physicalLocation" not in result["locations"][0]
    assert result["locations"][0]["logicalLocations"][0]["name"] == "api"


def test_cli_writes_sarif_file(tmp_path, monkeypatch):
    from kubevet.cli import main

    monkeypatch.chdir(ROOT)
    out = tmp_path / "kubevet.sarif"
    code = main(["check", "examples/manifests", "--format", "sarif", "-o", str(out), "-j", "1"])
    assert code == 1
    validate(json.loads(Path(out).read_text("utf-8")))
