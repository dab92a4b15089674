"""JUnit XML: well formed, one suite per input, one case per object and rule."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import pytest
from conftest import FIXTURES, ROOT

from kubevet.findings import InputError
from kubevet.report import render
from kubevet.runner import RunSettings, run_check

CLI = FIXTURES / "cli"


def run(*paths: str, select: tuple[str, ...] = ()) -> object:
    return run_check(list(paths), RunSettings(select=list(select), jobs=1))


@pytest.fixture(scope="module")
def mixed():
    return run(
        str(ROOT / "examples" / "manifests"),
        str(CLI / "suppressed"),
        str(CLI / "bad.yaml"),
        str(CLI / "broken-chart"),
        select=("KV101", "KV105", "KV106"),
    )


def parse(report: object) -> ET.Element:
    text = render("junit", report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.split("\n", 1)[1])


def suite(root: ET.Element, label: str) -> ET.Element:
    (found,) = [s for s in root.findall("testsuite") if s.get("name") == label]
    return found


def test_one_suite_per_input_and_counts_add_up(mixed):
    root = parse(mixed)
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names == [g.label for g in mixed.groups]
    for s in root.findall("testsuite"):
        cases = s.findall("testcase")
        assert int(s.get("tests")) == len(cases)
        assert int(s.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(s.get("errors")) == sum(c.find("error") is not None for c in cases)
    total = sum(int(s.get("tests")) for s in root.findall("testsuite"))
    assert int(root.get("tests")) == total
    assert int(root.get("errors")) == len(mixed.errors) == 2


def test_failures_carry_message_and_location(mixed):
    manifests = suite(parse(mixed), str(ROOT / "examples" / "manifests"))
    cases = {c.get("name"): c for c in manifests.findall("testcase")}
    case = cases["KV105 privileged-container: Deployment shop/api"]
    failure = case.find("failure")
    assert failure.get("message") == "container 'api' is privileged"
    assert failure.get("type") == "KV105 critical"
    assert case.get("file").endswith("examples/manifests/deployment.yaml")
    lines = (ROOT / "examples" / "manifests" / "deployment.yaml").read_text().splitlines()
    assert "privileged: true" in lines[int(case.get("line")) - 1]
    assert "field spec.template.spec.containers[0].securityContext.privileged" in failure.text
    assert len(cases) == 3  # one case per object and rule


def test_suppressed_finding_is_skipped(mixed):
    s = suite(parse(mixed), str(CLI / "suppressed"))
    (skipped,) = [c for c in s.findall("testcase") if c.find("skipped") is not None]
    assert skipped.get("name").startswith("KV105 ")
    assert "see ADR-7" in skipped.find("skipped").get("message")
    assert s.get("skipped") == "1"


def test_input_errors_are_error_cases_in_their_suite(mixed):
    root = parse(mixed)
    bad = suite(root, str(CLI / "bad.yaml")).find("testcase")
    assert bad.find("error").get("type") == "InputError"
    assert "invalid YAML" in bad.find("error").get("message")
    assert int(bad.get("line")) >= 6
    chart = suite(root, str(CLI / "broken-chart")).find("testcase/error")
    assert "boom" in chart.get("message")


def test_same_rule_in_two_containers_is_one_case_with_both():
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  containers:
    - {name: a, image: x:1, securityContext: {privileged: true}}
    - {name: b, image: x:1, securityContext: {privileged: true}}
"""
    from kubevet.api import check_yaml

    findings = check_yaml(text, select=["KV105"])
    report = run(str(ROOT / "examples" / "manifests"), select=("KV999",))
    report.findings = findings
    (case,) = suite(parse(report), "<string>").iter("testcase")
    failure = case.find("failure")
    assert "(and 1 more)" in failure.get("message")
    assert "'a'" in failure.text and "'b'" in failure.text


def test_clean_input_has_a_passing_case_and_control_chars_are_dropped():
    report = run(str(ROOT / "examples" / "manifests"), select=("KV999",))
    assert not report.findings
    report = copy.deepcopy(report)
    report.errors.append(InputError("odd\x01name.yaml", "bad byte \x00 here", 3))
    root = parse(report)  # would raise on an invalid XML character
    clean = suite(root, str(ROOT / "examples" / "manifests")).find("testcase")
    assert clean.get("name") == "all rules pass" and len(list(clean)) == 0
    orphan = suite(root, "kubevet input errors").find("testcase/error")
    assert orphan.get("message") == "bad byte \N{REPLACEMENT CHARACTER} here"


def _whole_tree(report: object) -> str:
    from kubevet.report.junit_report import _whole

    return _whole(report)  # type: ignore[arg-type]


def test_streamed_document_is_the_whole_tree_one(mixed):
    """The suites are written one by one after a counting pass; the text is the one the
    whole tree gives (ET.indent, ET.tostring), which the checks above parse."""
    assert render("junit", mixed) == _whole_tree(mixed)


def test_streamed_from_a_spilled_spool_and_out_of_order_findings(mixed, monkeypatch):
    import random

    from kubevet import spool

    monkeypatch.setattr(spool, "SPILL_AT", 2)  # findings read back from disk, batch by batch
    paths = [str(ROOT / "examples" / "manifests"), str(CLI / "suppressed")]
    spilled = run_check(paths, RunSettings(jobs=1), spool=True)
    assert isinstance(spilled.findings, spool.FindingSpool) and spilled.findings._chunks  # type: ignore[attr-defined]
    assert render("junit", spilled) == _whole_tree(spilled)
    shuffled = copy.copy(mixed)
    shuffled.findings = list(mixed.findings)
    random.Random(3).shuffle(shuffled.findings)  # inputs interleaved: the whole tree is built
    assert render("junit", shuffled) == _whole_tree(shuffled)
    assert [s.get("name") for s in parse(shuffled).findall("testsuite")] == [
        s.get("name") for s in parse(mixed).findall("testsuite")
    ]
