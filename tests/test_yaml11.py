"""YAML 1.1 plain scalars give the objects PyYAML's SafeLoader gives, through every path.

Kubernetes decodes manifests with YAML 1.1 rules (go-yaml v2 under sigs.k8s.io/yaml), so
`privileged: True` and `hostNetwork: yes` are booleans and `runAsUser: 0x0` is root. kubevet
parses with rapidyaml (YAML 1.2, fast) and must still read these the 1.1 way; PyYAML's
SafeLoader is the reference. These tests fail when that semantics is lost on any path:
files, stdin, chart renders, and the fast parser itself.
"""

from __future__ import annotations

import io
import json
import math
import sys
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubevet.cli import main
from kubevet.sources import yamldocs
from kubevet.sources.helm import HelmOptions, load_chart
from kubevet.sources.manifests import load_manifest_files, load_stdin

pytestmark = pytest.mark.usefixtures("both_parse_paths")  # each test on both parse paths


class Reference(yaml.CSafeLoader):  # type: ignore[misc]
    """PyYAML's C SafeLoader; timestamps and `=` stay strings, as Kubernetes reads them."""


for _tag in ("tag:yaml.org,2002:value", "tag:yaml.org,2002:timestamp"):
    Reference.add_constructor(_tag, lambda loader, node: loader.construct_scalar(node))


def reference(text: str) -> list[Any]:
    return [d for d in yaml.load_all(text, Loader=Reference) if d is not None]


def typed(value: Any) -> Any:
    """`value` with every scalar tagged by its type: True == 1 and 0.0 == 0 in Python, and
    NaN equals nothing, so plain equality would hide exactly the differences tested here."""
    if isinstance(value, dict):
        return {typed(k): typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


# (field text in a pod, expected rule code or None, what the field must load as)
SECURITY_CASES = [
    ("privileged: True", "KV105", ("securityContext", "privileged", True)),
    ("privileged: yes", "KV105", ("securityContext", "privileged", True)),
    ("privileged: ON", "KV105", ("securityContext", "privileged", True)),
    ("privileged: Yes", "KV105", ("securityContext", "privileged", True)),
    ("privileged: 'yes'", None, ("securityContext", "privileged", "yes")),
    ("privileged: off", None, ("securityContext", "privileged", False)),
    ("runAsUser: 0x0", "KV102", ("securityContext", "runAsUser", 0)),
    ("runAsUser: 00", "KV102", ("securityContext", "runAsUser", 0)),
    ("runAsUser: 0b0", "KV102", ("securityContext", "runAsUser", 0)),
    ("runAsUser: 0_0", "KV102", ("securityContext", "runAsUser", 0)),
    ('runAsUser: "0"', None, ("securityContext", "runAsUser", "0")),
    ("allowPrivilegeEscalation: NO", None, ("securityContext", "allowPrivilegeEscalation", False)),
    ("readOnlyRootFilesystem: On", None, ("securityContext", "readOnlyRootFilesystem", True)),
    ("runAsNonRoot: ~", None, ("securityContext", "runAsNonRoot", None)),
    ("runAsNonRoot: Null", None, ("securityContext", "runAsNonRoot", None)),
]
POD_CASES = [
    ("hostNetwork: yes", "KV123", ("hostNetwork", True)),
    ("hostPID: True", "KV121", ("hostPID", True)),
    ("hostIPC: on", "KV122", ("hostIPC", True)),
    ("hostNetwork: 'on'", None, ("hostNetwork", "on")),
]


def container_pod(name: str, field: str) -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n"
        f"    - name: app\n      image: nginx@sha256:{'a' * 64}\n"
        f"      securityContext:\n        {field}\n"
        f"      volumeMounts:\n        - {{name: v, mountPath: /v}}\n"
        f"  volumes:\n    - name: v\n      secret: {{secretName: s, defaultMode: 0400}}\n"
    )


def pod(name: str, field: str) -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  {field}\n"
        f"  containers:\n    - name: app\n      image: nginx@sha256:{'a' * 64}\n"
    )


def stream() -> str:
    """All cases as one multi-document stream, one pod per case."""
    docs = [container_pod(f"c{i}", f) for i, (f, _, _) in enumerate(SECURITY_CASES)]
    docs += [pod(f"p{i}", f) for i, (f, _, _) in enumerate(POD_CASES)]
    return "---\n".join(docs)


