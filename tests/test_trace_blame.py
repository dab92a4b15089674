"""Marker renders that break a template: finding the culprits in few renders."""

from __future__ import annotations

from typing import Any

from conftest import FIXTURES

from kubevet.sources.helm import HelmOptions
from kubevet.trace import blame, markers
from kubevet.trace.markers import Mutation
from kubevet.trace.refs import template_refs
from kubevet.trace.render import ChartRenderer

FRAGILE = FIXTURES / "trace" / "fragile"


def _m(n: int, *path: str) -> Mutation:
    return Mutation(n, "leaf", tuple(path))


def test_scope_of_a_template_is_its_subchart_key_path():
    assert blame.scope_of("top/templates/a.yaml") == ()
    assert blame.scope_of("top/charts/a/charts/b/templates/x/y.yaml") == ("a", "b")


def test_scopes_see_their_own_values_and_globals_only():
    scopes = blame.Scopes(["top/templates/a.yaml", "top/charts/db/templates/p.yaml"])
    assert scopes.owns(("db",), ("db", "architecture"))
    assert scopes.owns(("db",), ("global", "image"))
    assert not scopes.owns(("db",), ("kind",))
    assert scopes.owns((), ("kind",))
    assert not scopes.owns((), ("db", "architecture"))  # the subchart's, not the parent's
    assert scopes.global_copy(("db", "global", "image"))
    assert not scopes.global_copy(("global", "image"))


def test_error_text_names_markers_templates_lines_and_quoted_paths(tmp_path):
    chart = tmp_path / "top"
    (chart / "charts" / "db" / "templates").mkdir(parents=True)
    (chart / "charts" / "db" / "templates" / "p.yaml").write_text(
        'a: 1\nb: {{ semverCompare ">=1" .Values.version }}\n'
    )
    text = (
        "template: top/charts/db/templates/p.yaml:2:5: executing ... at <.Values.mode>: "
        "bad zqv17q; make sure to set `global.psql.ssl.secret`"
    )
    got = blame.from_error(text, str(chart))
    assert got.templates == {"top/charts/db/templates/p.yaml"}
    assert got.markers == {17}
    assert ("db", "version") in got.refs  # from the template line the error points at
    assert ("db", "mode") in got.refs  # from the error itself, in the template's scope
    assert ("global", "psql", "ssl", "secret") in got.refs
    assert "mode" in got.names


def test_a_variable_the_error_names_is_traced_to_the_values_it_was_given(tmp_path):
    chart = tmp_path / "top"
    (chart / "templates").mkdir(parents=True)
    lines = [
        '{{- define "check" -}}',
        "{{- $version := .Values.agent.image.tag | toString -}}",
        "{{- $other := .Values.unrelated -}}",
        *["{{- /* far below its assignment */ -}}"] * 4,
        '{{- if not (semverCompare ">=1.20.0-0" $version) -}}{{ fail "old" }}{{- end -}}',
        "{{- end -}}",
    ]
    (chart / "templates" / "_helpers.tpl").write_text("\n".join(lines) + "\n")
    text = (
        'template: top/templates/_helpers.tpl:8:12: executing "check" at <semverCompare '
        '">=1.20.0-0" $version>: error calling semverCompare: invalid semantic version'
    )
    got = blame.from_error(text, str(chart))
    assert got.above == {("agent", "image", "tag")}  # more than ABOVE lines up, not $other
    assert not got.refs


def test_split_sets_the_suspects_apart_strongest_hint_first():
    scopes = blame.Scopes(["top/templates/a.yaml", "top/charts/db/templates/p.yaml"])
    part = [_m(1, "kind"), _m(2, "db", "architecture"), _m(3, "db", "image"), _m(4, "image")]
    rest, first = blame.split(part, blame.Blame(markers={3}), scopes)
    assert first == [part[2]] and rest == [part[0], part[1], part[3]]
    why = blame.Blame(templates={"top/charts/db/templates/p.yaml"})
    rest, *first = blame.split(part, why, scopes)  # only the db scope is suspect,
    assert first == [[part[2]], [part[1]]]  # each alone (a few suspects: see SOLO)
    rest, first = blame.split(part, blame.Blame(), scopes)  # nothing named: halves
    assert len(rest) == 2 and len(first) == 2


def _collect(user: dict) -> tuple[int, Any]:
    with ChartRenderer(str(FRAGILE), HelmOptions(), validate=False) as renderer:
        values = renderer.merged_values(user)
        landings = markers.collect(renderer, values, template_refs(str(FRAGILE)))
        return renderer.count, landings


def test_breaking_keys_are_isolated_and_the_rest_still_lands():
    _, landings = _collect({})
    failed = {".".join(map(str, m.path)) for m in landings.failed}
    # a `fail` on the value, a version compare, an `eq` that hides the object, an enum check
    assert failed == {"mode", "minVersion", "kind", "db.architecture"}
    maps = {".".join(m.path) for m in landings.maps.values()}
    assert {"securityContext", "db.securityContext"} <= maps
    assert any(p == ("image",) for p in landings.exact.values())


def test_a_missing_key_rendered_into_a_list_is_not_taken_for_a_map():
    # `extraVolumes` is not in values.yaml; as a map its marker key lands in the pod spec
    _, landings = _collect({})
    assert not any(m.path == ("extraVolumes",) for m in landings.maps.values())


def test_what_the_failure_names_takes_fewer_renders_than_halving(monkeypatch):
    many = {f"k{i}": f"v{i}" for i in range(300)}  # harmless keys among the breaking ones
    user = {"extra": many, "db": {"extra": many}}
    guided, landings = _collect(user)
    monkeypatch.setattr(blame, "split", lambda part, why, scopes: [part[1::2], part[::2]])
    halving, again = _collect(user)
    assert {m.path for m in landings.failed} == {m.path for m in again.failed}
    assert guided * 2 <= halving, (guided, halving)


