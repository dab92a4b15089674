"""`check --engine ray`: Ray tasks give, byte for byte, the report and exit code of
`check -j 1`, also when a busy worker is killed; an input whose task keeps failing is an
input error naming it; `--address local` leaves no process or file behind.

Ray is the optional extra `kubevet[ray]`: the tests that run Ray skip, saying so, where it
is not installed (it is in the test extra, so CI has it)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import CORPUS_CHARTS, FIXTURES, ROOT, need
from scale_inputs import deterministic, link_charts, make_charts, make_manifests

from kubevet.cli import main

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (the optional extra: pip install 'kubevet[ray]')",
)
FAULTY = "ray-worker-dies-here"  # an input whose worker is killed every time (test hook)
ONCE = "ray-worker-dies-once"  # an input whose worker is killed the first time only
KILLED_ONCE = Path(tempfile.gettempdir()) / f"kubevet-ray-killed-once-{os.getpid()}"
FORMATS = ("json", "sarif", "text")


def _reports(argv: list[str], out: Path) -> tuple[int, dict[str, bytes]]:
    """Exit code and the JSON, SARIF and text reports of one `kubevet check` run."""
    out.mkdir(parents=True, exist_ok=True)
    targets = [f"--format={fmt}={out / fmt}" for fmt in FORMATS]
    code = main(["check", *argv, *targets, "--color", "never"])
    return code, {fmt: (out / fmt).read_bytes() for fmt in FORMATS}


@needs_ray
def test_a_local_cluster_leaves_no_process_or_file(tmp_path):
    (tmp_path / "d").mkdir()
    shutil.copy(ROOT / "examples/manifests/deployment.yaml", tmp_path / "d")
    shutil.copytree(ROOT / "examples/chart", tmp_path / "chart")
    scratch = Path(tempfile.mkdtemp(prefix="kv-", dir="/tmp"))  # short: Ray's socket paths
    home = tmp_path / "home"
    home.mkdir()
    try:
        _leaves_nothing(tmp_path, scratch, home)
    finally:
        shutil.rmtree(scratch)


def _leaves_nothing(tmp_path: Path, scratch: Path, home: Path) -> None:
    env = {**os.environ, "TMPDIR": str(scratch), "HOME": str(home)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    argv = [sys.executable, "-m", "kubevet", "check", "d", "chart", "--format", "json"]

    def run(*extra: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*argv, *extra], cwd=tmp_path, env=env, capture_output=True)

    on_ray = run("--engine", "ray", "--address", "local", "-j", "1")
    one = run("-j", "1")
    assert (on_ray.returncode, on_ray.stdout) == (one.returncode, one.stdout), on_ray.stderr
    assert one.returncode == 1  # findings, relative paths read by the workers
    assert list(scratch.iterdir()) == [] and list(home.iterdir()) == []
    assert not _processes_mentioning(str(scratch))


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(cmdline.decode(errors="replace"))
    return found


@needs_ray
def test_no_running_cluster_is_a_usage_error_and_none_is_started(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    manifest = str(ROOT / "examples/manifests")
    argv = [sys.executable, "-m", "kubevet", "check", manifest, "--engine", "ray"]
    if _processes_mentioning("gcs_server"):
        pytest.skip("a Ray cluster runs on this machine: --address auto would find it")
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "--address auto: no Ray cluster to connect to" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_ray_the_engine_is_a_usage_error_naming_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if not installed
    assert main(["check", str(ROOT / "examples/manifests"), "--engine", "ray"]) == 2
    assert "pip install 'kubevet[ray]'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, problem",
    [
        (["--address", "local"], "--address goes with --engine ray"),
        (["--engine", "ray", "--shard", "0/2", "-o", "."], "use one of them"),
    ],
)
def test_engine_arguments_that_do_not_fit_are_usage_errors(capsys, argv, problem):
    assert main(["check", str(ROOT / "examples/manifests"), *argv]) == 2
    assert problem in capsys.readouterr().err


# The tests below share one local Ray, started by the first of them: the ones above must
# run while none runs (pytest keeps the file's order).


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    """2,000 manifest directories, 200 charts and one broken file (exit code 2)."""
    root = tmp_path_factory.mktemp("scale")
    paths = make_manifests(root, 2000) + make_charts(root, 200)
    (root / ONCE).mkdir()  # mid-run: its worker dies the first time it checks it
    shutil.copy(ROOT / "examples/manifests/deployment.yaml", root / ONCE)
    paths.insert(1000, str(root / ONCE))
    (root / "broken").mkdir()
    shutil.copy(FIXTURES / "cli" / "bad.yaml", root / "broken" / "bad.yaml")
    return [*paths, str(root / "broken")]


@pytest.fixture(scope="module")
def expected(inputs, tmp_path_factory) -> tuple[int, dict[str, bytes]]:
    return _reports([*inputs, "-j", "1"], tmp_path_factory.mktemp("j1"))


@pytest.fixture(scope="module")
def cluster():
    """One local Ray (2 CPUs) for the module: kubevet uses a connection it finds open."""
    from kubevet.ray_engine import EngineError, connect

    KILLED_ONCE.unlink(missing_ok=True)
    # the workers inherit it
    os.environ["KUBEVET_RAY_FAULT"] = f"kill:{FAULTY},kill-once:{ONCE}:{KILLED_ONCE}"
    # and this: they outlive the test whose cache folder they would otherwise keep using
    os.environ["KUBEVET_NO_CACHE"] = "1"
    try:
        for attempt in range(3):  # Ray's raylet has 30 s to start: a loaded machine may miss
            try:
                with connect("local", 2):
                    yield
                return
            except EngineError:
                if attempt == 2:
                    raise
    finally:
        del os.environ["KUBEVET_RAY_FAULT"]
        os.environ.pop("KUBEVET_NO_CACHE", None)
        KILLED_ONCE.unlink(missing_ok=True)


@needs_ray
def test_ray_gives_the_report_of_one_process_though_a_worker_is_killed(
    inputs, expected, cluster, tmp_path, capsys
):
    """One run for both claims (each Ray run of 2,200 inputs costs minutes on 2 cores).
    The worker checking input ONCE kills itself the first time (a test hook in the task),
    mid-run: a kill from outside could land between two tasks, where nothing is retried."""
    ray_run = _reports([*inputs, "--engine", "ray", "--address", "local"], tmp_path)
    assert KILLED_ONCE.exists(), "the worker checking ONCE was not killed"
    assert "a Ray worker died checking " in capsys.readouterr().err  # the retry is logged
    assert ray_run[0] == expected[0] == 2  # the broken file
    for fmt in FORMATS:
        assert ray_run[1][fmt] == expected[1][fmt], fmt


@needs_ray
def test_an_input_whose_task_keeps_failing_is_an_input_error(cluster, tmp_path, capsys):
    others = make_manifests(tmp_path / "ok", 40)  # batches of 2 on 2 CPUs
    (tmp_path / FAULTY).mkdir()
    shutil.copy(ROOT / "examples/manifests/deployment.yaml", tmp_path / FAULTY)
    faulty = str(tmp_path / FAULTY)
    code, reports = _reports([others[0], faulty, *others[1:], "--engine", "ray"], tmp_path / "ray")
    err = capsys.readouterr().err
    assert code == 2
    assert f"{faulty}: the Ray task checking this input failed" in err
    for attempt in (1, 2, 3):  # the batch, then the input alone, each run again 3 times
        assert err.count(f"; retrying ({attempt} of 3)") == 2
    assert "failed; checking them one by one" in err
    alone = _reports([*others, "-j", "1"], tmp_path / "j1")[1]
    assert _findings(reports["json"]) == _findings(alone["json"])  # the others were checked


@needs_ray
def test_corpus_charts_on_ray_and_in_shards_give_the_report_of_one_process(
    cluster, tmp_path, monkeypatch
):
    """The 2,000-chart run of bench/scale.py, test-sized: two links to each corpus chart
    that renders nothing random; Ray, and shards N = 1, 2, 7 finishing in reverse order
    then merged, give the JSON and SARIF (and exit code) of `check -j 1`."""
    sources = deterministic(need(CORPUS_CHARTS))
    monkeypatch.chdir(tmp_path)
    paths = link_charts(sources, tmp_path, 2 * len(sources))
    expected = _two_reports(["check", *paths, "-j", "1"], tmp_path / "j1")
    assert expected[0] == 1  # the corpus charts have findings
    assert _two_reports(["check", *paths, "--engine", "ray"], tmp_path / "ray") == expected
    for count in (1, 2, 7):
        shards = tmp_path / f"shards-{count}"
        shards.mkdir()
        for index in reversed(range(count)):
            argv = ["check", *paths, "-j", "1", "--shard", f"{index}/{count}", "-o", str(shards)]
            assert main(argv) == 0
        merged = _two_reports(["merge", str(shards)], tmp_path / f"merged-{count}")
        assert merged == expected, count


def _two_reports(argv: list[str], out: Path) -> tuple[int, bytes, bytes]:
    out.mkdir()
    code = main([*argv, f"--format=json={out}/r.json", f"--format=sarif={out}/r.sarif"])
    return code, (out / "r.json").read_bytes(), (out / "r.sarif").read_bytes()


TIMING = re.compile(r"^kubevet: +(\d+\.\d\d) s  (.+) \(\d+ objects?, \d+ findings?\)$", re.M)


@needs_ray
def test_ray_runs_show_the_progress_line_and_timings_of_j(cluster, tmp_path, capsys, monkeypatch):
    """The same progress as -j: the line on a terminal (after DELAY), none with --quiet,
    and with -v each input's time in input order, measured where it was checked."""
    from kubevet import progress

    paths = make_manifests(tmp_path, 4) + make_charts(tmp_path, 2)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "REFRESH", 0.0)
    monkeypatch.setattr(progress, "_isatty", lambda stream: True)
    argv = ["check", *paths, "--engine", "ray", "--format", "json"]
    assert main([*argv, "-v"]) == 1
    out, err = capsys.readouterr()
    assert "kubevet: 6/6 inputs checked" in err and err.endswith("\r\033[K")
    timings = TIMING.findall(err.replace("\r\033[K", "\n"))  # the line cleared for each
    assert [label for _, label in timings] == [g["label"] for g in json.loads(out)["inputs"]]
    assert all(float(seconds) > 0 for seconds, label in timings if "/c0" in label)  # charts
    assert main([*argv, "--quiet"]) == 1
    assert "inputs checked" not in capsys.readouterr().err