def expected_findings() -> set[tuple[str, str]]:
    out = {(c, f"c{i}") for i, (_, c, _) in enumerate(SECURITY_CASES) if c}
    return out | {(c, f"p{i}") for i, (_, c, _) in enumerate(POD_CASES) if c}


SELECT = "KV102,KV105,KV121,KV122,KV123"


def assert_objects(objects: list[Any], text: str) -> None:
    """The objects equal PyYAML's for `text`, and each case's field loads as it says."""
    got = {o.data["metadata"]["name"]: o.data for o in objects}
    want = {d["metadata"]["name"]: d for d in reference(text)}
    assert {n: typed(d) for n, d in got.items()} == {n: typed(d) for n, d in want.items()}
    for i, (_, _, (section, key, value)) in enumerate(SECURITY_CASES):
        assert typed(got[f"c{i}"]["spec"]["containers"][0][section][key]) == typed(value)
        mode = got[f"c{i}"]["spec"]["volumes"][0]["secret"]["defaultMode"]
        assert typed(mode) == ("int", 0o400)
    for i, (_, _, (key, value)) in enumerate(POD_CASES):
        assert typed(got[f"p{i}"]["spec"][key]) == typed(value), POD_CASES[i][0]


def findings_of(argv: list[str], capsys) -> set[tuple[str, str]]:
    code = main(["check", *argv, "--format", "json", "-j", "1", "--select", SELECT])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["errors"] == [], err
    assert code == 1
    return {(f["code"], f["object"]["name"]) for f in report["findings"]}


def test_file_path_reads_yaml11_scalars(tmp_path, capsys):
    path = tmp_path / "pods.yaml"
    path.write_text(stream())
    group = load_manifest_files(str(path), [str(path)])
    assert group.errors == []
    assert_objects(group.objects, stream())
    assert findings_of([str(path)], capsys) == expected_findings()


def test_stdin_reads_yaml11_scalars(monkeypatch, capsys):
    assert_objects(load_stdin(stream()).objects, stream())
    monkeypatch.setattr(sys, "stdin", io.StringIO(stream()))
    assert findings_of(["-"], capsys) == expected_findings()


def test_chart_render_reads_yaml11_scalars(tmp_path, capsys):
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: y11\nversion: 0.1.0\n")
    # One template per case: Helm writes each template's text out as it is.
    for i, (field, _, _) in enumerate(SECURITY_CASES):
        (chart / "templates" / f"c{i}.yaml").write_text(container_pod(f"c{i}", field))
    for i, (field, _, _) in enumerate(POD_CASES):
        (chart / "templates" / f"p{i}.yaml").write_text(pod(f"p{i}", field))
    group = load_chart(str(chart), HelmOptions())
    assert group.errors == []
    assert len(group.objects) == len(SECURITY_CASES) + len(POD_CASES)
    assert_objects(group.objects, stream())
    assert findings_of([str(chart)], capsys) == expected_findings()


@pytest.mark.parametrize(
    "scalar",
    [
        "True",
        "TRUE",
        "False",
        "yes",
        "Yes",
        "YES",
        "no",
        "NO",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "~",
        "null",
        "Null",
        "NULL",
        "y",
        "n",
        "Y",
        "=",
        "0755",
        "0o755",
        "0x1F",
        "-0x1F",
        "0b101",
        "-0b1",
        "1_000",
        "1__0",
        "1:30",
        "-1:30",
        "190:20:30",
        "1:30.5",
        "12:60",
        ".inf",
        "-.inf",
        "+.inf",
        ".Inf",
        ".NaN",
        ".nan",
        ".NAN",
        "1e3",
        "1.5e3",
        "1.5e+3",
        "1.0",
        ".5",
        "-.5",
        "0.",
        "+5",
        "-0",
        "00",
        "09",
        "007",
        "0_7",
        "2001-12-14",
        "1.2.3",
        "0x",
        "3.14",
        "1e-3",
        "123456789012345678901234567890",
        "0xFFFFFFFFFFFFFFFFFFFF",
        "+0",
        "+0x1",
        "-1_0.5",
        "1_0.5_5",
    ],
)
def test_plain_scalar_loads_as_pyyaml_does(scalar):
    """As a value, a key, a sequence item and a flow item; plain and quoted."""
    text = (
        f"a: {scalar}\n{scalar}: k\nb:\n  - {scalar}\nc: [{scalar}, x]\nd: {{e: {scalar}}}\n"
        f"f: '{scalar}'\ng: \"{scalar}\"\n"
    )
    docs, errors = yamldocs.parse_stream(text, "t.yaml")
    assert errors == []
    assert [typed(d.data) for d in docs] == [typed(d) for d in reference(text)]


