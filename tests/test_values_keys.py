"""A user's values key that changes nothing (a typo) is named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubevet.cli import main
from kubevet.sources.valuekeys import _values_dumped, unused_keys

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      {{- with .Values.podSecurityContext }}
      securityContext: {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
      - name: web
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
        env:
        - name: GREETING
          value: {{ tpl .Values.greeting . | quote }}
"""


def _chart(root: Path, name: str = "app", templates: str = DEPLOYMENT, deps: str = "") -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n{deps}")
    (chart / "values.yaml").write_text(
        "replicaCount: 1\nimage: {repository: nginx, tag: '1.27'}\npodSecurityContext: {}\n"
        "greeting: hello\n"
    )
    (chart / "templates" / "deployment.yaml").write_text(templates)
    return chart


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    parent = _chart(tmp_path, deps="dependencies:\n- name: cache\n  condition: cache.enabled\n")
    sub = _chart(parent / "charts", "cache", "kind: ConfigMap\n{{ .Values.size }}\n")
    (sub / "values.yaml").write_text("size: 1\n")
    return parent


def test_typos_are_named_at_their_line_and_real_keys_are_not(chart, tmp_path, capsys):
    values = tmp_path / "values-prod.yaml"
    values.write_text(
        "replicaCount: 2\n"
        "replicaCout: 3\n"  # typo, top level
        "image:\n  tag: '1.28'\n  tagg: '1.29'\n"  # typo under a map read by name
        "podSecurityContext:\n  runAsUser: 1000\n"  # under a map passed whole: read
        "cache:\n  enabled: false\n  sise: 2\n"  # a condition, and a subchart typo
        "global: {anything: 1}\n"
        "greeting: '{{ .Values.motd }}'\nmotd: hi\n"  # read by the chart's tpl of a value
    )
    main(["check", str(chart), "-f", str(values), "--no-trace", "-q"])
    err = capsys.readouterr().err
    warned = [
        line.split(": values key ")[1].split(" ")[0]
        for line in err.splitlines()
        if "values key" in line
    ]
    assert warned == ["'replicaCout'", "'image.tagg'", "'cache.sise'"]
    assert f"{values}:2: values key 'replicaCout' is neither a key of the chart's" in err
    assert f"{values}:5: values key 'image.tagg'" in err


def test_set_keys_are_checked_too(chart, capsys):
    main(["check", str(chart), "--set", "replicaCout=3", "--no-trace", "-q"])
    assert "--set: values key 'replicaCout'" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--set", "--set-string"])
@pytest.mark.parametrize("expr", ["a[", "=3", ".replicaCount=3", "a[0"])
def test_a_set_expression_that_sets_nothing_is_an_error_not_a_silent_pass(
    chart, capsys, flag, expr
):
    """Helm drops these without a word; a gate would then pass on values never given."""
    assert main(["check", str(chart), flag, expr, "--no-trace", "-q"]) == 2
    assert f"{flag}: bad expression {expr!r}: it sets no value" in capsys.readouterr().err


def test_an_empty_set_expression_is_no_error(chart, capsys):
    """`--set "$EXTRA"` with an empty variable sets nothing, as for Helm."""
    main(["check", str(chart), "--set", "", "--no-trace", "-q"])
    assert "bad expression" not in capsys.readouterr().err


def test_a_chart_that_dumps_its_values_whole_gets_no_warning(tmp_path):
    chart = _chart(tmp_path, templates=DEPLOYMENT + "# {{ toYaml .Values }}\n")
    assert unused_keys(str(chart), {"anything": 1}) == []
    assert unused_keys(str(_chart(tmp_path / "b")), {"anything": 1}) == [("anything",)]


@pytest.mark.parametrize(
    ("text", "dumped"),
    [
        ("{{ toYaml .Values }}", True),
        ("{{ .Values | toJson }}", True),
        ("{{ range $k, $v := .Values }}", True),
        ("{{ mustToYaml (.Values) }}", True),
        ("{{ toYaml $.Values }}", True),
        ('{{ include "x" (dict "root" .Values) }}', False),
        ("{{ toYaml .Values.resources }}", False),
    ],
)
def test_what_counts_as_dumping_the_values(text, dumped):
    assert _values_dumped(text) == dumped


def test_reports_point_at_the_key(chart, tmp_path, capsys, monkeypatch):
    """GitHub annotations and SARIF notifications carry the values file and line."""
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "prod.yaml").write_text("replicaCount: 2\nreplicaCout: 3\n")
    main(["check", str(chart), "-f", "prod.yaml", "--no-trace", "--format", "github"])
    out = capsys.readouterr().out
    assert "::warning file=prod.yaml,line=2,title=kubevet warning::values key 'replicaCout'" in out
    main(["check", str(chart), "-f", "prod.yaml", "--no-trace", "--format", "sarif"])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    (note,) = [n for n in notes if "replicaCout" in n["message"]["text"]]
    region = note["locations"][0]["physicalLocation"]
    assert (region["artifactLocation"]["uri"], region["region"]["startLine"]) == ("prod.yaml", 2)


def test_nothing_is_read_through_a_link(tmp_path):
    """A link out of the chart is never followed (the render refuses to read it too)."""
    outside = tmp_path / "outside.txt"
    outside.write_text("secretKey\n")
    chart = _chart(tmp_path / "c")
    (chart / "templates" / "notes.txt").symlink_to(outside)
    assert unused_keys(str(chart), {"secretKey": 1}) == [("secretKey",)]


KEYS = st.sampled_from(["replicaCount", "image", "tag", "tagg", "global", "cache", "x", 1, ""])
VALUES = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda inner: st.dictionaries(KEYS, inner, max_size=4) | st.lists(inner, max_size=2),
    max_leaves=12,
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(KEYS, VALUES, max_size=5))
def test_any_values_give_paths_they_hold_and_no_error(chart, user):
    for path in unused_keys(str(chart), user):
        node = user
        for part in path:
            assert isinstance(node, dict) and part in node
            node = node[part]
        assert path[-1] not in ("replicaCount", "image", "tag")  # named by the templates
        assert path[0] != "global"  # shared with every subchart: never reported


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["set_values", "set_string_values", "set_json_values"]),
    expr=st.text(alphabet="ab.[]=,0 {}\"'\\:-", max_size=12),
)
def test_any_set_expression_gives_values_that_set_something_or_a_named_error(kind, expr):
    from kubevet.findings import InputError
    from kubevet.sources.helm import user_values
    from kubevet.sources.helmoptions import HelmOptions

    try:
        values = user_values(HelmOptions(**{kind: [expr]}))
    except InputError as err:
        assert err.file.startswith("--set") and "bad expression" in err.message
        return
    assert isinstance(values, dict)
    assert values or not expr.strip()
