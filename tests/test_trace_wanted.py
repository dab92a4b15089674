"""Tracing marks only what can reach a finding's field, in a copy holding only the
templates findings come from (kubevet.trace.wanted, trace.chartcopy._empty_others)."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubevet.context import Options
from kubevet.engine import check_group
from kubevet.model import K8sObject, Origin
from kubevet.rules.registry import select_rules
from kubevet.sources.helm import HelmOptions, load_chart
from kubevet.trace import trace_chart
from kubevet.trace.chartcopy import _empty_others
from kubevet.trace.markers import plan_mutations
from kubevet.trace.wanted import Wanted

POD = ("spec", "template", "spec")


def _obj(data: dict) -> K8sObject:
    return K8sObject(data, Origin("x.yaml", 1))


def _deployment(container: dict, pod: dict | None = None) -> K8sObject:
    spec = {"containers": [container], **(pod or {})}
    return _obj({"kind": "Deployment", "spec": {"template": {"spec": spec}}})


def test_a_string_leaf_is_wanted_only_when_the_field_text_holds_it():
    obj = _deployment({"name": "app", "image": "registry.example/app:Latest"})
    wanted = Wanted([(obj, (*POD, "containers", 0, "image"))])
    assert wanted.leaf(("image", "tag"), "latest")  # case-folded: `lower` in the template
    assert wanted.leaf(("image", "repository"), "registry.example/app")
    assert not wanted.leaf(("ingress", "host"), "gitlab.example.com")
    # A short string is a part of most texts: only a whole word or text of a field.
    assert not wanted.leaf(("ingress", "path"), "/")
    assert wanted.leaf(("image", "name"), "app")


def test_numbers_are_wanted_as_whole_words_and_bools_by_name():
    obj = _deployment({"name": "app", "args": ["--port=8080"]}, {"hostNetwork": True})
    wanted = Wanted([(obj, (*POD, "containers", 0, "args", 0)), (obj, (*POD, "hostNetwork"))])
    assert wanted.leaf(("port",), 8080)
    assert not wanted.leaf(("replicas",), 80)
    assert wanted.leaf(("server", "hostNetwork"), True)
    assert not wanted.leaf(("metrics", "enabled"), True)


def test_maps_are_wanted_when_an_ancestor_holds_their_keys_or_they_are_named_alike():
    obj = _deployment({"name": "app", "resources": {"limits": {"cpu": "1"}}})
    path = (*POD, "containers", 0, "resources", "limits", "memory")
    wanted = Wanted([(obj, path)])
    assert wanted.map(("resources",), {"limits": {"cpu": "1"}})
    assert wanted.map(("server", "resources"), {})  # empty: by its name
    assert wanted.map(("containerResources",), {"requests": {}})  # named alike
    assert not wanted.map(("nodeSelector",), {})
    assert not wanted.map(("smtp",), {"enabled": False, "port": 25})


def test_the_plan_leaves_out_what_cannot_reach_a_finding():
    values = {
        "image": {"tag": "latest"},
        "smtp": {"enabled": False, "host": "mail.example.com"},
        "podSecurityContext": {"enabled": False, "fsGroup": 1001},
        "priorityClassName": "",
        "unused": "",
    }
    obj = _deployment({"name": "app", "image": "nginx:latest"})
    wanted = Wanted([(obj, (*POD, "containers", 0, "image")), (obj, (*POD, "securityContext"))])
    marked = {m.path for batch in plan_mutations(values, None, wanted) for m in batch}
    everything = {m.path for batch in plan_mutations(values) for m in batch}
    assert ("image", "tag") in marked
    assert ("podSecurityContext",) in marked  # switched on: named like the field
    assert ("smtp", "host") not in marked and ("smtp",) not in marked
    assert ("unused",) not in marked
    assert marked < everything


def _chart(root: Path) -> Path:
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 1.0.0\n")
    return root


def test_the_marker_copy_keeps_the_finding_templates_and_every_helper(tmp_path: Path):
    chart = _chart(tmp_path / "demo")
    sub = _chart(chart / "charts" / "sub")
    files = {
        chart / "templates" / "deploy.yaml": "kind: Deployment\n",
        chart / "templates" / "secret.yaml": "kind: Secret\n",
        chart / "templates" / "_helpers.tpl": '{{ define "x" }}y{{ end }}',
        chart / "templates" / "named.yaml": '{{- define "z" }}w{{ end }}\nkind: ConfigMap\n',
        sub / "templates" / "svc.yaml": "kind: Service\n",
        chart / "files" / "templates" / "data.txt": "kept: not a template\n",
    }
    for file, text in files.items():
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
    _empty_others(str(chart), frozenset({"demo/templates/deploy.yaml"}))
    after = {f.relative_to(chart).as_posix(): f.read_text() for f in files}
    assert after["templates/deploy.yaml"] == "kind: Deployment\n"
    assert after["templates/secret.yaml"] == ""
    assert after["templates/_helpers.tpl"].startswith("{{ define")
    assert after["templates/named.yaml"].startswith("{{- define")
    assert after["charts/sub/templates/svc.yaml"] == ""
    assert after["files/templates/data.txt"] == "kept: not a template\n"


def test_a_template_without_findings_that_breaks_on_markers_costs_no_trace(tmp_path: Path):
    chart = _chart(tmp_path / "demo")
    (chart / "values.yaml").write_text(
        yaml.safe_dump({"web": {"privileged": True, "mode": "strict", "host": "a.example"}})
    )
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        "  - name: web\n    image: nginx:1.25\n    securityContext:\n"
        "      privileged: {{ .Values.web.privileged }}\n"
    )
    # Validates a string the markers replace: every batch holding its marker fails here.
    (chart / "templates" / "check.yaml").write_text(
        '{{- if not (has .Values.web.mode (list "strict" "lax")) }}'
        '{{ fail "web.mode must be strict or lax" }}{{ end }}\n'
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        "data:\n  host: {{ .Values.web.host | quote }}\n"
    )
    group = load_chart(str(chart), HelmOptions())
    findings = check_group(group, select_rules(["KV105"]), Options())
    assert [f.origin.template for f in findings] == ["demo/templates/pod.yaml"]
    stats = trace_chart(group, findings, HelmOptions())
    assert findings[0].trace.status == "values"
    assert findings[0].trace.values_keys == ("web.privileged",)
    assert stats.untraceable == []


def _chart_reading_another_templates_output(root: Path) -> Path:
    """A pod whose template reads a ConfigMap template's output (the gitea pattern): the
    pod's template fails when that output is empty."""
    chart = _chart(root)
    (chart / "values.yaml").write_text(
        yaml.safe_dump({"web": {"privileged": True}, "config": {"port": 8080}})
    )
    (chart / "templates" / "config.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        "data:\n  port: {{ .Values.config.port | quote }}\n"
    )
    (chart / "templates" / "pod.yaml").write_text(
        '{{- $cfg := include (print $.Template.BasePath "/config.yaml") . | fromYaml }}\n'
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        "  - name: web\n    image: nginx:1.25\n    ports:\n"
        '    - containerPort: {{ required "config port" $cfg.data.port }}\n'
        "    securityContext:\n      privileged: {{ .Values.web.privileged }}\n"
    )
    return chart


