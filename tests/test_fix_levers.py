"""The fix levers beyond the values override, and the gate every lever passes: no fix may
raise the count of any rule (it is completed, or withdrawn and said so)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubevet.cli import main
from kubevet.engine import check_group
from kubevet.fix.edits import changed_paths
from kubevet.fix.jsonpatch import PatchError, apply_ops, diff_ops
from kubevet.fix.postrender import apply_set, build, target_of
from kubevet.fix.run import FixOptions, FixReport, fix_chart
from kubevet.fix.verify import identity, schema_errors
from kubevet.runner import RunSettings
from kubevet.sources.helm import HelmOptions, load_chart

FIXTURES = Path(__file__).parent / "fixtures"
LEVERS = FIXTURES / "fix" / "levers"
SECURITY = ["KV101", "KV103", "KV106", "KV109", "KV111", "KV112", "KV113"]


def _fix(rules: list[str], tmp_path: Path):
    opts = FixOptions(
        unsafe=True,
        output=str(tmp_path / "override.yaml"),
        post_render_dir=str(tmp_path / "postrender"),
    )
    return fix_chart(str(LEVERS), RunSettings(select=rules), opts, FixReport())


def _render(chart: Path = LEVERS) -> list[dict]:
    return [o.data for o in load_chart(str(chart), HelmOptions()).objects]


def _counts(findings) -> Counter:
    return Counter(f.code for f in findings)


def test_a_fix_that_would_add_a_finding_is_withdrawn_and_says_which(tmp_path):
    # two replicas with no autoscaler is KV904's finding: raising replicas is withdrawn
    result = _fix(["KV305", "KV904"], tmp_path)
    reasons = [why for f, why in result.withdrawn if f.code == "KV305"]
    assert reasons and "KV904" in reasons[0] and "release-name-web" in reasons[0]
    assert "replicaCount" not in result.values
    assert not result.overlay.patches  # nor is it made after the render
    assert _counts(result.overlay.after) == _counts(result.findings)


def test_raising_replicas_is_completed_with_a_pod_disruption_budget(tmp_path):
    result = _fix(["KV305", "KV307"], tmp_path)
    assert result.values == {"replicaCount": 2}
    assert [f.code for f in result.removed] == ["KV305"]
    overlay = result.overlay
    assert [f.code for f, _what in overlay.added] == ["KV307"]
    (pdb,) = overlay.patches.resources
    assert pdb["kind"] == "PodDisruptionBudget"
    assert pdb["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert schema_errors(pdb, "1.33") is None
    assert _counts(overlay.after) == Counter()  # KV305 and the KV307 it raised: both gone
    added = (tmp_path / "postrender" / "kustomization.yaml").read_text()
    assert "resources/01-poddisruptionbudget-release-name-web.yaml" in added


def test_post_render_patches_fix_what_no_values_key_reaches(tmp_path):
    result = _fix(SECURITY, tmp_path)
    assert not result.values  # the template writes no securityContext and reads no key
    overlay = result.overlay
    assert overlay.problems == []
    fixed = {f.code for f in overlay.removed}
    assert {"KV106", "KV112", "KV113"} <= fixed
    assert _counts(overlay.after) == Counter(
        f.code for f in result.findings if f not in overlay.removed
    )
    render = _render()
    patched = apply_set(render, overlay.patches)
    assert [identity(d) for d in patched] == [identity(d) for d in render]  # none lost
    for before, after in zip(render, patched, strict=True):
        moved = list(changed_paths(before, after))
        assert all(
            p[:4] == ("spec", "template", "spec", "containers") or "securityContext" in p
            for p in moved
        )
        assert schema_errors(after, "1.33") is None


def test_the_written_post_renderer_runs_as_helm_runs_it(tmp_path):
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (.ci/run installs kubernetes-client)")
    result = _fix(SECURITY, tmp_path)
    script = tmp_path / "postrender" / "kustomize.sh"
    assert os.access(script, os.X_OK)
    render = _render()
    done = subprocess.run(
        [str(script)],
        input=yaml.safe_dump_all(render),
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    out = {identity(d): d for d in yaml.safe_load_all(done.stdout) if d}
    own = {identity(d): d for d in apply_set(render, result.overlay.patches)}
    assert out == own
    assert "kubectl kustomize" in result.overlay.proof


def test_the_flux_block_carries_the_same_patches(tmp_path):
    result = _fix(SECURITY, tmp_path)
    flux = yaml.safe_load((tmp_path / "postrender" / "flux-postrenderers.yaml").read_text())
    patches = flux["postRenderers"][0]["kustomize"]["patches"]
    assert [p["target"] for p in patches] == [p.target for p in result.overlay.patches.patches]
    assert [yaml.safe_load(p["patch"]) for p in patches] == [
        p.ops for p in result.overlay.patches.patches
    ]


def test_manifest_fixes_withdraw_what_raises_a_rule(tmp_path, capsys):
    path = tmp_path / "web.yaml"
    path.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n"
        "    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n"
        "        - name: web\n          image: registry.example/web:1.0\n"
    )
    code = main(["fix", str(path), "--unsafe-fixes", "--select", "KV305,KV904,KV307"])
    out = capsys.readouterr().out
    assert "not fixed KV305" in out and ("would add KV307" in out or "would add KV904" in out)
    assert "replicas: 1" in path.read_text()
    assert code == 1


def test_kustomize_targets_escape_names():
    target = target_of({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a.b"}})
    assert target == {"version": "v1", "kind": "Service", "name": r"a\.b"}
    other = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "axb"}}
    mine = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a.b"}}
    patched = apply_set([other, mine], build([other, mine], [other, {**mine, "spec": {}}]))
    assert patched == [other, {**mine, "spec": {}}]


_leaf = st.none() | st.booleans() | st.integers() | st.text(max_size=4)
_tree = st.recursive(
    _leaf,
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(st.text(alphabet="ab/~c", max_size=3), kids, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from("abc"), _tree), st.dictionaries(st.sampled_from("abc"), _tree)
)
def test_diff_then_apply_gives_the_target(before, after):
    assert apply_ops(before, diff_ops(before, after)) == after


def test_json_patch_errors_where_kustomize_fails():
    doc = {"a": {"b": [1, 2]}}
    with pytest.raises(PatchError):
        apply_ops(doc, [{"op": "replace", "path": "/a/c", "value": 1}])
    with pytest.raises(PatchError):
        apply_ops(doc, [{"op": "add", "path": "/x/y", "value": 1}])
    with pytest.raises(PatchError):
        apply_ops(doc, [{"op": "remove", "path": "/a/b/2"}])
    assert apply_ops(doc, [{"op": "add", "path": "/a/b/-", "value": 3}]) == {"a": {"b": [1, 2, 3]}}
    assert apply_ops(doc, [{"op": "add", "path": "/a/b/0", "value": 0}]) == {"a": {"b": [0, 1, 2]}}


def _template_fix_in_repo(chart: Path, tmp_path: Path, monkeypatch) -> tuple[Path, Path, Any]:
    """The chart copied into a fresh git repository, fixed there with a template patch:
    (the repository, the patch, the template lever's result)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    shutil.copytree(chart, repo / chart.name)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo)
    patch = tmp_path / "t.patch"
    opts = FixOptions(unsafe=True, output=str(tmp_path / "o.yaml"), template_patch=str(patch))
    result = fix_chart(chart.name, RunSettings(select=SECURITY), opts, FixReport())
    return repo, patch, result.maintainer


def test_the_template_patch_merges_each_block_and_git_applies(tmp_path, monkeypatch):
    repo, patch, done = _template_fix_in_repo(LEVERS, tmp_path, monkeypatch)
    # five fixes each add a field under the container's securityContext: one block
    merged = [f for f in done.fixed if f.container == "web" and "securityContext" in f.path]
    assert len(merged) >= 5
    text = patch.read_text()
    assert text.count("+          securityContext:\n") == 1
    assert "+webSecurityContext:\n" in text  # the template reads a values key
    subprocess.run(["git", "apply", "--check", str(patch)], check=True, cwd=repo)
    subprocess.run(["git", "apply", str(patch)], check=True, cwd=repo)
    after = load_chart(str(repo / "levers"), HelmOptions())
    before = load_chart(str(LEVERS), HelmOptions())
    assert [identity(o.data) for o in after.objects] == [identity(o.data) for o in before.objects]
    assert all(schema_errors(o.data, "1.33") is None for o in after.objects)
    settings = RunSettings(select=SECURITY)
    left = {f.code for f in check_group(after, settings.rules(), settings.options)}
    assert left.isdisjoint(f.code for f in done.fixed)


def test_json_output_names_each_findings_lever_and_why_not_the_others(tmp_path, capsys):
    args = ["fix", str(LEVERS), "--unsafe-fixes", "--diff", "--format", "json"]
    main([*args, "--output", str(tmp_path / "o.yaml")])
    import json

    (chart,) = json.loads(capsys.readouterr().out)["charts"]
    rows = {(r["code"], r["path"]): r for r in chart["findings"]}
    sc = rows[
        ("KV106", "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation")
    ]
    assert sc["lever"] == "post-render" and "template" in sc["also"]
    assert "values" in sc["whyNot"] and "template does not write it" in sc["whyNot"]["values"]
    replicas = rows[("KV305", "spec.replicas")]
    assert replicas["lever"] == "none" and "KV904" in replicas["whyNot"]["post-render"]
    assert len(chart["findings"]) == len(rows)  # one row per finding, none twice
    assert not (tmp_path / "o.yaml").exists()  # --diff writes nothing


AUTOSCALE = FIXTURES / "fix" / "autoscale"


def _fix_autoscale(tmp_path: Path):
    opts = FixOptions(
        unsafe=True,
        output=str(tmp_path / "override.yaml"),
        post_render_dir=str(tmp_path / "postrender"),
    )
    settings = RunSettings(select=["KV305", "KV904", "KV307", "KV314"])
    return fix_chart(str(AUTOSCALE), settings, opts, FixReport())


def test_raised_replicas_are_completed_with_an_autoscaler_keeping_them_as_floor(tmp_path):
    # web requests CPU: two replicas with an autoscaler floored at two (KV904 completed)
    # and a budget (KV307); the StatefulSet quorum gets a budget but never an autoscaler
    result = _fix_autoscale(tmp_path)
    assert result.values == {"replicaCount": 2} and result.withdrawn == []
    overlay = result.overlay
    hpa, *budgets = overlay.patches.resources
    assert hpa["kind"] == "HorizontalPodAutoscaler"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "release-name-web",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)
    assert schema_errors(hpa, "1.33") is None
    assert sorted(b["metadata"]["name"] for b in budgets) == [
        "release-name-quorum",
        "release-name-web",
    ]
    left = [(f.code, f.object.kind) for f in overlay.after]
    assert left == [("KV904", "StatefulSet")]  # a quorum's count is fixed by design
    assert not rises_any(result.findings, overlay.after)  # no KV314 either:
    patched = {identity(d): d for d in apply_set(_render(AUTOSCALE), overlay.patches)}
    web = patched[("Deployment", "", "release-name-web")]
    assert "replicas" not in web["spec"]  # the autoscaler owns the count now
    assert patched[("StatefulSet", "", "release-name-quorum")]["spec"]["replicas"] == 3


