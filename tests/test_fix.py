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
from kubevet.findings import Edit, Finding
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
    web = ("spec", "template", "spec", "containers", 0, "securityContext")
    helper = ("spec", "template", "spec", "containers", 1, "securityContext")
    assert changed == {  # KV106 on `web` only once KV105 dropped privileged: same run
        (*web, "privileged"),
        (*web, "allowPrivilegeEscalation"),
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
    # KV106 on `app` is offered once KV105 dropped privileged: the same run fixes it
    assert written["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "allowPrivilegeEscalation": False,
    }
    assert written["sub"]["containerSecurityContext"]["allowPrivilegeEscalation"] is False
    assert {(f.code, f.container) for f in result.removed} >= {
        ("KV101", "app"),
        ("KV105", "app"),
        ("KV106", "app"),
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
    assert written["securityContext"] == {
        "runAsUser": 4242,
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,  # the second round's fix, once KV105's is in
    }


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
    from kubevet.fix.valuekeys import OBJECT_KEYS
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
    # only what the chart's own switches add (redis: pdb.create renders a budget)
    switched = {k.kind for k in OBJECT_KEYS.values()}
    problems = identity_problems([o.data for o in before.objects], [o.data for o in after.objects])
    assert [p for p in problems if p.split()[:2] not in (["new", k] for k in switched)] == []
    if problems:
        assert any(result.values.get(key[0]) for k in OBJECT_KEYS.values() for key in k.keys)
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


def _fix_fixture(name, rules, tmp_path):
    report = FixReport()
    opts = FixOptions(unsafe=True, output=str(tmp_path / "override.yaml"))
    settings = RunSettings(select=rules)
    return fix_chart(str(FIXTURES / "fix" / name), settings, opts, report)


def _fixed(findings):
    return {(f.code, f.object.kind, f.path_text) for f in findings}


def test_a_fix_whose_key_also_feeds_another_object_is_the_one_refused(tmp_path):
    # `podSecurityContext` feeds the test Pod and the Deployment: the test Pod's runAsUser
    # fix changes the Deployment's pod runAsUser, where no finding is. Only that fix is
    # refused; the Deployment's own fixes (on `securityContext`) are kept.
    result = _fix_fixture("shared-key", ["KV103", "KV106", "KV111"], tmp_path)
    rejected = {(f.code, f.object.kind, f.path_text): why for f, why in result.rejected}
    assert set(rejected) == {("KV103", "Pod", "spec.securityContext.runAsUser")}
    why = rejected[("KV103", "Pod", "spec.securityContext.runAsUser")]
    assert "Deployment release-name-server" in why
    assert "spec.template.spec.securityContext.runAsUser" in why
    assert _fixed(result.removed) == {
        ("KV103", "Deployment", "spec.template.spec.containers[0].securityContext.runAsUser"),
        (
            "KV106",
            "Deployment",
            "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
        ),
        (
            "KV111",
            "Deployment",
            "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem",
        ),
    }
    written = yaml.safe_load((tmp_path / "override.yaml").read_text())
    assert "podSecurityContext" not in written


def test_a_fix_verified_alone_carries_only_its_own_values_map_fields(tmp_path):
    # The template mounts a writable /tmp once containerSecurityContext.readOnlyRootFilesystem
    # is set: the read-only-root fix is refused, and the other fixes on the same map must
    # not bring readOnlyRootFilesystem along (they verify without it).
    result = _fix_fixture("tmpdir", ["KV106", "KV111"], tmp_path)
    assert [(f.code, why) for f, why in result.rejected] == [
        (
            "KV111",
            "setting containerSecurityContext.readOnlyRootFilesystem also changes"
            " spec.template.spec.containers[0].volumeMounts, which no fix covers",
        )
    ]
    assert [f.code for f in result.removed] == ["KV106"]
    written = yaml.safe_load((tmp_path / "override.yaml").read_text())
    assert written == {"containerSecurityContext": {"allowPrivilegeEscalation": False}}


def test_a_container_named_from_values_is_traced_to_the_map_it_shares(tmp_path):
    # Marker renders rename the container (`name: {{ .Values.server.name }}`); its
    # resources map must still be found, else only the init container's half of the
    # shared `resources` key is known and its fix looks like it changes the other one.
    result = _fix_fixture("named-container", ["KV201", "KV202"], tmp_path)
    keys = {f.path_text: f.trace.values_keys for f in result.findings}
    assert keys == {
        "spec.template.spec.containers[0].resources.requests.memory": (
            "resources.requests.memory",
        ),
        "spec.template.spec.initContainers[0].resources.requests.memory": (
            "resources.requests.memory",
        ),
        "spec.template.spec.containers[0].resources.limits.memory": ("resources.limits.memory",),
        "spec.template.spec.initContainers[0].resources.limits.memory": (
            "resources.limits.memory",
        ),
    }
    assert result.rejected == [] and result.template == []
    assert len(result.removed) == 4


def test_a_fix_that_makes_the_chart_add_an_object_is_refused_and_says_so(tmp_path):
    result = _fix_fixture("pdb", ["KV305"], tmp_path)
    assert [(f.code, why) for f, why in result.rejected] == [
        ("KV305", "setting replicaCount makes the chart add PodDisruptionBudget release-name-app")
    ]
    assert result.applied == [] and not (tmp_path / "override.yaml").exists()


def test_a_section_helm_renders_differently_once_named_is_set_apart_and_says_so(tmp_path):
    # `sub.ingress.annotate` is null: without user values Helm drops it and the template
    # falls back to a literal; a values file naming `sub` at all keeps the null, and the
    # annotation goes. No override under `sub` can verify; the message says why.
    result = _fix_fixture("null-default-local", ["KV103"], tmp_path)
    assert result.rejected == [] and result.applied == []
    [(f, why)] = result.blocked
    assert f.code == "KV103"
    assert "metadata.annotations.example.com/managed" in why
    assert "any values file that names `sub` changes the render before any fix" in why


def test_a_kept_null_default_is_set_to_the_global_it_falls_back_to(tmp_path):
    # The same, but the template falls back to `global.ingress.annotate` (as gitlab's
    # configureCertmanager does): the override sets the null default to that global, the
    # render is the one without `sub`, and the fix verifies.
    result = _fix_fixture("null-default", ["KV103"], tmp_path)
    assert result.blocked == [] and result.rejected == []
    assert [f.code for f in result.removed] == ["KV103"]
    written = yaml.safe_load((tmp_path / "override.yaml").read_text())
    assert written["sub"]["ingress"] == {"annotate": True}
    assert written["sub"]["securityContext"]["runAsUser"] >= 10000


def test_making_a_service_clusterip_lets_its_nodeport_only_fields_go(tmp_path):
    # The template drops externalTrafficPolicy with the NodePort type (the API server
    # rejects it on a ClusterIP Service): that is part of the fix, not a stray change.
    result = _fix_fixture("nodeport", ["KV602"], tmp_path)
    assert result.rejected == [] and [f.code for f in result.removed] == ["KV602"]
    written = yaml.safe_load((tmp_path / "override.yaml").read_text())
    assert written == {"service": {"type": "ClusterIP"}}


def test_a_field_may_vanish_only_where_the_fix_allows_and_only_by_going_away():
    from kubevet.fix.verify import verify_object

    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"type": "NodePort", "externalTrafficPolicy": "Local", "ports": [{"port": 1}]},
    }
    gone = {**svc, "spec": {"type": "ClusterIP", "ports": [{"port": 1}]}}
    changed = {**svc, "spec": {**gone["spec"], "externalTrafficPolicy": "Cluster"}}
    roots, vanish = [("spec", "type")], [("spec", "externalTrafficPolicy")]
    assert verify_object(svc, gone, roots, None, vanish) == []
    assert verify_object(svc, changed, roots, None, vanish) == [
        "changed spec.externalTrafficPolicy outside the fixed fields"
    ]
    assert verify_object(svc, gone, roots, None) == [
        "changed spec.externalTrafficPolicy outside the fixed fields"
    ]


