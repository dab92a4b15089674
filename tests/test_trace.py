"""Tracing chart findings to template lines and values keys (kubevet.trace)."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS_CHARTS, FIXTURES, need

from kubevet.cli import main
from kubevet.context import Options
from kubevet.engine import check_group
from kubevet.findings import Edit, Finding, Fix
from kubevet.rules.registry import select_rules
from kubevet.sources.helm import HelmOptions, load_chart
from kubevet.trace import trace_chart
from kubevet.trace.keys import format_key

DEMO = FIXTURES / "trace" / "demo"
APP = ("spec", "template", "spec", "containers", 0)


def _traced(chart=DEMO, extra: list[Finding] | None = None) -> list[Finding]:
    group = load_chart(str(chart), HelmOptions())
    findings = check_group(group, select_rules(["KV101", "KV105", "KV106"]), Options())
    findings += extra or []
    trace_chart(group, findings, HelmOptions())
    return findings


def _one(findings: list[Finding], code: str, container: str) -> Finding:
    return next(f for f in findings if f.code == code and f.container == container)


def test_direct_values_reference_is_traced_to_its_key_and_template_line():
    f = _one(_traced(), "KV105", "app")
    assert f.trace.status == "values"
    assert f.trace.values_keys == ("web.privileged",)
    lines = (DEMO / "templates" / "deployment.yaml").read_text().splitlines()
    assert ".Values.web.privileged" in lines[f.trace.template_line - 1]


def test_absent_field_under_a_toyaml_map_gets_the_key_that_would_set_it():
    f = _one(_traced(), "KV106", "app")
    assert f.trace.status == "values"
    assert f.trace.values_keys == ("securityContext.allowPrivilegeEscalation",)


def test_subchart_map_is_traced_under_the_subchart_key():
    f = _one(_traced(), "KV106", "worker")
    assert f.trace.values_keys == ("sub.containerSecurityContext.allowPrivilegeEscalation",)
    assert f.trace.template == "demo/charts/sub/templates/pod.yaml"


def test_hard_coded_field_says_so_with_its_template_line():
    f = _one(_traced(), "KV106", "sidecar")
    assert f.trace.status == "hard-coded"
    assert f.trace.values_keys == ()
    lines = (DEMO / "templates" / "deployment.yaml").read_text().splitlines()
    assert lines[f.trace.template_line - 1].strip() == "allowPrivilegeEscalation: true"


def test_absent_field_that_no_values_key_reaches_is_reported_absent():
    f = _one(_traced(), "KV101", "sidecar")
    assert f.trace.status == "absent"


def test_key_referenced_by_a_template_but_missing_from_values_is_found():
    # `.Values.podSecurityContext` is used with toYaml but not defined in values.yaml
    group = load_chart(str(DEMO), HelmOptions())
    obj = next(o for o in group.objects if o.kind == "Deployment")
    path = ("spec", "template", "spec", "securityContext", "runAsNonRoot")
    f = Finding(
        "KV999", "demo", 1, "security", "m", obj.ref, path, obj.origin,
        fix=Fix("unsafe", "d", (Edit("set", path, True),)), obj=obj,
    )  # fmt: skip
    trace_chart(group, [f], HelmOptions())
    assert f.trace.values_keys == ("podSecurityContext.runAsNonRoot",)


def test_image_built_from_two_leaves_names_both_and_solves_a_new_value():
    from kubevet.fix.chart import values_edits

    group = load_chart(str(DEMO), HelmOptions())
    obj = next(o for o in group.objects if o.kind == "Deployment")
    path = (*APP, "image")
    pinned = "example/app:1.0@sha256:" + "a" * 64
    f = Finding(
        "KV998", "pin", 1, "supply-chain", "m", obj.ref, path, obj.origin,
        fix=Fix("safe", "pin", (Edit("set", path, pinned),)), obj=obj,
    )  # fmt: skip
    trace_chart(group, [f], HelmOptions())
    assert set(f.trace.values_keys) == {"image.repository", "image.tag"}
    values = {"image": {"repository": "example/app", "tag": "1.0"}}
    edits = values_edits(f, f.fix.edits, values)
    assert edits == [Edit("set", ("image", "tag"), "1.0@sha256:" + "a" * 64)]


def test_format_key_escapes_dots_and_shows_indices():
    assert format_key(("a", "b.c", 0, "d")) == "a.b\\.c[0].d"


@pytest.mark.parametrize("flag", [[], ["--trace"]])
def test_check_traces_chart_findings_by_default(tmp_path, flag):
    out = tmp_path / "r.json"
    main(["check", str(DEMO), *flag, "--select", "KV105", "--format", "json", "-o", str(out)])
    (finding,) = json.loads(out.read_text())["findings"]
    assert finding["trace"]["valuesKeys"] == ["web.privileged"]
    assert finding["trace"]["status"] == "values"
    assert finding["trace"]["templateLine"] is not None


def test_no_trace_check_does_not_trace(tmp_path):
    out = tmp_path / "r.json"
    main(
        ["check", str(DEMO), "--no-trace", "--select", "KV105", "--format", "json", "-o", str(out)]
    )
    assert json.loads(out.read_text())["findings"][0]["trace"] is None


@pytest.mark.parametrize("chart", ["grafana", "ingress-nginx", "redis"])
def test_corpus_chart_findings_mostly_carry_a_key_or_hard_coded_trace(chart):
    path = need(CORPUS_CHARTS) / chart
    group = load_chart(str(path), HelmOptions())
    findings = [f for f in check_group(group, select_rules(), Options()) if not f.suppressed]
    trace_chart(group, findings, HelmOptions())
    statuses = [f.trace.status for f in findings]
    assert "unknown" not in statuses
    explained = sum(s in ("values", "hard-coded") for s in statuses)
    assert explained / len(statuses) >= 0.6


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_every_output_format_carries_the_trace(tmp_path, fmt):
    out = tmp_path / "report"
    args = ["--trace", "--select", "KV105,KV106", "--format", fmt, "-o", str(out)]
    main(["check", str(DEMO), *args])
    text = out.read_text()
    assert "web.privileged" in text  # a values key
    assert "hard-coded in the template" in text  # the sidecar's allowPrivilegeEscalation


def test_a_packaged_chart_gets_the_same_template_lines(tmp_path):
    import tarfile

    archive = tmp_path / "demo-0.1.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(DEMO, arcname="demo")
    packed = _one(_traced(archive), "KV105", "app")
    plain = _one(_traced(), "KV105", "app")
    assert packed.trace.template_line == plain.trace.template_line is not None
    assert packed.trace.values_keys == plain.trace.values_keys


def test_trace_records_each_values_key_line_in_the_charts_values_file():
    """Reporters point at values.yaml from the trace alone (SARIF opens no values file)."""
    findings = [f for f in _traced() if f.trace and f.trace.values_keys]
    assert findings
    values = (DEMO / "values.yaml").read_text().splitlines()
    for f in findings:
        assert f.trace.values_file == str(DEMO / "values.yaml")
        assert len(f.trace.values_lines) == len(f.trace.values_keys)
        for key, line in zip(f.trace.values_keys, f.trace.values_lines, strict=True):
            if line is not None:  # a key the chart's own values.yaml sets
                assert values[line - 1].strip().startswith(key.rsplit(".", 1)[-1] + ":")
    assert any(line is not None for f in findings for line in f.trace.values_lines)