def rises_any(before, after) -> bool:
    from kubevet.fix.gate import rises

    return bool(rises(before, after))


def test_no_autoscaler_without_cpu_requests_or_without_unsafe_fixes():
    from kubevet.fix.gate import added_objects

    group = load_chart(str(LEVERS), HelmOptions())  # the levers chart: web requests no CPU
    web = next(o for o in group.objects if o.kind == "Deployment")
    web.data["spec"]["replicas"] = 3
    settings = RunSettings(select=["KV904"])
    [f] = check_group(group, settings.rules(), settings.options)
    datas = [o.data for o in group.objects]
    assert added_objects([f], datas, unsafe=True) == []  # utilization needs a CPU request
    container = web.data["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"requests": {"cpu": "50m"}}
    made = added_objects([f], datas, unsafe=True)
    assert [o["kind"] for _f, o in made] == ["HorizontalPodAutoscaler"]
    assert made[0][1]["spec"]["minReplicas"] == 3
    assert added_objects([f], datas, unsafe=False) == []  # it changes how the app runs


def test_kustomize_output_reads_yaml_1_2_plain_scalars_as_strings():
    # kubectl writes `- =` plain; YAML 1.1 readers see a `value` tag and fail there
    # (kube-prometheus-stack's render has such an argument)
    from kubevet.fix.postrender import kustomize

    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (.ci/run installs kubernetes-client)")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i:1", "args": ["=", "a=b"]}]},
    }
    patched = dict(pod, metadata={"name": "p", "labels": {"tier": "web"}})
    patches = build([pod], [patched])
    assert kustomize([pod], patches) == apply_set([pod], patches) == [patched]


