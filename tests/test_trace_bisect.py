"""Marker renders that fail are split by what the failure names, so that few renders
isolate the keys that break templates (kubevet.trace.blame, trace.render.parse_render)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubevet.context import Options
from kubevet.engine import check_group
from kubevet.rules.registry import select_rules
from kubevet.sources.helm import HelmOptions, load_chart
from kubevet.trace import blame, markers, trace_chart
from kubevet.trace.markers import Mutation
from kubevet.trace.render import ChartRenderer, parse_render

ENV = [f"e{i}" for i in range(12)]


def _chart(root: Path, values: dict[str, Any], pod: str, extra: str = "") -> Path:
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 1.0.0\n")
    (root / "values.yaml").write_text(yaml.safe_dump(values))
    (root / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n" + pod
    )
    if extra:
        (root / "templates" / "extra.yaml").write_text(extra)
    return root


def _collect(chart: Path) -> tuple[markers.Landings, int]:
    with ChartRenderer(str(chart), HelmOptions(), validate=False) as renderer:
        got = markers.collect(renderer, renderer.merged_values({}))
        return got, renderer.count


@pytest.mark.parametrize(
    ("text", "named"),
    [  # not a leaf's plain marker, far above or next to it
        (
            "kind: Pod\nmetadata:\n  name: zqv1q\nspec:\n  containers:\n  - name: app\n"
            "    env:\n    - {name: A, value: zqv2q}\n  zqk3q: zqi3q\n  - name: zqv4q\n",
            {3},
        ),
        # an empty string printed where keys stand (`{{ .Values.extra }}` on its own
        # line): as a marker it is a bare scalar in a map
        (
            "kind: Pod\nmetadata:\n  name: zqv1q\nspec:\n  containers:\n  - name: app\n"
            "    image: zqv2q\n    zqv5q\n    ports: []\n",
            {5},
        ),
    ],
)
def test_markers_just_above_a_yaml_error_are_named_by_the_render(text: str, named: set[int]):
    rendered = parse_render({"demo/templates/pod.yaml": text})
    assert rendered.errors == 1
    assert rendered.near_errors == named


def test_a_map_pasted_into_a_list_is_isolated_without_halving_the_templates_keys(
    tmp_path: Path,
):
    # `extraContainers` (a map here) rendered into the list of containers: its injected
    # key breaks the YAML. Twelve other keys of the same template are innocent.
    values = {"env": {k: f"value-{k}" for k in ENV}, "extraContainers": {}}
    env = "".join(f"      - name: {k}\n        value: {{{{ .Values.env.{k} }}}}\n" for k in ENV)
    pod = (
        "  containers:\n    - name: app\n      image: nginx:1.25\n      env:\n" + env
        + "  {{- with .Values.extraContainers }}\n  {{- toYaml . | nindent 4 }}\n  {{- end }}\n"
    )  # fmt: skip
    landings, renders = _collect(_chart(tmp_path / "demo", values, pod))
    assert [m.path for m in landings.failed] == [("extraContainers",)]
    assert len(landings.leaves) == len(ENV)  # every env value landed
    # plain + the batch + (rest, suspect) + the one-item list probe of nothing: no halving
    assert renders <= 4


def test_a_charts_own_failure_message_names_the_switch_that_broke_it(tmp_path: Path):
    # `tls` switched on fails the chart's own check; its message names "TLS".
    values = {
        "web": {"privileged": True},
        "tls": {"enabled": False, "certFilename": ""},
        **{k: {"enabled": False, "size": 1} for k in ENV},
    }
    pod = (
        "  containers:\n  - name: app\n    image: nginx:1.25\n    securityContext:\n"
        "      privileged: {{ .Values.web.privileged }}\n"
    )
    check = (
        "{{- if and .Values.tls.enabled (not .Values.tls.certFilename) }}\n"
        '{{- fail "Certificate filename is required when TLS is enabled" }}\n{{- end }}\n'
        + "".join(f"{{{{ with .Values.{k} }}}}# {{{{ .size }}}}{{{{ end }}}}\n" for k in ENV)
    )
    landings, renders = _collect(_chart(tmp_path / "demo", values, pod, check))
    assert [(m.path, m.enable) for m in landings.failed] == [(("tls",), True)]
    assert renders <= 7  # halving the 13 switches took 13


def test_a_suspect_named_in_the_failure_is_first_in_the_templates_own_scope():
    scopes = blame.Scopes(["demo/templates/a.yaml", "demo/charts/db/templates/b.yaml"])
    part = [
        Mutation(1, "inject", ("global", "gitaly", "tls"), True),
        Mutation(2, "inject", ("db", "tls"), True),
        Mutation(3, "inject", ("tls",), True),
        Mutation(4, "inject", ("db", "metrics"), True),
    ]
    why = blame.from_error(
        "execution error at (demo/charts/db/templates/b.yaml:3:4): "
        "Certificate Key filename is required when TLS in enabled"
    )
    assert blame.split(part, why, scopes)[1] == [part[1]]  # `db.tls`, not the root's
    rest = [m for m in part if m.n != 2]
    assert blame.split(rest, why, scopes)[1] == [part[0]]  # then the globals it sees


def test_a_global_copy_in_another_subchart_is_not_seen_by_a_template():
    scopes = blame.Scopes(["demo/templates/a.yaml", "demo/charts/db/templates/b.yaml"])
    assert scopes.owns(("db",), ("global", "x"))
    assert scopes.owns(("db",), ("db", "global", "x"))
    assert not scopes.owns(("db",), ("cache", "global", "x"))  # `cache`'s own copy
    assert not scopes.owns(("db",), ("global", "x"), globals=False)


def test_a_key_missing_from_the_values_is_made_up_only_when_named_like_a_finding(
    tmp_path: Path,
):
    values = {"web": {"privileged": True}}
    pod = (
        "  containers:\n  - name: app\n    image: nginx:1.25\n    securityContext:\n"
        "      privileged: {{ .Values.web.privileged }}\n"
        "      {{- with .Values.containerSecurityContext }}{{ toYaml . | nindent 6 }}"
        "{{- end }}\n"
    )
    # `debug` is read as a map where none is allowed: a made-up map breaks the chart.
    pod += '{{- with .Values.debug }}{{ fail "debug is not supported" }}{{ end }}\n'
    chart = _chart(tmp_path / "demo", values, pod)
    group = load_chart(str(chart), HelmOptions())
    findings = check_group(group, select_rules(["KV105", "KV106"]), Options())
    stats = trace_chart(group, findings, HelmOptions())
    assert stats.untraceable == []  # `debug` is named like no finding's field: not made up
    kv106 = next(f for f in findings if f.code == "KV106")
    assert kv106.trace.values_keys == ("containerSecurityContext.allowPrivilegeEscalation",)


def test_a_missing_map_is_made_up_when_any_step_of_its_path_is_named_like_a_finding():
    from kubevet.model import K8sObject, Origin
    from kubevet.trace.wanted import Wanted

    spec = {"containers": [{"name": "app", "securityContext": {}}]}
    obj = K8sObject({"kind": "Pod", "spec": spec}, Origin("x.yaml", 1))
    wanted = Wanted([(obj, ("spec", "containers", 0, "securityContext", "runAsNonRoot"))])
    # consul: `server.containerSecurityContext.server: null`, rendered with toYaml
    assert wanted.made_up(("server", "containerSecurityContext", "server"))
    assert not wanted.made_up(("server", "debug"))


def test_the_values_path_a_failing_line_ranges_over_is_suspected_before_field_names(
    tmp_path: Path,
):
    chart = _chart(tmp_path / "demo", {}, "  containers: []\n")
    (chart / "templates" / "_env.tpl").write_text(
        '{{- define "env" }}\n{{- if .Values.envVars }}\n{{- range .Values.envVars }}\n'
        "- name: {{ .name }}\n{{- end }}\n{{- end }}\n{{- end }}\n"
    )
    why = blame.from_error(
        'template: demo/templates/pod.yaml:5:3: executing "demo/templates/pod.yaml" at '
        '<include "env" .>: error calling include: template: demo/templates/_env.tpl:4:11: '
        'executing "env" at <.name>: can\'t evaluate field name in type interface {}',
        str(chart),
    )
    part = [
        Mutation(1, "leaf", ("web", "name")),
        Mutation(2, "create", ("envVars",)),
        Mutation(3, "leaf", ("db", "name")),
        Mutation(4, "leaf", ("db", "host")),
    ]
    assert blame.split(part, why, blame.Scopes(["demo/templates/pod.yaml"]))[1] == [part[1]]


def test_a_few_suspects_named_together_are_rendered_one_by_one_at_once(tmp_path: Path):
    # `gt`/`lt` on a marker fails, naming both keys of the failing line; `port` (also a
    # number, so in the same batch) is innocent. Rendered as a pair, the suspects failed
    # and were split again: a render more.
    values = {"replicas": 3, "minimum": 2, "port": 8080, "env": {k: f"v-{k}" for k in ENV}}
    pod = (
        "  containers:\n  - name: app\n    image: nginx:1.25\n"
        "    ports:\n    - containerPort: {{ .Values.port }}\n"
        "    env:\n    - name: BIG\n"
        "      value: {{ if and (gt .Values.replicas 1.0) (lt .Values.minimum 5.0) }}on{{ end }}\n"
        + "".join(f"    - name: {k}\n      value: {{{{ .Values.env.{k} }}}}\n" for k in ENV)
    )  # fmt: skip
    landings, renders = _collect(_chart(tmp_path / "demo", values, pod))
    assert sorted(m.path for m in landings.failed) == [("minimum",), ("replicas",)]
    assert len(landings.leaves) == len(ENV) + 1  # the env values and the port
    # plain, the strings, the numbers, then `port` with each suspect alone (was: `port`
    # and the pair, then each suspect alone)
    assert renders == 6
    part = [Mutation(n, "leaf", (name,)) for n, name in enumerate(["a", "b", "c", "d", "e"])]
    why = blame.Blame(refs={("b",), ("d",)})
    assert blame.split(part, why, blame.Scopes([])) == [
        [part[0], part[2], part[4]],
        [part[3]],
        [part[1]],
    ]
    why = blame.Blame(refs={("a",), ("b",), ("c",), ("d",)})  # more: one part, as before
    assert blame.split(part, why, blame.Scopes([])) == [[part[4]], part[:4]]


def test_a_map_whose_key_the_template_writes_twice_is_named_by_the_duplicate_key(
    tmp_path: Path,
):
    # `labels:` written again for values that are set: the injected key stands on the
    # line below the duplicate (the YAML error's line), where the render now looks too
    values = {"labels": {}, "env": {k: f"v-{k}" for k in ENV}}
    pod = (
        "  containers:\n  - name: app\n    image: nginx:1.25\n    env:\n"
        + "".join(f"    - name: {k}\n      value: {{{{ .Values.env.{k} }}}}\n" for k in ENV)
    )  # fmt: skip
    chart = _chart(tmp_path / "demo", values, pod)
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: web\n"
        "{{- if .Values.labels }}\n  labels: {{- toYaml .Values.labels | nindent 4 }}\n"
        "{{- end }}\nspec:\n" + pod
    )
    landings, renders = _collect(chart)
    assert [m.path for m in landings.failed] == [("labels",)]
    assert len(landings.leaves) == len(ENV)
    assert renders == 3  # plain, the batch, the rest (was: halving, 10; then the map alone)


def test_the_one_key_a_failure_names_is_taken_as_broken_without_a_render_alone(
    tmp_path: Path, monkeypatch
):
    # `gt` on a marker fails at the line naming `.Values.replicas` and nothing else: the
    # key broke the template; rendering it alone only confirmed it (24 of 24 on the corpus)
    values = {"replicas": 3, "port": 8080, "env": {k: f"v-{k}" for k in ENV}}
    pod = (
        "  containers:\n  - name: app\n    image: nginx:1.25\n"
        "    ports:\n    - containerPort: {{ .Values.port }}\n"
        "    env:\n    - name: MANY\n"
        "      value: {{ if gt .Values.replicas 1.0 }}yes{{ end }}\n"
        + "".join(f"    - name: {k}\n      value: {{{{ .Values.env.{k} }}}}\n" for k in ENV)
    )  # fmt: skip
    chart = _chart(tmp_path / "demo", values, pod)
    landings, renders = _collect(chart)
    assert [m.path for m in landings.failed] == [("replicas",)]
    assert len(landings.leaves) == len(ENV) + 1  # the env values and the port
    part = [Mutation(n, "leaf", (name,)) for n, name in enumerate(["a", "b", "c"])]
    split = blame.split(part, blame.Blame(refs={("b",)}), blame.Scopes([]))
    assert split == [[part[0], part[2]], [part[1]]]
    assert isinstance(split[1], blame.Named)
    # a weaker hint (a field name the failure mentions) is still rendered alone
    split = blame.split(part, blame.Blame(names={"b"}), blame.Scopes([]))
    assert not isinstance(split[1], blame.Named)
    monkeypatch.setattr(blame, "NAMED_TIERS", 0)  # rendered alone, as before
    again, confirmed = _collect(chart)
    assert [m.path for m in again.failed] == [("replicas",)]
    assert again.leaves == landings.leaves
    assert renders == confirmed - 1


def test_the_marker_closest_above_a_yaml_error_is_named_alone():
    # a map pasted as a list item (its value on a line of its own) two lines above the
    # error; another map's key, innocent, on the line above it
    text = (
        "kind: Pod\nspec:\n  containers:\n  - name: app\n    securityContext:\n"
        "      zqk4q: zqi4q\n  - name: zqk5q\n    zqi5q\n  dnsPolicy: ClusterFirst\n"
    )
    rendered = parse_render({"demo/templates/pod.yaml": text})
    assert rendered.errors == 1
    assert rendered.near_errors == {4, 5} and rendered.nearest_errors == {5}
    # two markers on the closest line: neither stands alone
    rendered = parse_render({"demo/templates/pod.yaml": text.replace("zqi5q", "zqi5q zqk4q")})
    assert rendered.errors == 1 and not rendered.nearest_errors
    part = [Mutation(4, "inject", ("a",)), Mutation(5, "inject", ("b",)), _leaf(6)]
    why = blame.from_render({"demo/templates/pod.yaml"}, None, {4, 5}, {5})
    rest, first = blame.split(part, why, blame.Scopes(["demo/templates/pod.yaml"]))
    assert isinstance(first, blame.Named) and first == [part[1]] and rest == [part[0], part[2]]
    why = blame.from_render({"demo/templates/pod.yaml"}, None, {4, 5})  # none alone
    split = blame.split(part, why, blame.Scopes(["demo/templates/pod.yaml"]))
    assert not any(isinstance(p, blame.Named) for p in split) and len(split) == 3


def test_each_yaml_error_names_the_marker_alone_closest_to_it():
    # two templates broken by two maps at once (prometheus: the server's sidecars and the
    # pushgateway's labels): both are named, the rest rendered once
    texts = {
        "demo/templates/a.yaml": "kind: Pod\nspec:\n  containers:\n  - name: zqk1q\n"
        "    zqi1q\n  dnsPolicy: x\n",
        "demo/templates/b.yaml": "kind: Service\nspec:\n  ports:\n  - port: 80\n"
        "  zqk2q: zqi2q\n  - port: 81\n",
    }
    rendered = parse_render(texts)
    assert rendered.errors == 2 and rendered.nearest_errors == {1, 2}
    part = [Mutation(1, "inject", ("a",)), Mutation(2, "inject", ("b",)), _leaf(3)]
    why = blame.from_render(set(texts), None, rendered.near_errors, rendered.nearest_errors)
    rest, first = blame.split(part, why, blame.Scopes(texts))
    assert isinstance(first, blame.Named) and first == part[:2] and rest == [part[2]]


def test_the_very_path_a_failing_line_reads_comes_before_the_map_above_it():
    part = [Mutation(1, "inject", ("agent", "image")), _m(2, "agent", "image", "tag"), _leaf(3)]
    why = blame.Blame(above={("agent", "image", "tag")})
    rest, first = blame.split(part, why, blame.Scopes([]))
    assert isinstance(first, blame.Named) and first == [part[1]] and len(rest) == 2
    # a path under both (neither is the very one): each is rendered alone
    why = blame.Blame(above={("agent", "image", "tag", "x")})
    split = blame.split(part, why, blame.Scopes([]))
    assert not any(isinstance(p, blame.Named) for p in split) and len(split) == 3


def _m(n: int, *path: str) -> Mutation:
    return Mutation(n, "leaf", tuple(path))


def _leaf(n: int) -> Mutation:
    return Mutation(n, "leaf", (f"k{n}",))
