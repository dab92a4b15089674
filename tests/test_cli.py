"""End to end through kubevet.cli.main: exit codes, input errors, selection, suppressions."""

from __future__ import annotations

import io
import json
import os
import sys

import pytest
from conftest import FIXTURES, ROOT

from kubevet.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, main

CLI = FIXTURES / "cli"
SECURITY = "KV101,KV105,KV106"  # rules whose results these fixtures are written for


def check(capsys, *args: str, select: str | None = SECURITY) -> tuple[int, dict, str]:
    """Run `kubevet check ... --format json`; return (exit code, report, stderr)."""
    argv = ["check", *args, "--format", "json", "-j", "1"]
    if select:
        argv += ["--select", select]
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, json.loads(out), err


def codes(report: dict) -> list[tuple[str, str]]:
    return [(f["code"], f["object"]["name"]) for f in report["findings"] if not f["suppressed"]]


def test_clean_input_exits_0(capsys):
    code, report, _ = check(capsys, str(CLI / "clean.yaml"))
    assert code == EXIT_OK
    assert report["summary"]["findings"] == 0 and report["summary"]["objects"] == 1


def test_findings_exit_1(capsys):
    code, report, _ = check(capsys, str(ROOT / "examples" / "manifests"))
    assert code == EXIT_FINDINGS
    assert ("KV105", "api") in codes(report)


def test_fail_on_critical_ignores_lower_findings(capsys):
    code, report, _ = check(capsys, str(CLI / "medium.yaml"), "--fail-on", "critical")
    assert code == EXIT_OK
    assert codes(report) == [("KV101", "rooty")]  # still reported, just not failing
    code, _, _ = check(capsys, str(CLI / "medium.yaml"), "--fail-on", "medium")
    assert code == EXIT_FINDINGS
    code, _, _ = check(capsys, str(ROOT / "examples" / "manifests"), "--fail-on", "critical")
    assert code == EXIT_FINDINGS


def test_bad_fail_on_is_a_usage_error(capsys):
    assert main(["check", str(CLI / "clean.yaml"), "--fail-on", "severe"]) == EXIT_ERROR
    assert "unknown severity 'severe'" in capsys.readouterr().err


def test_bad_yaml_exits_2_naming_file_and_line_and_others_still_checked(capsys):
    code, report, _ = check(capsys, str(CLI / "bad.yaml"), str(ROOT / "examples" / "manifests"))
    assert code == EXIT_ERROR
    (err,) = report["errors"]
    assert err["file"].endswith("bad.yaml") and err["line"] in (6, 7)
    assert "invalid YAML" in err["message"]
    assert ("KV105", "api") in codes(report)


def test_bad_yaml_in_text_output_goes_to_stderr(capsys):
    code = main(["check", str(CLI / "bad.yaml"), "-j", "1"])
    out, err = capsys.readouterr()
    assert code == EXIT_ERROR
    assert f"kubevet: error: {CLI / 'bad.yaml'}:" in err and "invalid YAML" in err
    assert "invalid YAML" not in out  # printed once, on stderr
    assert out.strip().endswith("1 input error")


def test_text_summary_counts_in_the_singular_and_the_plural(capsys, tmp_path):
    main(["check", str(CLI / "medium.yaml"), "-j", "1", "--select", "KV101"])
    assert capsys.readouterr().out.strip().endswith("1 finding (1 medium) in 1 object from 1 input")
    for name in ("clean", "medium"):  # a folder each: two inputs
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.yaml").write_text((CLI / f"{name}.yaml").read_text())
    main(
        ["check", str(tmp_path / "clean"), str(tmp_path / "medium"), "-j", "1", "--select", "KV105"]
    )
    assert capsys.readouterr().out.strip().endswith("0 findings in 2 objects from 2 inputs")


def test_missing_path_exits_2_and_the_rest_is_checked(capsys, tmp_path):
    missing = tmp_path / "nope.yaml"
    dangling = tmp_path / "dangling.yaml"
    dangling.symlink_to(tmp_path / "gone.yaml")
    code, report, _ = check(capsys, str(missing), str(dangling), str(CLI / "list.yaml"))
    assert code == EXIT_ERROR
    assert sorted(e["file"] for e in report["errors"]) == sorted([str(missing), str(dangling)])
    assert all("no such file" in e["message"] for e in report["errors"])
    assert ("KV105", "first") in codes(report)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_exits_2(capsys, tmp_path):
    locked = tmp_path / "locked.yaml"
    locked.write_text((CLI / "clean.yaml").read_text())
    locked.chmod(0)
    code, report, _ = check(capsys, str(locked))
    assert code == EXIT_ERROR
    assert "cannot read" in report["errors"][0]["message"]


