"""Sharded scans: `check --shard I/N -o DIR` then `kubevet merge DIR` gives, byte for byte,
the report and exit code of one `check` over the same inputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from kubevet.cli import main
from kubevet.findings import Edit, Finding, Fix, Severity, Trace
from kubevet.model import ObjectRef, Origin
from kubevet.shard import finding_from_dict, finding_to_dict, mine


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """Seven inputs: five manifest directories, the example chart, and a broken file."""
    monkeypatch.chdir(tmp_path)
    for i in range(5):
        (tmp_path / f"d{i}").mkdir()
        shutil.copy(ROOT / "examples/manifests/deployment.yaml", tmp_path / f"d{i}/app.yaml")
    shutil.copytree(ROOT / "examples/chart", tmp_path / "chart")
    (tmp_path / "bad").mkdir()
    shutil.copy(FIXTURES / "cli" / "bad.yaml", tmp_path / "bad/bad.yaml")
    (tmp_path / "out").mkdir()
    return ["d0", "d1", "d2", "d3", "d4", "chart", "bad"]


def _single(capsys, paths: list[str], fmt: str) -> tuple[int, str]:
    code = main(["check", *paths, "-j", "1", "--format", fmt])
    return code, capsys.readouterr().out


def _sharded(capsys, paths: list[str], count: int, fmt: str, order=None) -> tuple[int, str]:
    for index in order or range(count):
        assert main(["check", *paths, "-j", "1", "--shard", f"{index}/{count}", "-o", "out"]) == 0
    capsys.readouterr()
    code = main(["merge", "out", "--format", fmt])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_merged_shards_equal_one_run(tree, capsys, count):
    for fmt in ("json", "sarif"):
        shutil.rmtree("out")
        os.mkdir("out")
        order = list(reversed(range(count)))  # the order shards finish in does not matter
        assert _sharded(capsys, tree, count, fmt, order) == _single(capsys, tree, fmt)
    code, _ = _single(capsys, tree, "text")
    assert code == 2  # the broken file: merge gives the same verdict


def test_rounds_robin_slices_cover_every_input_once():
    slices = [mine(10, i, 3) for i in range(3)]
    assert sorted(k for s in slices for k in s) == list(range(10))
    assert slices[1] == [1, 4, 7]


def test_missing_shard_is_named_and_nothing_is_written(tree, capsys):
    main(["check", *tree, "--shard", "0/3", "-o", "out"])
    main(["check", *tree, "--shard", "2/3", "-o", "out"])
    capsys.readouterr()
    assert main(["merge", "out", "--format", "json", "-o", "report.json"]) == 2
    assert "shard 1 of 3 is missing" in capsys.readouterr().err
    assert not os.path.exists("report.json")


def test_shards_of_other_settings_or_inputs_are_refused(tree, capsys):
    main(["check", *tree, "--shard", "0/2", "-o", "out"])
    main(["check", *tree, "--shard", "1/2", "-o", "out", "--select", "KV101"])
    capsys.readouterr()
    assert main(["merge", "out"]) == 2
    assert "settings differs" in capsys.readouterr().err
    os.remove("out/shard-00001-of-00002.kvshard.jsonl")
    main(["check", *tree[:-1], "--shard", "1/2", "-o", "out"])
    capsys.readouterr()
    assert main(["merge", "out"]) == 2
    assert "input list differs" in capsys.readouterr().err


def test_identical_copies_count_once_different_ones_are_refused(tree, capsys):
    for index in range(2):
        main(["check", *tree, "--shard", f"{index}/2", "-o", "out"])
    shutil.copy("out/shard-00000-of-00002.kvshard.jsonl", "out/retry-shard-00000.kvshard.jsonl")
    capsys.readouterr()
    assert main(["merge", "out", "--format", "json"]) == 2  # the broken input, as check says
    merged = json.loads(capsys.readouterr().out)
    assert merged["summary"]["inputs"] == len(tree)
    with open("out/retry-shard-00000.kvshard.jsonl", "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert main(["merge", "out"]) == 2
    assert "different files for shard 0" in capsys.readouterr().err


SHARD_1 = "out/shard-00001-of-00002.kvshard.jsonl"  # inputs 1, 3 and 5 of the tree


def _damage(line_number: int, text: str | None) -> None:
    """Replace (None: remove) one line of shard 1 of 2."""
    with open(SHARD_1, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    if text is None:
        del lines[line_number - 1]
    else:
        lines[line_number - 1] = text
    with open(SHARD_1, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "line, text, problem",
    [
        (3, "{not json", SHARD_1.split("/")[1] + ":3: not a shard record"),
        (3, '{"index": 3, "group": 5}', "the record of input 3 is not a shard record"),
        (3, None, "input 3 is in no shard"),
        (4, '{"index": 1}', ":4: not a shard record in input order"),
        (2, '{"index": 0}', "input 0 is in two shards"),
        (1, '{"kubevet-shard": 1, "shard": 1}', "header has no valid shard, of and total"),
    ],
)
def test_a_damaged_shard_is_named_and_nothing_is_written(tree, capsys, line, text, problem):
    for index in range(2):
        main(["check", *tree, "--shard", f"{index}/2", "-o", "out"])
    _damage(line, text)
    capsys.readouterr()
    assert main(["merge", "out", "--format", "json", "-o", "report.json"]) == 2
    err = capsys.readouterr().err
    assert problem in err and "Traceback" not in err
    assert not os.path.exists("report.json")


def test_merge_reads_the_shards_one_record_at_a_time(tree, capsys):
    """Records come out in input order before a later line is even read: memory holds one
    line per shard, however many inputs the shards hold."""
    from kubevet import shard

    for index in range(2):
        main(["check", *tree, "--shard", f"{index}/2", "-o", "out"])
    _damage(4, "{not json")  # input 5's line
    header, records = shard.read("out")
    assert header["total"] == len(tree)
    assert [next(records)["index"] for _ in range(4)] == [0, 1, 2, 3]
    with pytest.raises(shard.ShardError, match=":4: not a shard record"):
        next(records)


def test_shard_index_from_an_indexed_job(tree, capsys, monkeypatch):
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "1")
    assert main(["check", *tree, "--shard", "env/2", "-o", "out"]) == 0
    assert os.listdir("out") == ["shard-00001-of-00002.kvshard.jsonl"]


@pytest.mark.parametrize(
    "argv, problem",
    [
        (["--shard", "3/3", "-o", "out"], "0 <= I < N"),
        (["--shard", "x", "-o", "out"], "expected I/N"),
        (["--shard", "0/2"], "needs -o DIR"),
        (["--shard", "env/2", "-o", "out"], "JOB_COMPLETION_INDEX"),
    ],
)
def test_bad_shard_arguments_are_usage_errors(tree, capsys, monkeypatch, argv, problem):
    monkeypatch.delenv("JOB_COMPLETION_INDEX", raising=False)
    assert main(["check", *tree, *argv]) == 2
    assert problem in capsys.readouterr().err


def test_a_killed_shard_leaves_no_shard_file_and_a_rerun_fills_the_gap(tree, capsys):
    env = {**os.environ, "KUBEVET_WRITE_FAULT": "write:kill"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    argv = [sys.executable, "-m", "kubevet", "check", *tree, "--shard", "0/2", "-o", "out"]
    killed = subprocess.run(argv, env=env, capture_output=True)
    assert killed.returncode == -9  # killed mid-write: only a hidden temporary may remain
    assert not [n for n in os.listdir("out") if n.endswith(".kvshard.jsonl")]
    main(["check", *tree, "--shard", "1/2", "-o", "out"])
    capsys.readouterr()
    assert main(["merge", "out"]) == 2
    assert "shard 0 of 2 is missing" in capsys.readouterr().err
    main(["check", *tree, "-j", "1", "--shard", "0/2", "-o", "out"])
    capsys.readouterr()
    merged = main(["merge", "out", "--format", "json"]), capsys.readouterr().out
    assert merged == _single(capsys, tree, "json")


def test_findings_round_trip_through_a_shard_line():
    f = Finding(
        code="KV105",
        slug="privileged-container",
        severity=Severity.CRITICAL,
        category="security",
        message="container 'api' is privileged",
        object=ObjectRef("apps/v1", "Deployment", "shop", "api"),
        path=("spec", "template", "spec", "containers", 0, "securityContext", "privileged"),
        origin=Origin("chart/templates/d.yaml", 3, "shop/templates/d.yaml", "shop", "0.1.0", True),
        container="api",
        fix=Fix("unsafe", "drop it", (Edit("set", ("spec", "x", 0), {"a": [1]}),)),
        line=12,
        input="chart",
        trace=Trace("shop/templates/d.yaml", 20, ("securityContext.privileged",), "values"),
        suppressed=None,
        value_sets=["dev"],
    )
    line = json.dumps(finding_to_dict(f))
    assert finding_from_dict(json.loads(line)) == f


def test_indexed_job_example_passes_kubevet_and_validates_strictly(capsys):
    import kubernetes_validate
    import yaml

    manifest = ROOT / "examples" / "scale" / "kubevet-shards.yaml"
    assert main(["check", str(manifest), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert (summary["findings"], summary["suppressed"], summary["errors"]) == (0, 0, 0)
    assert summary["objects"] == 4  # kubevet's own rules find nothing, none is silenced
    docs = list(yaml.safe_load_all(manifest.read_text()))
    version = kubernetes_validate.latest_version()
    for doc in docs:  # unknown or misplaced fields fail with strict=True
        kubernetes_validate.validate(doc, version, strict=True)
    jobs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Job"}
    shards = jobs["kubevet-shards"]["spec"]
    assert shards["completionMode"] == "Indexed"
    assert "--shard" in shards["template"]["spec"]["containers"][0]["args"]
    fail_index = shards["podFailurePolicy"]["rules"][0]
    assert fail_index["action"] == "FailIndex" and fail_index["onExitCodes"]["values"] == [2]
    assert jobs["kubevet-merge"]["spec"]["template"]["spec"]["containers"][0]["args"][0] == "merge"


def test_the_readme_job_is_the_core_of_the_example(capsys):
    import yaml

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scanning at scale", 1)[1].split("\n## ", 1)[0]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    example = (ROOT / "examples" / "scale" / "kubevet-shards.yaml").read_text(encoding="utf-8")
    job = next(yaml.safe_load_all(example))
    assert _within(yaml.safe_load(block), job)  # every line the README shows, as it runs


def _within(part: object, whole: object) -> bool:
    """`part` is `whole` with some keys (and list items' keys) left out."""
    if isinstance(part, dict) and isinstance(whole, dict):
        return all(k in whole and _within(v, whole[k]) for k, v in part.items())
    if isinstance(part, list) and isinstance(whole, list):
        return len(part) <= len(whole) and all(map(_within, part, whole))
    return part == whole


def test_the_readme_shard_commands_run_as_written(tmp_path):
    """The README's sh block (four shards in parallel, then merge) gives the SARIF of one
    `kubevet check` of the same charts."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scanning at scale", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    (tmp_path / "charts").mkdir()
    shutil.copytree(ROOT / "examples/chart", tmp_path / "charts/app")
    shutil.copytree(ROOT / "examples/manifests", tmp_path / "charts/deploy")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "kubevet"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m kubevet "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run(["sh", "-e", "-c", block], cwd=tmp_path, env=env, capture_output=True)
    assert done.returncode == 1, done.stderr  # the examples' findings, as check gives
    one = subprocess.run(
        [sys.executable, "-m", "kubevet", "check", "charts/", "--format", "sarif"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
    )
    assert (tmp_path / "kubevet.sarif").read_bytes() == one.stdout
    assert len(os.listdir(tmp_path / "shards")) == 4


def test_a_shard_is_written_as_its_inputs_are_checked_and_only_whole(tmp_path):
    """shard.write takes the results one at a time (a shard's memory does not grow with
    its inputs); a run that stops half-way leaves no file, not even a temporary one."""
    from kubevet import shard
    from kubevet.result import GroupSummary

    taken = []

    def results(stop_at: int | None):
        for k in range(5):
            if k == stop_at:
                raise RuntimeError("the shard was stopped")
            taken.append(k)
            yield k, (GroupSummary(f"in{k}", "manifests", 1), [], [], [f"warning {k}"])

    header = {"shard": 0, "of": 1, "total": 5, "inputs": "x", "settings": "y"}
    with pytest.raises(RuntimeError):
        shard.write(str(tmp_path), header, results(3))
    assert taken == [0, 1, 2] and os.listdir(tmp_path) == []
    path = shard.write(str(tmp_path), header, results(None))
    head, records = shard.read(str(tmp_path))
    assert head["counts"] == {"inputs": 5, "findings": 0, "errors": 0}
    assert [r["warnings"] for r in records] == [[f"warning {k}"] for k in range(5)]
    assert os.listdir(tmp_path) == [os.path.basename(path)]


ODD = r"é 日本 🙂 \u0001\u001f \u2028 \"quoted\" back\\slash"  # YAML escapes, read by YAML


def test_merge_equals_check_with_odd_text_and_with_no_findings(tmp_path, monkeypatch, capsys):
    """Unicode, control characters, quotes and backslashes in paths, names and messages,
    and a run whose results are empty: the shared writer gives the same bytes."""
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "examples/manifests/deployment.yaml").read_text(encoding="utf-8")
    for k in range(3):
        folder = tmp_path / f"dé 日本 {k}"
        folder.mkdir()
        named = text.replace("- name: api", f'- name: "api {ODD}"').replace("name: api", "name: á")
        (folder / "app ü.yaml").write_text(named, encoding="utf-8")
    paths = sorted(p.name for p in tmp_path.iterdir())
    (tmp_path / "out").mkdir()
    for select in ([], ["--select", "KV311"]):  # a CronJob rule: nothing is found
        for fmt in ("json", "sarif"):
            shutil.rmtree("out")
            os.mkdir("out")
            for index in (1, 0):
                argv = ["check", *paths, *select, "-j", "1", "--shard", f"{index}/2", "-o", "out"]
                assert main(argv) == 0
            capsys.readouterr()
            merged = main(["merge", "out", "--format", fmt]), capsys.readouterr().out
            single = main(["check", *paths, *select, "-j", "1", "--format", fmt])
            assert merged == (single, capsys.readouterr().out)
            doc = json.loads(merged[1])
            found = doc["findings"] if fmt == "json" else doc["runs"][0]["results"]
            assert bool(found) == (not select)
            if not select:  # the odd text reached the report (paths, names, messages)
                odd = json.dumps('日本 🙂 \x01\x1f \u2028 "quoted" back\\slash', ensure_ascii=False)
                assert odd[1:-1] in json.dumps(found, ensure_ascii=False)


def test_merge_never_writes_over_a_shard(tree, capsys):
    main(["check", *tree, "--shard", "0/1", "-o", "out"])
    (name,) = [n for n in os.listdir("out") if n.endswith(".kvshard.jsonl")]
    shard = Path("out") / name
    before = shard.read_text()
    capsys.readouterr()
    assert main(["merge", "out", "--format", "json", "-o", str(shard)]) == 2
    assert f"cannot write to {shard}: it is a shard file merge reads" in capsys.readouterr().err
    assert shard.read_text() == before