# Plain scalars YAML 1.1 reads as something other than a string, and look-alikes.
SPECIALS = st.sampled_from(
    ["True", "TRUE", "false", "False", "yes", "Yes", "NO", "no", "on", "On", "OFF", "off",
     "~", "null", "Null", "NULL", "y", "N", "0755", "0o17", "0x1f", "0b11", "1_000",
     "1:30", ".inf", "-.Inf", ".NaN", "1e3", "1.5e+3", "-0", "00", "09", "+5", "7", "x"]
)  # fmt: skip
# Number-like text of any shape: finds forms the list above misses.
NUMBERISH = st.from_regex(r"\A[-+]?[0-9.][0-9._:eExXoObBaAfF]{0,7}\Z").filter(
    lambda s: not s.endswith(":") and ":." not in s
)
WORDS = st.sampled_from(["app", "nginx", "a b", "true story", "0.5Gi", "100m", "*", "a:b"])
QUOTES = st.sampled_from(["plain", "plain", "plain", "single", "double"])


@st.composite
def scalars(draw: st.DrawFn) -> str:
    text = draw(st.one_of(SPECIALS, NUMBERISH, WORDS))
    style = draw(QUOTES)
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "double":
        return '"' + text + '"'
    return text if text not in ("*", "a:b") else f"'{text}'"


@st.composite
def block(draw: st.DrawFn, indent: int = 0, depth: int = 0) -> str:
    """A block mapping of unique plain keys whose values are scalars, flow collections,
    block sequences or nested mappings."""
    pad = " " * indent
    lines = []
    for i in range(draw(st.integers(1, 4))):
        key = draw(st.one_of(st.just(f"k{i}"), SPECIALS.map(lambda s, i=i: f"k{i}{s}")))
        kind = draw(st.sampled_from(["scalar", "scalar", "flow", "seq", "map"]))
        if kind == "scalar":
            lines.append(f"{pad}{key}: {draw(scalars())}")
        elif kind == "flow":
            items = draw(st.lists(scalars(), max_size=3))
            lines.append(f"{pad}{key}: [{', '.join(items)}]")
        elif kind == "seq" or depth >= 2:
            lines.append(f"{pad}{key}:")
            lines += [f"{pad}  - {s}" for s in draw(st.lists(scalars(), min_size=1, max_size=3))]
        else:
            lines.append(f"{pad}{key}:")
            lines.append(draw(block(indent + 2, depth + 1)))
    return "\n".join(lines)


