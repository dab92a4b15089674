"""Only regular files are read, up to a size bound; unreadable inputs are errors (exit 2)
that name the path, even as root (fault injection), and the rest of the run goes on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from kubevet import limits
from kubevet.cli import EXIT_ERROR, main
from kubevet.sources.reader import FAULT_ENV

INPUT = FIXTURES / "input"
FLAGGED = INPUT / "privileged.yaml"


def check(capsys, *args: str) -> tuple[int, dict]:
    code = main(["check", *args, "--format", "json", "-j", "1", "--select", "KV105"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, json.loads(out)


def still_checked(report: dict) -> bool:
    return any(f["object"]["name"] == "still-checked" for f in report["findings"])


@pytest.fixture(autouse=True)
def _default_limits():
    yield
    limits.use(limits.Limits())  # a test's config must not leak into the next


def test_fifo_in_a_scanned_directory_is_reported_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "pod.yaml").write_text(FLAGGED.read_text())
    # A subprocess: a regression would block on the FIFO, and the timeout ends it.
    proc = subprocess.run(
        [sys.executable, "-m", "kubevet", "check", str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.returncode == EXIT_ERROR, proc.stderr
    report = json.loads(proc.stdout)
    (err,) = report["errors"]
    assert err["file"] == str(tmp_path / "pipe.yaml")
    assert "not a regular file (a FIFO)" in err["message"]
    assert still_checked(report)


def test_link_to_a_device_is_not_read(capsys, tmp_path):
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "pod.yaml").write_text(FLAGGED.read_text())
    code, report = check(capsys, str(tmp_path))
    assert code == EXIT_ERROR
    (err,) = report["errors"]
    assert err["file"] == str(tmp_path / "zero.yaml")
    assert "a character device" in err["message"]
    assert still_checked(report)


def test_fifo_named_on_the_command_line_is_not_called_missing(capsys, tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    code, report = check(capsys, str(tmp_path / "pipe.yaml"), str(FLAGGED))
    assert code == EXIT_ERROR
    assert [e["message"] for e in report["errors"]] == [
        "not a regular file (a FIFO); only regular files are read"
    ]
    assert still_checked(report)


def test_file_over_the_size_limit_is_an_error_naming_it(capsys, tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text(FLAGGED.read_text() + "#" * 2048 + "\n")
    config = tmp_path / "kubevet.yaml"
    config.write_text("limits:\n  max-file-size: 1Ki\n")
    code, report = check(capsys, str(big), str(FLAGGED), "--config", str(config))
    assert code == EXIT_ERROR
    (err,) = report["errors"]
    assert err["file"] == str(big)
    assert err["message"] == ("file is larger than the 1 KiB limit (config limits.max-file-size)")
    assert still_checked(report)
    # the default bound is generous: the same file passes without the config
    code, report = check(capsys, str(big))
    assert report["errors"] == [] and still_checked(report)


def test_values_file_that_is_a_fifo_is_an_error(capsys, tmp_path):
    os.mkfifo(tmp_path / "values.yaml")
    chart = ROOT / "examples" / "chart"
    code, report = check(capsys, str(chart), "-f", str(tmp_path / "values.yaml"))
    assert code == EXIT_ERROR
    (err,) = report["errors"]
    assert err["file"] == str(tmp_path / "values.yaml") and "FIFO" in err["message"]


@pytest.mark.parametrize(
    "table, problem",
    [
        ("max-file-size: lots", "'limits.max-file-size': 'lots' is not a size"),
        ("render-timeout: -1", "'limits.render-timeout': -1 is not a positive number"),
        ("render-speed: 3", "unknown key 'limits.render-speed'"),
    ],
)
def test_bad_limits_config_is_a_usage_error(capsys, tmp_path, table, problem):
    config = tmp_path / "kubevet.yaml"
    config.write_text(f"limits:\n  {table}\n")
    assert main(["check", str(FLAGGED), "--config", str(config)]) == EXIT_ERROR
    assert problem in capsys.readouterr().err


def test_unreadable_file_exits_2_even_as_root(capsys, monkeypatch, tmp_path):
    locked = tmp_path / "locked.yaml"
    locked.write_text(FLAGGED.read_text())
    monkeypatch.setenv(FAULT_ENV, f"EACCES:{locked}")
    code, report = check(capsys, str(locked), str(FLAGGED))
    assert code == EXIT_ERROR
    assert report["errors"] == [
        {"file": str(locked), "line": None, "message": "cannot read: Permission denied"}
    ]
    assert still_checked(report)


@pytest.mark.skipif(os.geteuid() != 0, reason="drops privileges, which needs root")
def test_unreadable_file_as_an_unprivileged_user():
    """The real EACCES, without injection: run as `nobody` on a mode-0 file, in a folder
    `nobody` can reach (pytest's own base folder may be root's alone: mode 0700)."""
    reachable = Path(tempfile.mkdtemp(dir="/tmp" if os.path.isdir("/tmp") else None))
    try:
        reachable.chmod(0o755)
        locked = reachable / "locked.yaml"
        locked.write_text(FLAGGED.read_text())
        locked.chmod(0)
        proc = _as_nobody(locked)
    finally:
        shutil.rmtree(reachable, ignore_errors=True)
    if proc is None:
        pytest.skip("the interpreter is not executable by an unprivileged user here")
    if "No module named" in proc.stderr or "Permission denied: '/" in proc.stderr:
        pytest.skip("the sources are not readable by an unprivileged user here")
    assert proc.returncode == EXIT_ERROR, proc.stderr
    assert json.loads(proc.stdout)["errors"][0]["message"] == "cannot read: Permission denied"


def _as_nobody(file: Path) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            [sys.executable, "-m", "kubevet", "check", str(file), "--format", "json"],
            capture_output=True,
            text=True,
            timeout=120,
            user=65534,
            group=65534,
            extra_groups=[],
            cwd="/",
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
    except PermissionError:
        return None


def test_unlistable_directory_is_reported_not_skipped(capsys, monkeypatch, tmp_path):
    hidden = tmp_path / "sub"
    hidden.mkdir()
    (hidden / "pod.yaml").write_text(FLAGGED.read_text())
    real_scandir = os.scandir

    def scandir(path=".", *rest):
        if os.fspath(path) == str(hidden):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path, *rest)

    monkeypatch.setattr(os, "scandir", scandir)
    code, report = check(capsys, str(tmp_path), str(FLAGGED))
    assert code == EXIT_ERROR
    assert report["errors"] == [
        {"file": str(hidden), "line": None, "message": "cannot read directory: Permission denied"}
    ]
    assert still_checked(report)


def test_closed_stdin_is_an_input_error_and_the_rest_is_checked():
    proc = subprocess.run(
        [sys.executable, "-m", "kubevet", "check", "-", str(FLAGGED), "--format", "json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(0),  # `kubevet check - x.yaml <&-`
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert "Traceback" not in proc.stderr
    assert proc.returncode == EXIT_ERROR
    report = json.loads(proc.stdout)
    assert report["errors"] == [
        {"file": "-", "line": None, "message": "cannot read: standard input is closed"}
    ]
    assert still_checked(report)


def _chart_copy(tmp_path) -> tuple[object, object]:
    import shutil

    chart = tmp_path / "chart"
    shutil.copytree(INPUT / "chart", chart)
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-OUTSIDE-THE-CHART\n")
    return chart, secret


def test_links_out_of_a_chart_are_errors_and_the_chart_renders_without_them(capsys, tmp_path):
    chart, secret = _chart_copy(tmp_path)
    (chart / "files" / "note.txt").unlink()
    (chart / "files" / "note.txt").symlink_to(secret)
    outside_dir = tmp_path / "more-templates"
    outside_dir.mkdir()
    (outside_dir / "x.yaml").write_text(FLAGGED.read_text().replace("still-checked", "outsider"))
    (chart / "templates" / "more").symlink_to(outside_dir)
    (chart / "templates" / "again.yaml").symlink_to(outside_dir / "x.yaml")
    code = main(["check", str(chart), str(FLAGGED), "--format", "json", "-j", "1", "--trace"])
    out, err = capsys.readouterr()
    assert code == EXIT_ERROR and "Traceback" not in out + err
    assert "SECRET-OUTSIDE" not in out + err
    report = json.loads(out)
    assert [(e["file"], e["message"]) for e in report["errors"]] == [
        (
            str(chart / link),
            f"symbolic link to {target}, outside the chart directory {chart}: not read "
            "(the chart is rendered without it; copy the file into the chart instead)",
        )
        for link, target in [
            ("files/note.txt", secret),
            ("templates/again.yaml", outside_dir / "x.yaml"),
            ("templates/more", outside_dir),
        ]
    ]
    names = [f["object"]["name"] for f in report["findings"]]
    assert set(names) == {"chart-pod", "still-checked"}  # and no "outsider"


def test_chart_that_cannot_render_without_its_outward_link_says_so(capsys, tmp_path):
    chart, _secret = _chart_copy(tmp_path)
    meta = tmp_path / "Chart.yaml"
    (chart / "Chart.yaml").rename(meta)
    (chart / "Chart.yaml").symlink_to(meta)
    code, report = check(capsys, str(chart), str(FLAGGED))
    assert code == EXIT_ERROR and still_checked(report)
    link, render = report["errors"]
    assert link["file"] == str(chart / "Chart.yaml") and str(meta) in link["message"]
    assert render["file"] == str(chart)
    assert render["message"].endswith(
        "; the chart cannot render without the symbolic links that lead out of its "
        f"directory ({chart / 'Chart.yaml'})"
    )


def test_chart_with_a_link_inside_its_directory_renders(capsys, tmp_path):
    chart, _secret = _chart_copy(tmp_path)
    (chart / "files" / "alias.txt").symlink_to("note.txt")
    code, report = check(capsys, str(chart))
    assert report["errors"] == [] and code == 1
    assert [f["object"]["name"] for f in report["findings"]] == ["chart-pod"]


def test_charts_past_the_render_bounds_are_input_errors_and_the_rest_is_checked(capsys, tmp_path):
    loop, memory = INPUT / "loop-chart", INPUT / "memory-chart"
    for chart, table, message in [
        (
            loop,
            "render-timeout: 3",
            "chart render took longer than the 3 s limit (config limits.render-timeout); "
            "not checked",
        ),
        (
            memory,
            "render-memory: 256Mi",
            "chart render needed more than the 256 MiB memory limit "
            "(config limits.render-memory); not checked",
        ),
    ]:
        config = tmp_path / "kubevet.yaml"
        config.write_text(f"limits:\n  {table}\n")
        code, report = check(capsys, str(chart), str(FLAGGED), "--config", str(config))
        assert code == EXIT_ERROR
        assert [(e["file"], e["message"]) for e in report["errors"]] == [(str(chart), message)]
        assert still_checked(report)
    # the worker that was stopped is replaced: the next chart renders
    limits.use(limits.Limits())
    code, report = check(capsys, str(INPUT / "chart"))
    assert report["errors"] == [] and [f["object"]["name"] for f in report["findings"]] == [
        "chart-pod"
    ]


def _timeout_config(tmp_path) -> str:
    config = tmp_path / "kubevet.yaml"
    config.write_text("limits:\n  render-timeout: 3\n")
    return str(config)


def test_trace_renders_are_bounded_like_the_main_render(capsys, tmp_path):
    """The chart renders at once with its own values and loops once a --trace marker
    replaces a value: the trace is stopped, the chart's findings and the rest still count.
    KV502's finding is on the image, whose text holds the tag: so the trace marks the tag."""
    chart = INPUT / "slow-trace-chart"
    config = _timeout_config(tmp_path)
    select = ["--select", "KV105,KV502"]
    args = ["--trace", "--config", config, "--format", "json", "-j", "1", *select]
    code = main(["check", str(chart), str(FLAGGED), *args])
    out, err = capsys.readouterr()
    assert code == EXIT_ERROR and "Traceback" not in out + err
    report = json.loads(out)
    assert [(e["file"], e["message"]) for e in report["errors"]] == [
        (
            str(chart),
            "chart render took longer than the 3 s limit (config limits.render-timeout); "
            "findings not traced",
        )
    ]
    names = {f["object"]["name"] for f in report["findings"]}
    assert names == {"slow-trace", "still-checked"}
    # the worker that was stopped is replaced: the next chart is traced
    limits.use(limits.Limits())
    code = main(["check", str(INPUT / "chart"), "--trace", "--format", "json", "-j", "1"])
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == [] and {f["trace"]["status"] for f in report["findings"]} != {
        "unknown"
    }


def test_fix_proof_renders_are_bounded_like_the_main_render(capsys, tmp_path):
    """Proving the fix renders the chart with `privileged: false`, which loops: the chart
    is an input error naming the limit, nothing is written there, the manifest is fixed."""
    import shutil

    chart = tmp_path / "chart"
    shutil.copytree(INPUT / "slow-proof-chart", chart)
    manifest = tmp_path / "pod.yaml"
    shutil.copy(FLAGGED, manifest)
    args = ["--select", "KV105", "--unsafe-fixes", "--config", _timeout_config(tmp_path)]
    code = main(["fix", str(chart), str(manifest), *args])
    out, err = capsys.readouterr()
    assert code == EXIT_ERROR and "Traceback" not in out + err
    assert (
        f"{chart}: chart render took longer than the 3 s limit (config limits.render-timeout); "
        "not fixed"
    ) in err
    assert not (chart / "kubevet.values.yaml").exists()
    assert "privileged: false" in manifest.read_text()
