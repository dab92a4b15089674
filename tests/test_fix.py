"""`kubevet fix`: manifest edits that keep every untouched byte, chart values overrides."""

from __future__ import annotations

import difflib
import json
import shutil

import pytest
import yaml
from conftest import CORPUS_CHARTS, FIXTURES, need

from kubevet.cli import main
from kubevet.context import Options
from kubevet.engine import check_group
from kubevet.findings import Edit
from kubevet.fix.edits import apply_edits, changed_paths
from kubevet.fix.manifests import fix_file
from kubevet.fix.run import FixOptions, FixReport, fix_chart
from kubevet.rules.registry import select_rules
from kubevet.runner import RunSettings
from kubevet.sources.manifests import load_manifest_files

COMMENTED = FIXTURES / "fix" / "commented.yaml"
DEMO = FIXTURES / "trace" / "demo"
RULES = "KV101,KV105,KV106"


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "app.yaml"
    shutil.copy(COMMENTED, path)
    return path


def _only_inserted_or_fixed_lines(old: str, new: str, fixed: set[str]) -> None:
    """Every original line survives byte for byte, except lines of the fixed fields."""
    matcher = difflib.SequenceMatcher(a=old.splitlines(True), b=new.splitlines(True))
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            for line in old.splitlines(True)[i1:i2]:
                assert line.strip().split(":")[0] in fixed, f"untouched line changed: {line!r}"


def test_manifest_fix_keeps_every_untouched_byte(manifest):
    old = manifest.read_text()
    code = main(["fix", str(manifest), "--select", RULES, "--unsafe-fixes"])
    new = manifest.read_text()
    assert code == 0
    _only_inserted_or_fixed_lines(old, new, {"privileged"})
    assert "          privileged: false   # this one must change\n" in new
    assert "          allowPrivilegeEscalation: false\n" in new
    assert new.split("\n---\n")[1] == old.split("\n---\n")[1]  # the Service document
    after = list(yaml.safe_load_all(new))
    before = list(yaml.safe_load_all(old))
    changed = set(changed_paths(before[0], after[0]))
    helper = ("spec", "template", "spec", "containers", 1, "securityContext")
    assert changed == {
        ("spec", "template", "spec", "containers", 0, "securityContext", "privileged"),
        (*helper, "allowPrivilegeEscalation"),
    }


def test_safe_fixes_only_without_unsafe_flag(manifest):
    main(["fix", str(manifest), "--select", RULES])
    text = manifest.read_text()
    assert "privileged: true" in text  # KV105's fix is unsafe
    assert "allowPrivilegeEscalation: false" in text  # KV106's is safe


def test_diff_prints_and_writes_nothing(manifest, capsys):
    old = manifest.read_text()
    main(["fix", str(manifest), "--select", RULES, "--unsafe-fixes", "--diff"])
    out = capsys.readouterr().out
    assert manifest.read_text() == old
    assert "-          privileged: true   # this one must change" in out
    assert "+          privileged: false   # this one must change" in out


def test_fix_failing_schema_verification_is_not_written(manifest):
    group = load_manifest_files(str(manifest), [str(manifest)])
    findings = check_group(group, select_rules(["KV105"]), Options())
    f = findings[0]
    bad = (Edit("set", f.path, "yes"),)  # a string where the schema wants a boolean
    result = fix_file(str(manifest), manifest.read_text(), [(f, bad)], None)
    assert result.new == result.old
    assert result.applied == [] and "schema" in result.rejected[0][1]


def test_profile_forbidding_a_hardening_keeps_the_fix_out(manifest, tmp_path, capsys):
    profile = tmp_path / "profile.json"
    func = {"check_22": {"value": False, "resource_path": "Deployment/default/web"}}
    pods = [{"containers": [{"cont_name": "helper", "functionalities": func}]}]
    profile.write_text(json.dumps({"pods": pods}))
    main(["fix", str(manifest), "--select", "KV106", "--profile", str(profile)])
    assert "allowPrivilegeEscalation" not in manifest.read_text()
    assert "profile" in capsys.readouterr().out


def test_profile_resource_amounts_replace_rule_defaults():
    from kubevet.findings import Finding, Fix
    from kubevet.fix.profile import Profile
    from kubevet.model import ObjectRef, Origin

    path = ("spec", "containers", 0, "resources", "limits", "memory")
    f = Finding(
        "KV202", "x", 1, "resources", "m", ObjectRef("v1", "Pod", None, "p"), path,
        Origin("f", 1), container="c", fix=Fix("unsafe", "d", (Edit("set", path, "256Mi"),)),
    )  # fmt: skip
    prof = Profile({("Pod", "p", "c"): {"check_2": {"value": "1Gi"}}})
    assert prof.adjust(f, f.fix.edits) == (Edit("set", path, "1Gi"),)