def _traced_pod_finding(chart: Path) -> tuple[object, object]:
    group = load_chart(str(chart), HelmOptions())
    findings = check_group(group, select_rules(["KV105"]), Options())
    assert [f.origin.template for f in findings] == ["demo/templates/pod.yaml"]
    stats = trace_chart(group, findings, HelmOptions())
    return findings[0].trace, stats


def test_a_template_a_kept_one_includes_is_kept_in_the_marker_copy(tmp_path: Path):
    chart = _chart_reading_another_templates_output(tmp_path / "demo")
    other = chart / "templates" / "other.yaml"
    other.write_text("kind: Secret\n")
    _empty_others(str(chart), frozenset({"demo/templates/pod.yaml"}))
    assert (chart / "templates" / "config.yaml").read_text().startswith("apiVersion: v1")
    assert other.read_text() == ""
    trace, _stats = _traced_pod_finding(_chart_reading_another_templates_output(tmp_path / "b"))
    assert trace.status == "values"
    assert trace.values_keys == ("web.privileged",)


def test_the_whole_chart_is_traced_when_the_emptied_copy_fails(tmp_path: Path, monkeypatch):
    # As if the include were not seen: the copy's plain render fails on the empty output.
    monkeypatch.setattr("kubevet.trace.chartcopy._named_in", lambda file, texts: False)
    trace, stats = _traced_pod_finding(_chart_reading_another_templates_output(tmp_path / "c"))
    assert trace.status == "values"
    assert trace.values_keys == ("web.privileged",)
    assert stats.untraceable == []


def _chart_hashing_a_template(root: Path) -> Path:
    """A pod whose checksum annotation hashes a Secret template that checks a value the
    markers replace (and, like harbor's, would make TLS keys on every render)."""
    chart = _chart(root)
    (chart / "values.yaml").write_text(yaml.safe_dump({"web": {"privileged": True}}))
    (chart / "templates" / "secret.yaml").write_text(
        '{{- if not (kindIs "bool" .Values.web.privileged) }}'
        '{{ fail "web.privileged must be true or false" }}{{ end }}\n'
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
        '{{- $ca := genCA "demo-ca" 365 }}\ndata:\n  ca.crt: {{ $ca.Cert | b64enc }}\n'
    )
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
        '    checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . '
        "| sha256sum }}\nspec:\n  containers:\n  - name: web\n    image: nginx:1.25\n"
        "    securityContext:\n      privileged: {{ .Values.web.privileged }}\n"
    )
    return chart


def test_a_template_a_kept_one_only_hashes_is_emptied_in_the_marker_copy(tmp_path: Path):
    chart = _chart_hashing_a_template(tmp_path / "demo")
    _empty_others(str(chart), frozenset({"demo/templates/pod.yaml"}))
    assert (chart / "templates" / "secret.yaml").read_text() == ""
    # Read as well as hashed: kept.
    chart = _chart_hashing_a_template(tmp_path / "b")
    pod = chart / "templates" / "pod.yaml"
    pod.write_text(
        pod.read_text() + "    env:\n    - name: S\n      value: {{ include (print "
        '$.Template.BasePath "/secret.yaml") . | fromYaml | dig "kind" "" | quote }}\n'
    )
    _empty_others(str(chart), frozenset({"demo/templates/pod.yaml"}))
    assert (chart / "templates" / "secret.yaml").read_text().startswith("{{- if")


def test_a_marker_breaking_only_a_hashed_template_is_still_traced(tmp_path: Path):
    trace, stats = _traced_pod_finding(_chart_hashing_a_template(tmp_path / "demo"))
    assert trace.status == "values"
    assert trace.values_keys == ("web.privileged",)
    assert stats.untraceable == []