def _findings(report: bytes) -> list[object]:
    return json.loads(report)["findings"]


@pytest.fixture
def client_server(cluster):
    """A Ray Client server (what `ray start --head` runs on port 10001) for the module's
    cluster, on a free port of 127.0.0.1; stopped with its process group afterwards."""
    import socket

    import ray

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gcs = ray.get_runtime_context().gcs_address
    argv = [sys.executable, "-m", "ray.util.client.server", f"--address={gcs}"]
    argv += ["--host=127.0.0.1", f"--port={port}", "--mode=legacy"]
    server = subprocess.Popen(argv, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):  # up to a minute on a loaded machine
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"ray://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()


@needs_ray
def test_a_ray_client_address_gives_the_report_of_one_process(client_server, tmp_path):
    """--address ray://HOST:PORT, as for a remote cluster: here a client server on this
    machine (the driver is another process, connected through Ray Client)."""
    paths = make_manifests(tmp_path / "in", 3) + make_charts(tmp_path / "in", 2)
    env = {**os.environ}  # with this cluster's token (RAY_AUTH_TOKEN)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    targets = [f"--format={fmt}={tmp_path / fmt}" for fmt in FORMATS]
    argv = [sys.executable, "-m", "kubevet", "check", *paths, *targets, "--color", "never"]
    done = subprocess.run([*argv, "--engine", "ray", "--address", client_server], env=env)
    on_ray = {fmt: (tmp_path / fmt).read_bytes() for fmt in FORMATS}
    assert (done.returncode, on_ray) == _reports([*paths, "-j", "1"], tmp_path / "j1")