def test_apply_edits_set_append_remove():
    data = {"a": {"list": ["x", "y", "z"]}}
    out = apply_edits(
        data,
        [
            Edit("remove", ("a", "list", 0)),
            Edit("remove", ("a", "list", 2)),
            Edit("append", ("a", "list"), "w"),
            Edit("set", ("b", "c"), 1),
        ],
    )
    assert out == {"a": {"list": ["y", "w"]}, "b": {"c": 1}}
    assert data == {"a": {"list": ["x", "y", "z"]}}


def _fix_chart(path, tmp_path, unsafe=True):
    report = FixReport()
    opts = FixOptions(unsafe=unsafe, output=str(tmp_path / "override.yaml"))
    settings = RunSettings(select=RULES.split(","))
    return fix_chart(str(path), settings, opts, report), report


def test_chart_override_sets_traced_keys_and_removes_their_findings(tmp_path):
    result, _ = _fix_chart(DEMO, tmp_path)
    written = yaml.safe_load((tmp_path / "override.yaml").read_text())
    assert written["web"]["privileged"] is False
    assert written["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001}
    assert written["sub"]["containerSecurityContext"]["allowPrivilegeEscalation"] is False
    assert {(f.code, f.container) for f in result.removed} >= {
        ("KV101", "app"),
        ("KV105", "app"),
        ("KV106", "worker"),
    }
    assert result.problems == []
    template = {(f.code, f.container): patch for f, patch in result.template}
    patch = template[("KV106", "sidecar")]
    assert "-            allowPrivilegeEscalation: true" in patch
    assert "+            allowPrivilegeEscalation: false" in patch


def test_chart_override_is_merged_with_the_users_values(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("image:\n  tag: '2.0'\nsecurityContext:\n  runAsUser: 4242\n")
    out = tmp_path / "o.yaml"
    main(
        [
            "fix",
            str(DEMO),
            "-f",
            str(mine),
            "--select",
            RULES,
            "--unsafe-fixes",
            "--output",
            str(out),
        ]
    )
    written = yaml.safe_load(out.read_text())
    assert written["image"] == {"tag": "2.0"}
    assert written["securityContext"] == {"runAsUser": 4242, "runAsNonRoot": True}


def test_chart_fix_never_writes_into_the_chart_when_output_is_given(tmp_path):
    chart = tmp_path / "demo"
    shutil.copytree(DEMO, chart)
    _fix_chart(chart, tmp_path)
    assert not (chart / "kubevet.values.yaml").exists()
    main(["fix", str(chart), "--select", RULES])
    assert (chart / "kubevet.values.yaml").exists()


@pytest.mark.parametrize("chart", ["grafana", "redis", "nginx"])
def test_corpus_override_removes_what_it_sets_and_breaks_nothing(chart, tmp_path):
    from kubevet.fix.chart import render_with
    from kubevet.fix.verify import identity_problems, schema_errors
    from kubevet.sources.helm import HelmOptions, load_chart

    path = need(CORPUS_CHARTS) / chart
    report = FixReport()
    opts = FixOptions(unsafe=True, output=str(tmp_path / "o.yaml"))
    result = fix_chart(str(path), RunSettings(), opts, report)
    assert result.applied and result.problems == [] and result.errors == []
    assert len(result.removed) == len(result.applied)
    before = load_chart(str(path), HelmOptions())
    after = render_with(str(path), result.values, HelmOptions())
    assert (
        identity_problems([o.data for o in before.objects], [o.data for o in after.objects]) == []
    )
    invalid = [o.name for o in after.objects if schema_errors(o.data, None)]
    assert invalid == [o.name for o in before.objects if schema_errors(o.data, None)]


def test_image_lock_reaches_the_rules_settings(manifest, tmp_path, monkeypatch):
    import kubevet.fix.run as fix_run

    seen = {}

    def fake_run_fix(paths, settings, opts):
        seen["lock"] = settings.options.settings.get("image_lock")
        return fix_run.FixReport()

    monkeypatch.setattr(fix_run, "run_fix", fake_run_fix)
    lock = tmp_path / "images.lock"
    lock.write_text("{}")
    assert main(["fix", str(manifest), "--image-lock", str(lock)]) == 0
    assert seen["lock"] == str(lock)