def test_materialized_keeps_a_settings_maps_defaults_but_never_copies_a_pod_spec():
    from types import SimpleNamespace

    from kubevet.fix.chart import materialized
    from kubevet.trace import EditTrace

    pod = {
        "spec": {
            "template": {
                "spec": {
                    "securityContext": {"fsGroup": 33, "runAsUser": 10001},
                    "containers": [{"name": "app", "image": "app:1"}],
                }
            }
        }
    }
    sc = ("spec", "template", "spec", "securityContext")
    own = [Edit("set", ("podSecurityContext", "runAsUser"), 10001)]
    f = SimpleNamespace(
        edit_traces=[
            EditTrace(
                (*sc, "runAsUser"),
                "values",
                own[0].path,
                (own[0].path,),
                anchor=sc,
                map=("podSecurityContext",),
            )
        ]
    )
    assert materialized(f, own, pod) == [Edit("set", ("podSecurityContext", "fsGroup"), 33), *own]
    # a list rendered `| indent` where a map was marked lands in the pod spec itself
    spec = sc[:-1]
    own = [Edit("set", ("extraVolumes", "automountServiceAccountToken"), False)]
    f.edit_traces = [
        EditTrace(
            (*spec, "automountServiceAccountToken"),
            "values",
            own[0].path,
            (own[0].path,),
            anchor=spec,
            map=("extraVolumes",),
        )
    ]
    assert materialized(f, own, pod) == own


def test_a_null_field_and_a_missing_one_are_the_same_change():
    from kubevet.fix.edits import changed_paths

    before = {"spec": {"strategy": {"type": "Recreate"}}}
    after = {"spec": {"strategy": {"type": "Recreate", "rollingUpdate": None}}}
    assert list(changed_paths(before, after)) == []
    after["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": 1}
    assert list(changed_paths(before, after)) == [("spec", "strategy", "rollingUpdate", "maxSurge")]


def test_a_fix_that_only_removes_a_hard_coded_field_needs_the_template():
    # cilium's probes: `host: {{ ternary "127.0.0.1" "::1" }}`: no key can remove the field
    from kubevet.fix.chart import values_edits
    from kubevet.trace import EditTrace

    path = ("spec", "containers", 0, "livenessProbe", "httpGet", "host")
    f = Finding("KV131", "host", 1, "security", "m", None, path, None)  # type: ignore[arg-type]
    f.edit_traces = [EditTrace(path, "hard-coded")]
    assert values_edits(f, (Edit("remove", path),), {}) is None
