"""GitHub Actions workflow commands: one annotation per active finding, escaped as GitHub wants."""

from __future__ import annotations

import re

from conftest import FIXTURES, ROOT

from kubevet.report import render
from kubevet.report.github_report import command, escape_data, escape_property
from kubevet.runner import RunSettings, run_check

CLI = FIXTURES / "cli"
COMMAND = re.compile(r"^::(?P<name>\w+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """Read a workflow command back the way the runner does (split, then unescape)."""
    m = COMMAND.match(line)
    assert m, f"not a workflow command: {line!r}"
    props = {}
    for pair in filter(None, (m.group("props") or "").split(",")):
        key, value = pair.split("=", 1)
        props[key] = _unescape(value)
    return m.group("name"), props, _unescape(m.group("data"))


def _unescape(text: str) -> str:
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


def test_escaping_round_trips_through_the_runner_grammar():
    nasty = "50% of a:b, c\r\nnext"
    line = command("error", {"file": "dir,1/a:b.yaml", "title": nasty}, nasty)
    assert "\n" not in line and "\r" not in line
    name, props, data = parse(line)
    assert name == "error"
    assert props == {"file": "dir,1/a:b.yaml", "title": nasty}
    assert data == nasty
    assert escape_data("100%") == "100%25"
    assert escape_data("a:b,c") == "a:b,c"  # only properties escape `:` and `,`
    assert escape_property("a:b,c") == "a%3Ab%2Cc"
    assert escape_property("%0A") == "%250A"  # `%` first, so escapes are not doubled


def test_findings_become_annotations(monkeypatch):
    monkeypatch.chdir(ROOT)
    report = run_check(
        ["examples/manifests", str(CLI / "suppressed")],
        RunSettings(select=["KV101", "KV105"], jobs=1),
    )
    lines = render("github", report).splitlines()
    commands = [parse(x) for x in lines if x.startswith("::")]
    assert len(commands) == len(report.active)  # the suppressed KV105 is not annotated
    priv = [c for c in commands if c[1]["title"] == "KV105 privileged-container"]
    assert len(priv) == 1
    name, props, data = priv[0]
    assert name == "error"  # critical
    assert props["file"] == "examples/manifests/deployment.yaml"
    source = (ROOT / props["file"]).read_text().splitlines()
    assert "privileged: true" in source[int(props["line"]) - 1]
    assert data.startswith("Deployment shop/api: container 'api' is privileged")
    medium = [c for c in commands if c[1]["title"] == "KV101 run-as-non-root"]
    assert {c[0] for c in medium} == {"warning"}
    assert lines[-1].startswith(f"{len(report.active)} findings")


def test_input_errors_and_warnings(monkeypatch):
    monkeypatch.chdir(ROOT)
    paths = [str(CLI / "bad.yaml"), str(CLI / "broken-chart"), str(CLI / "remote-schema-chart")]
    report = run_check(paths, RunSettings(select=["KV101"], jobs=1))
    commands = [parse(x) for x in render("github", report).splitlines() if x.startswith("::")]
    errors = [c for c in commands if c[0] == "error"]
    assert len(errors) == 2
    bad = next(c for c in errors if c[1]["file"] == "tests/fixtures/cli/bad.yaml")
    assert int(bad[1]["line"]) >= 6 and "invalid YAML" in bad[2]
    assert any("boom" in c[2] for c in errors)
    warnings = [c for c in commands if c[0] == "warning"]
    assert any("remote schema" in c[2] for c in warnings)


def test_the_streamed_report_is_one_chunk_per_line(monkeypatch):
    from kubevet.report import render_chunks
    from kubevet.report.text_report import summary

    monkeypatch.chdir(ROOT)
    report = run_check(["examples/manifests"], RunSettings(jobs=1))
    chunks = list(render_chunks("github", report))
    assert len(chunks) == len(report.active) + len(report.errors) + len(report.warnings) + 1
    assert all(c.endswith("\n") and c.count("\n") == 1 for c in chunks)
    assert chunks[-1] == summary(report) + "\n"
    assert "".join(chunks) == render("github", report)