ACCOUNTS = FIXTURES / "fix" / "accounts"


def _lever_rows(chart: Path, rules: str, tmp_path: Path, capsys) -> dict:
    import json

    args = ["fix", str(chart), "--unsafe-fixes", "--diff", "--format", "json"]
    main([*args, "--select", rules, "--output", str(tmp_path / "o.yaml")])
    (out,) = json.loads(capsys.readouterr().out)["charts"]
    return {(r["code"], r["object"]): r for r in out["findings"]}


def test_a_finding_gone_with_another_fix_is_credited_to_that_lever(tmp_path, capsys):
    # KV134 has no fix of its own: the pod stops mounting the token (KV133, post-render)
    # and so no longer runs as `default` with it. The test Pod's random name changes with
    # every render: nothing is credited there that a re-render merely renamed.
    rows = _lever_rows(ACCOUNTS, "KV133,KV134,KV201", tmp_path, capsys)
    shipper = "Deployment default/release-name-shipper"
    assert rows[("KV133", shipper)]["lever"] == "post-render"
    assert rows[("KV134", shipper)]["lever"] == "post-render"
    assert rows[("KV201", shipper)]["lever"] == "values"
    probe = [r for (code, obj), r in rows.items() if code == "KV134" and obj != shipper]
    assert [r["lever"] for r in probe] == ["none"]


