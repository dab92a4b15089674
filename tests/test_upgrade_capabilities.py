"""Charts rendered as the target cluster would: `.Capabilities.APIVersions` holds what the
target serves (kinds included), CRDs among the inputs and `--api-versions`; kinds of
built-in groups that the target does not serve are blockers."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS_CHARTS, FIXTURES, need

from kubevet.cli import main
from kubevet.sources.capabilities import helm_default_api_versions, impossible_checks, unserve
from kubevet.sources.helm import HelmOptions, load_chart
from kubevet.upgrade.served import load_served
from kubevet.upgrade.table import load_table

CHART = FIXTURES / "upgrade" / "capabilities"


def rendered(path, kube_version, *extra):
    group = load_chart(str(path), HelmOptions(kube_version=kube_version, api_versions=list(extra)))
    assert group.errors == []
    return {(o.api_version, o.kind, o.name) for o in group.objects}


def test_kind_qualified_checks_follow_the_target():
    old = rendered(CHART, "1.20")
    assert ("policy/v1beta1", "PodDisruptionBudget", "web") in old
    assert ("policy/v1beta1", "PodSecurityPolicy", "web") in old
    assert ("autoscaling/v2beta2", "HorizontalPodAutoscaler", "web") in old  # v2 is 1.23+
    new = rendered(CHART, "1.29")
    assert ("policy/v1", "PodDisruptionBudget", "web") in new
    assert ("autoscaling/v2", "HorizontalPodAutoscaler", "web") in new
    assert not any(kind == "PodSecurityPolicy" for _, kind, _ in new)


def test_group_version_checks_helm_claims_follow_the_target():
    # Helm's own list says these are served on every cluster: the render must not believe it
    assert {"policy/v1beta1", "extensions/v1beta1"} <= helm_default_api_versions()
    names = {name for _, kind, name in rendered(CHART, "1.29") if kind == "ConfigMap"}
    assert names == set()
    names = {name for _, kind, name in rendered(CHART, "1.20") if kind == "ConfigMap"}
    assert names == {"policy-v1beta1-served", "extensions-v1beta1-served"}


def test_rewritten_checks_keep_every_line_in_place():
    text = (CHART / "templates" / "legacy.yaml").read_text()
    out = unserve(text, {"policy/v1beta1", "extensions/v1beta1"}, "1.29")
    assert out != text and out.count("\n") == text.count("\n")
    assert [a.split('"')[0] for a in out.splitlines()] == [
        a.split('"')[0] for a in text.splitlines()
    ]


def test_chart_crds_and_api_versions_flag_are_served():
    objs = rendered(CHART, "1.29")
    assert ("example.com/v1", "Widget", "web") in objs  # the chart's own crds/
    assert not any(kind == "ServiceMonitor" for _, kind, _ in objs)
    objs = rendered(CHART, "1.29", "monitoring.coreos.com/v1/ServiceMonitor")
    assert ("monitoring.coreos.com/v1", "ServiceMonitor", "web") in objs


def test_api_versions_flag_on_the_command_line(tmp_path):
    out = tmp_path / "r.json"
    args = ["upgrade", "--to", "1.29", "--format", "json", "-o", str(out), str(CHART)]
    assert main(args) == 0
    plain = json.loads(out.read_text())["objects_checked"]
    assert main([*args, "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor"]) == 0
    assert json.loads(out.read_text())["objects_checked"] == plain + 1


UNSERVED = """\
apiVersion: policy/v1
kind: PodSecurityPolicy
metadata: {name: never}
---
apiVersion: policy/v1
kind: PodDisruptionBudgets
metadata: {name: typo}
spec: {maxUnavailable: 1}
---
apiVersion: admissionregistration.k8s.io/v1beta1
kind: ValidatingAdmissionPolicy
metadata: {name: beta-gone}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: too-new}
---
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata: {name: a-crd}
---
apiVersion: admissionregistration.k8s.io/v1alpha1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: alpha}
"""


@pytest.mark.parametrize("to", ["1.29", "1.34"])
def test_unknown_kinds_in_builtin_groups_block(tmp_path, to):
    path = tmp_path / "objects.yaml"
    path.write_text(UNSERVED)
    out = tmp_path / "r.json"
    code = main(["upgrade", "--to", to, "--format", "json", "-o", str(out), str(path)])
    report = json.loads(out.read_text())
    problems = {o["name"]: o["problems"][0] for o in report["objects"]}
    assert (
        problems["never"]["blocker"]
        and "not served in any version since" in (problems["never"]["message"])
    )
    assert problems["typo"]["blocker"]
    assert problems["typo"]["replacement"] == "policy/v1 PodDisruptionBudget"
    assert "a-crd" not in problems  # autoscaling.k8s.io is a CRD group Kubernetes does not ship
    if to == "1.29":
        assert problems["too-new"]["message"].endswith(
            "not served before Kubernetes 1.30; "
            "use admissionregistration.k8s.io/v1beta1 ValidatingAdmissionPolicy"
        )
        assert "beta-gone" not in problems
        assert problems["alpha"]["kind"] == "alpha" and not problems["alpha"]["blocker"]
    else:
        assert problems["beta-gone"]["blocker"]
        assert problems["beta-gone"]["kind"] == "removed"  # a table entry, with its rewrite
        assert problems["beta-gone"]["replacement"] == "admissionregistration.k8s.io/v1"
        assert "too-new" not in problems
        assert problems["alpha"]["kind"] == "unserved" and problems["alpha"]["blocker"]
    assert problems["never"]["already"] == problems["typo"]["already"] == report["from"]
    # at 1.34 the beta ValidatingAdmissionPolicy, served by 1.33, is what this upgrade breaks
    assert code == (1 if to == "1.34" else 0)


def test_served_table_agrees_with_the_removal_table():
    served, table = load_served(), load_table()
    checked = 0
    for e in table.entries:
        if e.removed is None or not served.serving_releases(e.api_version, e.kind):
            continue
        before = (e.removed[0], e.removed[1] - 1)
        assert not served.serves(e.api_version, e.kind, e.removed), e
        if served.first <= before:
            assert served.serves(e.api_version, e.kind, before), e
            checked += 1
    assert checked > 40
    apis = load_served().api_versions((1, 29))
    assert "policy/v1/PodDisruptionBudget" in apis and "policy/v1beta1" not in apis
    assert not any("alpha" in a for a in apis)


@pytest.mark.parametrize("chart", ["consul", "gitlab"])
def test_corpus_charts_render_current_apis_for_1_29(chart):
    path = need(CORPUS_CHARTS / chart)
    objs = rendered(path, "1.29")
    pdbs = {a for a, kind, _ in objs if kind == "PodDisruptionBudget"}
    hpas = {a for a, kind, _ in objs if kind == "HorizontalPodAutoscaler"}
    assert pdbs == {"policy/v1"}
    if chart == "gitlab":
        assert hpas == {"autoscaling/v2"}


def test_a_check_no_release_can_answer_is_named():
    assert impossible_checks(str(CHART)) == [
        'templates check .Capabilities.APIVersions.Has "apps/v1/Deployments", which no '
        "Kubernetes release serves (did you mean apps/v1/Deployment?)"
    ]


def test_loki_pdb_typo_renders_a_removed_api_and_is_named(tmp_path):
    chart = need(CORPUS_CHARTS / "loki-stack")
    out = tmp_path / "r.json"
    args = ["--set", "loki.podDisruptionBudget.minAvailable=1", str(chart)]
    main(["upgrade", "--to", "1.29", "--format", "json", "-o", str(out), *args])
    report = json.loads(out.read_text())
    (pdb,) = [o for o in report["objects"] if o["kind"] == "PodDisruptionBudget"]
    assert pdb["apiVersion"] == "policy/v1beta1" and pdb["problems"][0]["blocker"]
    assert any("PodDisruptionBudgets" in w for w in report["warnings_text"])


def test_check_renders_for_its_kube_version_too(tmp_path):
    out = tmp_path / "check.json"
    base = ["check", "--select", "KV701", "--format", "json", "-o", str(out), str(CHART)]
    assert main(base) == 1  # Helm's own list has no kinds: policy/v1beta1 is rendered
    assert {f["object"]["apiVersion"] for f in json.loads(out.read_text())["findings"]} == {
        "policy/v1beta1"
    }
    assert main([*base, "--kube-version", "1.29"]) == 0  # the 1.29 list: policy/v1


def test_fluent_bit_renders_the_hpa_a_1_22_cluster_serves():
    chart = need(CORPUS_CHARTS / "fluent-bit")
    sets = ["autoscaling.enabled=true", "kind=Deployment"]
    for release, expected in (("1.22", "autoscaling/v2beta2"), ("1.29", "autoscaling/v2")):
        group = load_chart(str(chart), HelmOptions(kube_version=release, set_values=sets))
        hpas = {o.api_version for o in group.objects if o.kind == "HorizontalPodAutoscaler"}
        assert hpas == {expected}, release


def test_capability_checks_are_read_again_when_the_chart_changes(tmp_path, monkeypatch):
    """One process, two charts at the same relative path, then an edit: each answer is the
    chart as it is on disk (the cache once answered with the first chart's checks)."""
    from kubevet.sources.capabilities import checked_api_versions

    def chart(where, kind: str) -> None:
        (where / "my-chart" / "templates").mkdir(parents=True)
        (where / "my-chart" / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
        check = f'{{{{- if .Capabilities.APIVersions.Has "apps/v1/{kind}" }}}}x{{{{ end }}}}\n'
        (where / "my-chart" / "templates" / "t.yaml").write_text(check)

    for kind in ("Deployment", "StatefulSet"):
        where = tmp_path / kind
        chart(where, kind)
        monkeypatch.chdir(where)
        assert checked_api_versions("./my-chart") == {f"apps/v1/{kind}"}
    template = tmp_path / "StatefulSet" / "my-chart" / "templates" / "t.yaml"
    template.write_text('{{ if .Capabilities.APIVersions.Has "batch/v1/CronJob" }}y{{ end }}\n')
    assert checked_api_versions("./my-chart") == {"batch/v1/CronJob"}