FLAGS = st.sampled_from(["True", "yes", "0x0", "true", "false"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(block(), min_size=1, max_size=3), FLAGS)
def test_fast_path_matches_pyyaml_on_generated_documents(bodies, flag):
    docs = [
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  hostNetwork: {flag}\n" + body
        for i, body in enumerate(bodies)
    ]
    text = "---\n".join(d + "\n" for d in docs)
    try:
        expected = reference(text)
    except yaml.YAMLError:
        return  # not valid YAML 1.1 (a generated form PyYAML refuses): nothing to compare
    except ValueError:  # a scalar PyYAML resolves as an int but cannot build (`0x_`)
        assert yamldocs.parse_stream(text, "gen.yaml")[1], "kubevet must report it, not crash"
        return
    parsed, errors = yamldocs.parse_stream(text, "gen.yaml")
    assert errors == []
    assert [typed(d.data) for d in parsed] == [typed(d) for d in expected]
    for doc in docs:  # the fast path alone, document by document
        fast, _shallow = yamldocs._parse_fast(doc, 1)
        if fast is not None:
            assert [typed(d.data) for d in fast] == [typed(d) for d in reference(doc)]


def test_yaml11_scalars_stay_on_the_fast_path():
    """The YAML 1.1 pass, not a PyYAML fallback, handles them: this is what keeps the parse
    fast on real charts (octal `defaultMode`, `True` flags)."""
    text = stream().split("---\n")[0] + "".join(f"x{i}: {s}\n" for i, s in enumerate(FAST_SCALARS))
    text += "".join(f"{s}: key{i}\n" for i, s in enumerate(FAST_KEYS))
    fast, shallow = yamldocs._parse_fast(text, 1)
    assert fast is not None and shallow
    assert [typed(d.data) for d in fast] == [typed(d) for d in reference(text)]


# Forms whose JSON cannot carry the YAML 1.1 answer go to PyYAML instead: `+5`, `-.5`, `1e3`.
FAST_SCALARS = [
    "True", "TRUE", "False", "yes", "Yes", "NO", "on", "Off", "~", "Null", "NULL", "0755",
    "0x1F", "0b101", "1_000", "1:30", "190:20:30", ".inf", "-.inf", ".NaN", "inf", "nan",
    "00", "09", "-0", "1.0", "0.", ".5", "7", "0o755", "2001-12-14", "=",
]  # fmt: skip
FAST_KEYS = ["True", "no", "~", "0755", "0x1F", "1:30", ".inf", "nan", "7", "=", "2001-12-14"]


@pytest.mark.parametrize("scalar", ["0x_", "0b_", "-0x_", "+0b_"])
def test_ints_pyyaml_resolves_but_cannot_build_are_input_errors(scalar):
    """PyYAML's resolver calls these ints and its constructor then fails: one input error
    naming the file and line, never a crash."""
    docs, errors = yamldocs.parse_stream(f"apiVersion: v1\nkind: Pod\nx: {scalar}\n", "bad.yaml")
    assert docs == [] and len(errors) == 1
    assert str(errors[0]).startswith("bad.yaml:")


@pytest.mark.parametrize("scalar", ["0x_", "0b_", "True", "0755", "1:30", "~"])
def test_quoted_look_alikes_stay_strings_on_the_fast_path(scalar):
    """A quoted scalar keeps its text, whatever YAML 1.1 would read were it plain: its plain
    reading is not worked out (not even where PyYAML could not build it, `0x_`), and the
    fast path gives PyYAML's objects."""
    text = f"apiVersion: v1\nkind: Pod\na: '{scalar}'\nb: [\"{scalar}\"]\n'{scalar}': k\n"
    fast, shallow = yamldocs._parse_fast(text, 1)
    assert fast is not None and shallow
    assert [typed(d.data) for d in fast] == [typed(d) for d in reference(text)]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(SPECIALS, NUMBERISH, WORDS), min_size=1, max_size=6))
def test_data_and_config_loads_give_pyyaml_objects(values):
    """load_one (data tables, read on every run) takes the rapidyaml fast path: the same
    typed objects as PyYAML's loader for every YAML 1.1 scalar, in keys and values."""
    from kubevet.sources.yamlload import load_one as pyyaml_load

    text = "".join(f"k{i}: {v}\nl{i}: [{v}]\n" for i, v in enumerate(values))
    try:
        expected = pyyaml_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: `0b_` resolves as an int
        with pytest.raises(type(exc)):  # that int() refuses; the same on both paths
            yamldocs.load_one(text)
        return
    assert typed(yamldocs.load_one(text)) == typed(expected)


def test_a_bare_star_is_refused_as_pyyaml_refuses_it():
    """rapidyaml reads a bare `*` as an alias with no name and its JSON says "*", which the
    fast path took for the string: PyYAML (and so the report) says the YAML is invalid."""
    docs, errors = yamldocs.parse_stream("kind: Pod\nspec:\n  hostNetwork: *\n", "p.yaml")
    assert docs == [] and [e.line for e in errors] == [3]
    assert "invalid YAML" in errors[0].message
    quoted, ok = yamldocs.parse_stream('rules: [{verbs: ["*"]}]\n', "r.yaml")
    assert ok == [] and quoted[0].data == {"rules": [{"verbs": ["*"]}]}


@pytest.mark.parametrize(
    "text",
    [
        "base: &b {privileged: true}\nuse: *b\n",  # an alias after `: `
        '{"base": &b yes, "use":*b}\n',  # right after a flow `:` (no space)
        "list: [&a on, *a]\n",  # after `[` and `, `
        "- &a 0755\n- *a\n",  # after `- `
        'rules: [{verbs: ["*"]}]\nother: "*x"\n',  # quoted stars are text
        "cmd: 'a * b'\nwild: \"*\"\n",  # a star inside text
    ],
)
def test_aliases_and_quoted_stars_read_as_pyyaml_reads_them(text):
    """The fast path hands a document to PyYAML when rapidyaml's JSON holds a string that
    starts with `*` and the text has a `*` where a node may start: every alias is caught
    (also right after a flow `:`), quoted stars stay on the fast path as text."""
    docs, errors = yamldocs.parse_stream(text, "a.yaml")
    assert errors == []
    assert [typed(d.data) for d in docs] == [typed(d) for d in reference(text)]