def test_secret_env_and_host_path_stay_display_only_and_say_why(tmp_path, capsys):
    rows = _lever_rows(ACCOUNTS, "KV132,KV125", tmp_path, capsys)
    shipper = "Deployment default/release-name-shipper"
    secret, host = rows[("KV132", shipper)], rows[("KV125", shipper)]
    assert secret["lever"] == host["lever"] == "none"
    for lever in ("values", "post-render", "template"):
        assert secret["whyNot"][lever].startswith("display-only: mount Secret 'shipper-key'")
        assert "reads $API_KEY from its environment" in secret["whyNot"][lever]
        assert host["whyNot"][lever].startswith("display-only: replace host path /var/log")
    assert not (tmp_path / "o.yaml").exists()


def test_an_added_object_that_brings_a_finding_is_left_out_not_the_fixes(tmp_path, monkeypatch):
    # Were the Deployment to keep its count beside the autoscaler, KV314 would come with
    # the autoscaler: the values lever sees it (it checks the completed render), withdraws
    # raising replicas, and the post-render set adds no autoscaler; nothing rises.
    import kubevet.fix.overlay as overlay_module
    import kubevet.fix.prover as prover_module

    for module in (overlay_module, prover_module):
        monkeypatch.setattr(module, "autoscaled", lambda objects, _added: objects)
    result = _fix_autoscale(tmp_path)
    [(f, why)] = result.withdrawn
    assert f.code == "KV305" and "KV314" in why
    assert "replicaCount" not in result.values
    overlay = result.overlay
    assert overlay.problems == []
    assert "HorizontalPodAutoscaler" not in [o["kind"] for o in overlay.patches.resources]
    assert not rises_any(result.findings, overlay.after)


SWITCHES = FIXTURES / "fix" / "switches"


def _fix_switches(tmp_path: Path, unsafe: bool):
    opts = FixOptions(
        unsafe=unsafe,
        output=str(tmp_path / "override.yaml"),
        post_render_dir=str(tmp_path / "postrender"),
    )
    return fix_chart(str(SWITCHES), RunSettings(select=["KV307", "KV134"]), opts, FixReport())


def test_the_charts_own_switches_add_the_budget_and_the_account(tmp_path):
    result = _fix_switches(tmp_path, unsafe=True)
    written = yaml.safe_load((tmp_path / "override.yaml").read_text())
    assert written == {"pdb": {"create": True}, "serviceAccount": {"create": True}}
    assert sorted(f.code for f in result.removed) == ["KV134", "KV307"]
    assert result.after == [] and not result.overlay.patches  # nothing left to patch
    kinds = sorted(o.kind for o in result.render.objects)
    assert kinds == ["Deployment", "PodDisruptionBudget", "ServiceAccount"]
    pod = next(o for o in result.render.objects if o.kind == "Deployment").data
    assert pod["spec"]["template"]["spec"]["serviceAccountName"] == "release-name-app"


