"""Bounded memory: findings past a limit wait in a temporary file (FindingSpool), reports
read them once in order, and every report is the same whether or not they were spilled.
JSON Lines is the reporter made for streams."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import FIXTURES, ROOT

from kubevet import spool
from kubevet.cli import main
from kubevet.findings import Finding, Severity
from kubevet.model import ObjectRef, Origin
from kubevet.spool import FindingSpool


def _finding(i: int) -> Finding:
    return Finding(
        code=f"KV{100 + i % 7}",
        slug="s",
        severity=Severity.LOW,
        category="security",
        message=f"finding {i}",
        object=ObjectRef("v1", "Pod", "ns", f"pod-{i}"),
        path=("spec", "containers", i),
        origin=Origin(f"f{i}.yaml", i + 1),
        input=f"input-{i // 10}",
    )


def _filled(limit: int, count: int, batch: int) -> FindingSpool:
    s = FindingSpool(limit)
    for at in range(0, count, batch):
        s.extend(_finding(i) for i in range(at, min(count, at + batch)))
    return s


@pytest.mark.parametrize("limit", [0, 3, 10, 1000])
def test_findings_come_back_in_order_whatever_was_spilled(limit):
    s = _filled(limit, 95, 10)
    assert len(s) == 95
    assert [f.message for f in s] == [f"finding {i}" for i in range(95)]
    assert [f.message for f in s] == [f"finding {i}" for i in range(95)]  # read again
    assert s[0].message == "finding 0" and s[-1].message == "finding 94"


def test_two_reads_at_once_do_not_disturb_each_other():
    s = _filled(5, 40, 8)
    pairs = list(zip(s, s, strict=True))
    assert all(a.message == b.message for a, b in pairs) and len(pairs) == 40


def test_marks_made_through_rewrite_are_kept_on_disk():
    s = _filled(5, 60, 10)
    for f in s.rewrite():
        if int(f.message.split()[1]) % 3 == 0:
            f.suppressed = "in baseline b.json"
    assert [f.message for f in s] == [f"finding {i}" for i in range(60)]
    kept = [int(f.message.split()[1]) for f in s if f.suppressed]
    assert kept == list(range(0, 60, 3))
    assert len(s.active()) == 40
    assert bool(s.active())


def _tree(tmp_path):
    """Four inputs, one of them broken, and a config that exempts some findings."""
    for i in range(3):
        (tmp_path / f"d{i}").mkdir()
        shutil.copy(ROOT / "examples/manifests/deployment.yaml", tmp_path / f"d{i}/app.yaml")
    (tmp_path / "bad").mkdir()
    shutil.copy(FIXTURES / "cli" / "bad.yaml", tmp_path / "bad/bad.yaml")
    config = tmp_path / ".kubevet.yaml"
    config.write_text(
        "exemptions:\n  - {rules: [KV101], namespace: shop, reason: test, expires: '2099-01-01'}\n"
        "  - {rules: [KV133], namespace: elsewhere, reason: never used, expires: '2099-01-01'}\n",
        encoding="utf-8",
    )
    return ["d0", "d1", "d2", "bad", "--config", str(config)]


@pytest.mark.parametrize("fmt", ["json", "jsonl", "text", "sarif", "junit"])
def test_reports_are_the_same_with_findings_spilled(tmp_path, monkeypatch, capsys, fmt):
    monkeypatch.chdir(tmp_path)
    argv = ["check", *_tree(tmp_path), "-j", "1", "--format", fmt]
    baseline = tmp_path / "baseline.json"
    assert main(["check", "d0", "-j", "1", "--write-baseline", str(baseline)]) == 0
    argv += ["--baseline", str(baseline)]
    capsys.readouterr()
    code = main(argv)
    whole = capsys.readouterr()
    monkeypatch.setattr(spool, "SPILL_AT", 1)  # every input's findings go to disk
    assert main(argv) == code
    spilled = capsys.readouterr()
    assert spilled.out == whole.out
    assert spilled.err == whole.err
    if fmt == "json":
        report = json.loads(whole.out)
        assert report["summary"]["suppressed"] > 0 and report["errors"]  # both paths taken


def test_json_lines_hold_the_json_reports_findings_then_errors_and_summary(tmp_path, capsys):
    paths = _tree(tmp_path)[:4]
    main(["check", *[str(tmp_path / p) for p in paths], "-j", "1", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    main(["check", *[str(tmp_path / p) for p in paths], "-j", "1", "--format", "jsonl"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    types = [line.pop("type") for line in lines]
    assert types == ["finding"] * len(report["findings"]) + ["error"] * len(report["errors"]) + [
        "warning"
    ] * len(report["warnings"]) + ["summary"]
    assert lines[: len(report["findings"])] == report["findings"]
    assert lines[-1] == {"tool": report["tool"], "summary": report["summary"]}


def test_frozen_parts_of_a_finding_pickle_by_their_fields():
    # Origin, ObjectRef, Fix and Edit pickle as tuples of their fields (faster than what
    # dataclasses gives frozen classes with slots), and come back equal.
    import pickle

    from kubevet.findings import Edit, Fix
    from kubevet.model import ObjectRef, Origin

    parts = [
        Origin("a.yaml", 3, "templates/x.yaml", "c", "1.0", True, "rel"),
        ObjectRef("v1", "Pod", None, "web"),
        Fix("unsafe", "set it", (Edit("set", ("spec", 0), {"a": [1]}), Edit("remove", ("b",)))),
    ]
    for part in parts:
        assert part.__getstate__() == tuple(getattr(part, n) for n in part.__dataclass_fields__)
        again = pickle.loads(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
        assert again == part and type(again) is type(part)