def test_non_utf8_file_names_its_line(capsys, tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n")
    code, report, _ = check(capsys, str(latin))
    assert code == EXIT_ERROR
    assert report["errors"] == [{"file": str(latin), "line": 4, "message": "not UTF-8 text"}]


@pytest.mark.parametrize("breaks", [1, 2, 3])  # a line break within 3 bytes of the error
def test_non_utf8_file_after_a_byte_order_mark_names_its_line(capsys, tmp_path, breaks):
    marked = tmp_path / "marked.yaml"
    marked.write_bytes(b"\xef\xbb\xbfa: 1" + b"\n" * breaks + b"\xe9\n")
    code, report, _ = check(capsys, str(marked))
    assert code == EXIT_ERROR
    assert report["errors"][0]["line"] == 1 + breaks


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_chart_that_fails_to_render_exits_2_and_the_rest_is_checked(capsys, jobs):
    argv = ["check", str(CLI / "broken-chart"), str(ROOT / "examples" / "manifests")]
    code = main([*argv, "--format", "json", "-j", jobs, "--select", SECURITY])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err  # errors cross the process pool as values
    report = json.loads(out)
    assert code == EXIT_ERROR
    (error,) = report["errors"]
    assert error["file"] == str(CLI / "broken-chart")
    assert "chart failed to render" in error["message"] and "boom" in error["message"]
    assert ("KV105", "api") in codes(report)


def test_chart_with_remote_schema_renders_offline_with_a_warning(capsys):
    code, report, _ = check(capsys, str(CLI / "remote-schema-chart"))
    assert code == EXIT_OK
    assert report["errors"] == []
    assert report["summary"]["objects"] == 1
    (warning,) = report["warnings"]
    assert "remote schema" in warning and "remote-schema-chart" in warning


def test_select_and_ignore(capsys):
    path = str(ROOT / "examples" / "manifests")
    _, only, _ = check(capsys, path, select="KV105")
    assert {c for c, _ in codes(only)} == {"KV105"}
    _, by_slug, _ = check(capsys, path, select="privileged-container,run-as-non-root")
    assert {c for c, _ in codes(by_slug)} == {"KV101", "KV105"}
    _, ignored, _ = check(capsys, path, "--ignore", "KV105", select=SECURITY)
    assert {c for c, _ in codes(ignored)} == {"KV101", "KV106"}
    code, none, _ = check(capsys, path, "--ignore", "KV1", select=SECURITY)
    assert code == EXIT_OK and codes(none) == []


def test_yaml_bomb_is_a_clear_error(capsys, tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    code, report, _ = check(capsys, str(bomb), str(CLI / "clean.yaml"))
    assert code == EXIT_ERROR
    (err,) = report["errors"]
    assert err["file"] == str(bomb) and "YAML bomb" in err["message"]
    assert report["summary"]["objects"] == 1  # the clean file was still read


def test_binary_file_is_a_clear_error(capsys, tmp_path):
    blob = tmp_path / "image.yaml"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    code, report, _ = check(capsys, str(blob))
    assert code == EXIT_ERROR
    assert report["errors"][0]["file"] == str(blob)
    assert "binary file" in report["errors"][0]["message"]


def test_documents_that_are_not_kubernetes_objects(capsys):
    code, report, _ = check(capsys, str(CLI / "not-k8s.yaml"))
    assert code == EXIT_ERROR
    by_line = {e["line"]: e["message"] for e in report["errors"]}
    assert "not a Kubernetes object (no apiVersion and kind)" in by_line[7]
    assert "document is a list" in by_line[11]
    assert report["summary"]["objects"] == 1  # the ConfigMap beside them


def test_kind_list_items_are_checked(capsys):
    code, report, _ = check(capsys, str(CLI / "list.yaml"))
    assert code == EXIT_FINDINGS
    assert report["summary"]["objects"] == 2
    assert ("KV105", "first") in codes(report)


def test_stdin(capsys, monkeypatch):
    text = (ROOT / "examples" / "manifests" / "deployment.yaml").read_text()
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    code, report, _ = check(capsys, "-", str(CLI / "clean.yaml"))
    assert code == EXIT_FINDINGS
    assert report["inputs"][0] == {"label": "-", "source": "stdin", "objects": 2, "chart": None}
    priv = next(f for f in report["findings"] if f["code"] == "KV105")
    assert priv["input"] == "-" and priv["origin"]["fieldLine"] == 25


def test_json_manifest(capsys):
    code, report, _ = check(capsys, str(CLI / "manifest.json"))
    assert code == EXIT_FINDINGS
    priv = next(f for f in report["findings"] if f["code"] == "KV105")
    assert priv["object"]["name"] == "from-json"
    assert priv["origin"]["fieldLine"] == 10  # the line of "privileged" in the JSON file


def test_suppressions(capsys):
    code, report, _ = check(capsys, str(CLI / "suppressions.yaml"), select=SECURITY + ",KV0")
    assert code == EXIT_FINDINGS
    found = [(f["code"], f["object"]["name"], f["suppressed"]) for f in report["findings"]]
    # no reason: KV002 and the finding stays active
    assert ("KV002", "no-reason", None) in found
    assert ("KV105", "no-reason", None) in found
    # suppression that matches nothing: KV001
    assert ("KV001", "stale", None) in found
    # per-container suppression with a reason
    reason = "debug shell, removed before release"
    assert ("KV105", "justified", reason) in found
    assert [c for c, n, _ in found].count("KV002") == 1  # a Pod's annotations are read once
    assert [c for c, n, _ in found].count("KV001") == 1
    assert report["summary"]["suppressed"] == 1


def test_suppressed_finding_alone_does_not_fail(capsys):
    code, report, _ = check(capsys, str(CLI / "suppressed"), select="KV105")
    assert code == EXIT_OK
    assert report["summary"] == {**report["summary"], "findings": 0, "suppressed": 1}


def test_output_file_and_unknown_format(capsys, tmp_path):
    out = tmp_path / "report.xml"
    path = str(ROOT / "examples" / "manifests")
    assert main(["check", path, "--format", "junit", "-o", str(out), "-j", "1"]) == EXIT_FINDINGS
    assert out.read_text().startswith("<?xml")
    assert capsys.readouterr().out == ""
    assert main(["check", path, "--format", "yaml"]) == EXIT_ERROR
    assert "unknown format 'yaml'" in capsys.readouterr().err


def test_helm_warnings_become_run_warnings_named_after_the_chart(capsys):
    chart = FIXTURES / "helm_warning"
    code = main(["check", str(chart), "--format", "json"])
    out, _err = capsys.readouterr()
    warnings = json.loads(out)["warnings"]
    assert code == 0
    assert warnings == [f"{chart}: helm: skipped value for warn.sub.settings: Not a table."]


def test_values_given_to_a_run_without_a_chart_are_an_error_or_a_warning(capsys, tmp_path):
    """`kubevet check rendered/ -f prod.yaml` checks what was rendered: the values are used
    for nothing, said in a warning; a values file that does not exist is an input error,
    as it is when a chart is checked."""
    missing = tmp_path / "nope.yaml"
    code = main(["check", str(CLI / "medium.yaml"), "-f", str(missing), "-j", "1"])
    assert code == EXIT_ERROR
    assert f"{missing}: cannot read" in capsys.readouterr().err
    values = tmp_path / "prod.yaml"
    values.write_text("replicas: 3\n")
    code = main(["check", str(CLI / "medium.yaml"), "-f", str(values), "--set", "a=1", "-j", "1"])
    assert code == EXIT_FINDINGS
    err = capsys.readouterr().err
    assert "-f/--set: values apply to Helm charts, and no input is a chart: not used" in err


def test_values_given_with_a_chart_among_the_inputs_get_no_such_warning(capsys):
    chart = str(ROOT / "examples" / "chart")
    main(["check", chart, str(CLI / "medium.yaml"), "--set", "replicaCount=2", "--no-trace"])
    assert "no input is a chart" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["upgrade", "--to", "1.29"], ["footprint"], ["netpol"], ["fix"]]
)
def test_every_command_reads_values_given_without_a_chart(capsys, tmp_path, command):
    """The same for the other commands that take values: a missing values file is an
    error (and `fix` then writes nothing), values read but not used are a warning."""
    manifest = tmp_path / "pod.yaml"
    manifest.write_text((CLI / "medium.yaml").read_text())
    before = manifest.read_text()
    missing = tmp_path / "nope.yaml"
    assert main([command[0], str(manifest), *command[1:], "-f", str(missing)]) == EXIT_ERROR
    assert f"{missing}: cannot read" in capsys.readouterr().err
    assert manifest.read_text() == before
    values = tmp_path / "prod.yaml"
    values.write_text("replicas: 3\n")
    main([command[0], str(manifest), *command[1:], "--set", "a=1", "-f", str(values)])
    assert "-f/--set: values apply to Helm charts, and no input is a chart: not used" in (
        capsys.readouterr().err
    )