def test_a_switch_that_moves_the_pods_account_needs_unsafe_fixes(tmp_path):
    result = _fix_switches(tmp_path, unsafe=False)
    written = yaml.safe_load((tmp_path / "override.yaml").read_text())
    assert written == {"pdb": {"create": True}}
    assert [f.code for f in result.after] == ["KV134"]


def test_a_values_fix_whose_completion_cannot_be_proven_is_withdrawn(tmp_path, monkeypatch):
    # raising replicas counts on the post-render set for a budget and an autoscaler; when
    # that set fails its proof, the override alone would add KV307 and KV904: withdrawn
    import kubevet.fix.overlay as overlay_module

    def failing(group, final, result):
        result.problems.append("kubectl kustomize: differs Deployment default web")

    monkeypatch.setattr(overlay_module, "_prove", failing)
    result = _fix_autoscale(tmp_path)
    reasons = [why for f, why in result.withdrawn if f.code == "KV305"]
    assert reasons and "is not proven: kubectl kustomize: differs" in reasons[0]
    assert "replicaCount" not in result.values
    assert not rises_any(result.findings, result.after)
    assert not (tmp_path / "postrender").exists()


def test_kustomize_dropping_empty_annotations_is_the_same_object():
    # `annotations: {}` in a render (prometheus' ServiceAccount) comes back without the
    # map from Kustomize: not a difference, or the whole set fails its proof
    from kubevet.fix.postrender import kustomize, same_objects

    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "s"}}
    account["metadata"]["annotations"] = {}
    stripped = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "s"}}
    assert same_objects([account], [stripped]) == []
    labelled = {**stripped, "metadata": {"name": "s", "annotations": {"a": "b"}}}
    assert same_objects([account], [labelled]) == ["differs ServiceAccount  s"]
    if shutil.which("kubectl") is not None:
        assert same_objects([account], kustomize([account], build([account], [account]))) == []


TWODOCS = FIXTURES / "fix" / "twodocs"


def test_a_template_patch_lands_in_the_document_of_its_object(tmp_path, capsys, monkeypatch):
    # the Job before the Deployment has the same `spec:`/`containers:` lines: the trace
    # names the Job's, and the patch must still go into the Deployment's document
    rows = _lever_rows(TWODOCS, ",".join(SECURITY), tmp_path, capsys)
    web = [r for (_code, obj), r in rows.items() if obj == "Deployment default/release-name-web"]
    assert len(web) >= 5
    assert all("template" in [r["lever"], *r["also"]] for r in web)
    repo, patch, done = _template_fix_in_repo(TWODOCS, tmp_path, monkeypatch)
    assert not done.refused and len(done.fixed) >= len(web)
    subprocess.run(["git", "apply", str(patch)], check=True, cwd=repo)
    before = {identity(d): d for d in _render(TWODOCS)}
    after = {identity(d): d for d in _render(repo / "twodocs")}
    assert before.keys() == after.keys()
    job = next(k for k in before if k[0] == "Job")
    assert after[job] == before[job]  # the other document is untouched
    dep = next(k for k in before if k[0] == "Deployment")
    assert after[dep]["spec"]["template"]["spec"]["containers"][0]["securityContext"]


def test_randomly_named_objects_are_not_patched_and_say_why(tmp_path, capsys):
    # the test Pod's name has a random suffix: a patch naming this render's Pod would
    # match nothing at install, so it is not written and not counted as removed
    rows = _lever_rows(ACCOUNTS, "KV133", tmp_path, capsys)
    probe = [r for (code, obj), r in rows.items() if "probe" in obj]
    # the template change does not name the Pod: at install it still applies
    assert [r["lever"] for r in probe] == ["template"]
    assert "name changes with every render" in probe[0]["whyNot"]["post-render"]
    out = tmp_path / "text"
    main(["fix", str(ACCOUNTS), "--unsafe-fixes", "--select", "KV133", "--output", str(out)])
    text = capsys.readouterr().out
    assert "removed KV133" in text and "probe" not in text.split("not fixed")[0]
    assert "name changes with every render" in text
    patches = (tmp_path / "kubevet-postrender" / "kustomization.yaml").read_text()
    assert "probe" not in patches and "shipper" in patches


TRICKY = ["y", "Y", "n", "N", "yes", "on", "0o12", "1e3", "+.5", "012", "1:20", "0x1F", "1_000"]