def test_notes_txt_is_not_rendered_for_markers():
    with ChartRenderer(str(FRAGILE), HelmOptions(), validate=False) as renderer:
        texts = renderer.render({"mode": "zqv1q"} | renderer.merged_values({})).texts
        assert not any(name.endswith("NOTES.txt") for name in renderer.templates)
    assert texts  # the workload's own `fail` on mode is in workload.yaml, not in NOTES


def test_a_subchart_named_by_its_alias_is_found_in_its_own_directory(tmp_path):
    (tmp_path / "Chart.yaml").write_text(
        "apiVersion: v2\nname: top\nversion: 1.0.0\n"
        "dependencies:\n  - name: cert-manager\n    version: 1.0.0\n    alias: certmanager\n"
    )
    (tmp_path / "charts" / "cert-manager" / "templates").mkdir(parents=True)
    got = blame.template_file(str(tmp_path), "top/charts/certmanager/templates/x.yaml")
    assert got == str(tmp_path / "charts" / "cert-manager" / "templates" / "x.yaml")


def _helpers_chart(tmp_path: Any, *lines: str) -> str:
    chart = tmp_path / "top"
    (chart / "templates").mkdir(parents=True)
    (chart / "templates" / "_helpers.tpl").write_text("\n".join(lines) + "\n")
    return str(chart)


def test_a_field_under_a_with_block_is_read_as_the_values_path_it_sets(tmp_path):
    chart = _helpers_chart(
        tmp_path,
        "{{- with .Values.app.config }}",
        "host: {{ .host }}",
        *["# more fields"] * 6,  # farther up than ABOVE
        "enabled: {{ eq .feature.on true }}",
        "{{- end }}",
        "plain: {{ eq .x true }}",
        "{{- range .Values.items }}",
        "name: {{ eq .on true }}",
        "{{- end }}",
    )
    at = 'template: top/templates/_helpers.tpl:{}:13: executing "x" at <eq {} true>: bad'
    got = blame.from_error(at.format(9, ".feature.on"), chart)
    assert ("app", "config", "feature", "on") in got.refs
    # a closed `with` above, and a `range` (the dot is an item): no path
    assert not blame.from_error(at.format(11, ".x"), chart).refs
    assert not blame.from_error(at.format(13, ".on"), chart).refs


def test_a_failure_message_is_traced_to_the_values_on_its_own_line(tmp_path):
    chart = _helpers_chart(
        tmp_path,
        '{{- define "key" -}}',
        "{{- if .Values.tls.enabled }}",
        '{{- required "Key file is required" .Values.tls.keyFile -}}',
        "{{- end }}",
        "{{- end -}}",
    )
    text = "execution error at (top/templates/pod.yaml:3:5): {}"
    got = blame.from_error(text.format("Key file is required"), chart)
    assert got.refs == {("tls", "keyFile")} and got.above == {("tls", "enabled")}
    got = blame.from_error(text.format("Key file is required when set"), chart)
    assert not got.refs and not got.above  # a message the templates do not hold as is


def test_a_global_copy_the_parent_overwrites_is_not_marked():
    scopes = blame.Scopes(["top/charts/a/charts/b/templates/x.yaml"])  # `a`: helpers only
    values = {"global": {"x": 1, "m": {}}, "a": {"global": {"x": 1, "m": {}, "own": 2}}}
    assert scopes.overwritten(("a", "global", "x"), values)
    assert not scopes.overwritten(("a", "global", "own"), values)  # the subchart's alone
    assert not scopes.overwritten(("a", "global", "m"), values)  # maps are merged
    assert not scopes.overwritten(("global", "x"), values)


def test_a_variable_is_traced_to_its_closest_declaration_in_its_define(tmp_path):
    chart = _helpers_chart(
        tmp_path,
        '{{- define "other" -}}{{- $cfg := .Values.elsewhere -}}{{- end -}}',
        '{{- define "job" -}}',
        "{{- range $key, $cfg := .Values.before }}{{ $key }}{{ end }}",
        '{{- $cfg := dict "local" .Values.kubectl.image -}}',
        "{{- if .Values.legacy }}{{- $cfg = merge $cfg .Values.legacy -}}{{- end }}",
        *["{{- /* a long job spec */ -}}"] * 30,  # farther than the old 20 lines
        '{{- include "pullSecrets" $cfg }}',
        "{{- end -}}",
    )
    text = 'template: top/templates/_helpers.tpl:36:4: executing "job" at <include "x" $cfg>: x'
    got = blame.from_error(text, chart)
    # the reassignment and the declaration; not the `range` above it, nor another define
    assert got.above == {("kubectl", "image"), ("legacy",)}


def test_a_vanished_object_suspects_the_values_its_guards_read(tmp_path):
    chart = _helpers_chart(tmp_path)
    (tmp_path / "top" / "templates" / "pdb.yaml").write_text(
        "{{- if gt (.Values.replicas | int) 1 }}\nkind: PodDisruptionBudget\n"
        "spec:\n  minAvailable: {{ .Values.minAvailable }}\n{{- end }}\n"
    )
    template = "top/templates/pdb.yaml"
    part = [_m(1, "minAvailable"), _m(2, "replicas"), _m(3, "other")]
    lost = blame.from_render({template}, chart, lost={template})
    assert lost.guards == {("replicas",)}
    rest, first = blame.split(part, lost, blame.Scopes([template]))
    assert first == [part[1]] and rest == [part[0], part[2]]  # confirmed by a render
    broke = blame.from_render({template}, chart)  # a document that did not parse
    assert not broke.guards and len(blame.split(part, broke, blame.Scopes([template]))) == 3
