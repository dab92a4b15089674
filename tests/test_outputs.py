"""One output convention for every command that writes reports: `--format FMT[=FILE]`
(repeatable), `-o FILE` for one format, `--exit-zero`; diagnostics on stderr in every mode
and in each report; colour by `--color`, NO_COLOR and FORCE_COLOR; one name per format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from conftest import FIXTURES, ROOT

from kubevet.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, main

MANIFESTS = str(ROOT / "examples" / "manifests")
BAD = str(FIXTURES / "cli" / "bad.yaml")
NETPOL = str(FIXTURES / "netpol" / "base.yaml")
ESC = "\033["


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_several_reports_in_one_run(capsys, tmp_path):
    sarif, report = tmp_path / "k.sarif", tmp_path / "k.json"
    argv = ["check", MANIFESTS, "--format", "text", "--format", f"sarif={sarif}"]
    code, out, _ = run(capsys, *argv, "--format", f"json={report}", "-j", "1")
    assert code == EXIT_FINDINGS
    assert "findings" in out.splitlines()[-1]  # the text report on the console
    assert json.loads(sarif.read_text())["runs"][0]["results"]
    assert json.loads(report.read_text())["summary"]["findings"] > 0


@pytest.mark.parametrize("fmt", ["sarif", "json", "junit"])
def test_errors_reach_stderr_and_the_report_file_and_nothing_else_is_printed(capsys, tmp_path, fmt):
    path = tmp_path / f"report.{fmt}"
    code, out, err = run(capsys, "check", BAD, MANIFESTS, "--format", fmt, "-o", str(path))
    assert code == EXIT_ERROR
    assert out == ""
    assert f"kubevet: error: {BAD}:" in err and "invalid YAML" in err
    text = path.read_text()
    if fmt == "junit":
        ET.fromstring(text)
    assert "invalid YAML" in text


def test_exit_zero_reports_but_never_fails_on_findings(capsys, tmp_path):
    code, out, _ = run(capsys, "check", MANIFESTS, "--exit-zero", "--format", "json")
    assert code == EXIT_OK and json.loads(out)["summary"]["findings"] > 0
    code, _, err = run(capsys, "check", BAD, "--exit-zero")
    assert code == EXIT_ERROR and "invalid YAML" in err  # an error is never a pass


def test_report_that_cannot_be_written_is_one_line(capsys, tmp_path):
    code, out, err = run(capsys, "check", MANIFESTS, "-o", str(tmp_path))
    assert code == EXIT_ERROR and out == ""
    assert err.strip() == f"kubevet: error: cannot write {tmp_path}: it is a directory"


def test_the_same_convention_in_every_reporting_command(capsys, tmp_path):
    up = tmp_path / "up.json"
    code, out, _ = run(
        capsys, "upgrade", "--to", "1.29", MANIFESTS, "--format", "text", "--format", f"json={up}"
    )
    assert code in (EXIT_OK, EXIT_FINDINGS) and out
    assert "objects" in json.loads(up.read_text())
    fp = tmp_path / "fp.csv"
    code, out, _ = run(capsys, "footprint", MANIFESTS, "--format", "json", "--format", f"csv={fp}")
    assert code == EXIT_OK
    assert json.loads(out) and fp.read_text().startswith("input,chart,kind")
    dot = tmp_path / "np.dot"
    code, out, _ = run(capsys, "netpol", NETPOL, "--format", "markdown", "--format", f"dot={dot}")
    assert code == EXIT_OK
    assert out.startswith("| src |") and dot.read_text().startswith("digraph")


@pytest.mark.parametrize(("old", "new", "marker"), [("txt", "text", "=>"), ("md", "markdown", "|")])
def test_old_netpol_format_names_still_work_with_a_warning(capsys, old, new, marker):
    code, out, err = run(capsys, "netpol", NETPOL, "--format", old)
    assert code == EXIT_OK and marker in out
    assert f"kubevet: warning: --format {old} is deprecated; use --format {new}" in err
    code, same, err = run(capsys, "netpol", NETPOL, "--format", new)
    assert same == out and "deprecated" not in err


def test_colour_follows_flag_and_environment(capsys, monkeypatch):
    argv = ["check", MANIFESTS, "-j", "1"]
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert ESC not in run(capsys, *argv)[1]  # not a terminal: no colour
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ESC in run(capsys, *argv)[1]  # CI logs when forced
    assert ESC not in run(capsys, *argv, "--color", "never")[1]  # the flag wins
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("NO_COLOR", "1")
    assert ESC not in run(capsys, *argv)[1]
    assert ESC in run(capsys, "--color", "always", *argv)[1]


def test_colour_on_stderr_diagnostics(capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, _, err = run(capsys, "check", BAD)
    assert f"kubevet: {ESC}31merror{ESC}0m:" in err
    _, _, err = run(capsys, "check", BAD, "--color", "never")
    assert err.startswith("kubevet: error:")


def test_a_report_to_dev_null_is_written_through(capsys):
    code, out, err = run(capsys, "check", MANIFESTS, "--format", "json", "-o", "/dev/null")
    assert code == EXIT_FINDINGS and out == "" and err == ""


def test_a_report_to_a_named_pipe_reaches_its_reader(capsys, tmp_path):
    import os
    import threading

    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, err = run(capsys, "check", MANIFESTS, "--format", "json", "-o", str(fifo))
    reader.join(timeout=30)
    if reader.is_alive():  # nothing opened the pipe: release the reader with an EOF
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=5)
    assert code == EXIT_FINDINGS and err == ""
    assert json.loads(got[0])["summary"]["findings"] > 0
    assert stat_is_fifo(fifo)  # still the pipe: nothing was renamed over it


def test_a_report_to_dev_stdout_on_a_pipe_is_the_report():
    import subprocess
    import sys

    argv = [sys.executable, "-m", "kubevet", "check", MANIFESTS, "--format", "json"]
    proc = subprocess.run([*argv, "-o", "/dev/stdout"], capture_output=True, text=True)
    assert proc.returncode == EXIT_FINDINGS, proc.stderr
    assert json.loads(proc.stdout)["summary"]["findings"] > 0


def test_fix_never_writes_to_a_device(tmp_path):
    from kubevet.safewrite import WriteError, write_text

    with pytest.raises(WriteError, match="not a regular file"):
        write_text("/dev/null", "x")


def stat_is_fifo(path) -> bool:
    import stat

    return stat.S_ISFIFO(path.lstat().st_mode)