def test_strings_stay_strings_through_the_patch_files_and_kustomize():
    # go-yaml v2 (Helm, kubectl) reads a plain `y` as true and Kustomize keeps a plain
    # scalar plain: every string another reader could type is written quoted
    from kubevet.fix.postrender import files, kustomize

    data = {f"k{i}": v for i, v in enumerate(TRICKY)}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}
    labelled = {**cm, "metadata": {"name": "c", "labels": {"tier": "y", "zone": "1e3"}}}
    patches = build([cm], [labelled])
    (written,) = [t for name, t in files(patches).items() if name.startswith("patches/")]
    assert "'y'" in written and "'1e3'" in written  # as go-yaml v2 would keep them strings
    assert yaml.safe_load(written)[0]["value"] == {"tier": "y", "zone": "1e3"}
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (.ci/run installs kubernetes-client)")
    assert kustomize([cm], patches) == [labelled]


OLDAPI = FIXTURES / "fix" / "oldapi"


def test_removed_apis_are_converted_on_the_render_or_say_why_not(tmp_path, capsys):
    rows = _lever_rows(OLDAPI, "KV701", tmp_path, capsys)
    assert rows[("KV701", "PodDisruptionBudget default/release-name-web")]["lever"] == "post-render"
    assert rows[("KV701", "Ingress default/release-name-web")]["lever"] == "post-render"
    psp = rows[("KV701", "PodSecurityPolicy default/release-name-web")]
    assert psp["lever"] == "none"
    assert psp["whyNot"]["post-render"].startswith("display-only: no conversion kubevet can make")
    result = fix_chart(
        str(OLDAPI),
        RunSettings(select=["KV701"]),
        FixOptions(
            unsafe=True, output=str(tmp_path / "o.yaml"), post_render_dir=str(tmp_path / "p")
        ),
        FixReport(),
    )
    final = apply_set([o.data for o in result.render.objects], result.overlay.patches)
    ingress = next(d for d in final if d["kind"] == "Ingress")
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend == {"service": {"name": "release-name-web", "port": {"number": 80}}}
    assert all(schema_errors(d, "1.35") is None for d in final if d["kind"] != "PodSecurityPolicy")


def test_display_only_rules_say_why_in_json(tmp_path, capsys):
    from kubevet.fix.levers import KEEPS, NEEDS

    rows = _lever_rows(ACCOUNTS, "KV125,KV132,KV134,KV502", tmp_path, capsys)
    for (code, _obj), row in rows.items():
        if row["lever"] == "none" and code in {**KEEPS, **NEEDS}:
            said = {row["whyNot"]["values"], row["whyNot"]["template"]}
            assert said <= {KEEPS.get(code), NEEDS.get(code)}
    digest = [r for (code, _o), r in rows.items() if code == "KV502"]
    assert digest and all("--image-lock" in r["whyNot"]["values"] for r in digest)


HELPERCTX = FIXTURES / "fix" / "helperctx"


def test_a_key_a_helper_writes_is_not_repeated_and_the_rest_is_proven(tmp_path, capsys):
    # the pod's securityContext comes from an `include`: a block adding one under `spec:`
    # would repeat the key and fail the render, which once sank every block of the chart
    rows = _lever_rows(HELPERCTX, ",".join(SECURITY), tmp_path, capsys)
    pod = rows[("KV113", "Deployment default/release-name-api")]
    assert "a helper writes it" in pod["whyNot"]["template"]
    container = [r for (code, _o), r in rows.items() if code in ("KV106", "KV109", "KV111")]
    assert len(container) == 3
    assert all("template" in [r["lever"], *r["also"]] for r in container)


def test_a_render_error_naming_one_template_drops_only_that_files_blocks():
    from kubevet.fix.templatepatch import Block
    from kubevet.fix.templateproof import _failing

    chart = "/charts/app"
    a = Block("/charts/app/templates/a.yaml", 3, 10)
    b = Block("/charts/app/templates/b.yaml", 3, 10)
    error = (
        "the changed chart does not render: /tmp/kubevet-template-x/app/templates/b.yaml: "
        "duplicate key 'securityContext' (lines 4 and 9)"
    )
    assert [blk for blk, _why in _failing([a, b], [error], chart)] == [b]
    assert len(_failing([a, b], ["the changed chart does not render: timeout"], chart)) == 2
