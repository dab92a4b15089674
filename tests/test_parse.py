"""The parser under bad and unusual input: repeated keys, deep nesting, aliases, and the
fast path's equivalence with PyYAML on every document of the chart corpus."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import CORPUS_CHARTS, need
from hypothesis import given, settings
from hypothesis import strategies as st
from test_yaml11 import reference, typed

from kubevet.cli import main
from kubevet.sources import yamldocs, yamlfast
from kubevet.sources.yamldocs import MAX_ALIAS_EXPANSION, MAX_DEPTH, parse_json, parse_stream

pytestmark = pytest.mark.usefixtures("both_parse_paths")  # each test on both parse paths

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"


def run(capsys, *paths: str) -> tuple[int, dict]:
    code = main(["check", *paths, "--format", "json", "-j", "1", "--select", "KV105"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, json.loads(out)


# -- duplicate keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        (POD + "spec:\n  hostNetwork: false\n  hostNetwork: true\n", "hostNetwork", (6, 7)),
        (POD + "  name: q\nspec: {}\n", "name", (4, 5)),
        (POD + "spec: {a: 1, b: 2, a: 3}\n", "a", (5, 5)),
        (POD + "spec:\n  yes: 1\n  True: 2\n", "True", (6, 7)),  # equal under YAML 1.1
        (POD + "spec:\n  80: 1\n  0x50: 2\n", "80", (6, 7)),
        (POD + "spec:\n  - {a: 1}\n  - {a: 2, a: 3}\n", "a", (7, 7)),
    ],
)
def test_duplicate_key_is_an_error_with_both_lines(text, key, lines):
    docs, errors = parse_stream("# lead\n" + text, "dup.yaml")
    (err,) = errors
    first, second = (n + 1 for n in lines)  # the leading comment line
    assert err.file == "dup.yaml" and err.line == second
    assert f"duplicate key {key!r}" in err.message or f"duplicate key {key}" in err.message
    assert f"lines {first} and {second}" in err.message
    assert [typed(d.data) for d in docs] == [typed(d) for d in reference(text)]  # last wins


def test_merge_keys_are_not_duplicates():
    text = POD + "base: &b {x: 1, y: 2}\nspec:\n  <<: *b\n  x: 3\n"
    docs, errors = parse_stream(text, "merge.yaml")
    assert errors == []
    assert docs[0].data["spec"] == {"x": 3, "y": 2}


def test_duplicate_key_in_json_names_both_lines():
    text = '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "kind": "Service"\n}\n'
    docs, errors = parse_json(text, "dup.json")
    (err,) = errors
    assert (err.file, err.line) == ("dup.json", 4) and "lines 3 and 4" in err.message
    assert docs[0].data["kind"] == "Service"


def test_duplicate_key_reported_and_the_run_goes_on(capsys, tmp_path):
    dup = tmp_path / "dup.yaml"
    dup.write_text(
        POD + "spec:\n  containers:\n    - name: a\n      image: x\n"
        "      securityContext: {privileged: true}\n      name: b\n"
    )
    code, report = run(capsys, str(dup))
    assert code == 2
    (err,) = report["errors"]
    assert err["file"] == str(dup) and err["line"] == 10 and "lines 7 and 10" in err["message"]
    assert [f["code"] for f in report["findings"]] == ["KV105"]  # the object is still checked


# -- nesting depth ------------------------------------------------------------------------


def block(depth: int) -> str:
    """A pod nesting `depth` mappings, the document's own included."""
    lines = [POD.rstrip("\n"), "spec:"]
    lines += ["  " * (i + 1) + f"k{i}:" for i in range(depth - 1)]
    lines[-1] += " leaf"
    return "\n".join(lines) + "\n"


def flow(depth: int) -> str:
    """A pod nesting `depth` collections: itself, `spec`, and sequences."""
    return POD + "spec: {x: " + "[" * (depth - 2) + "]" * (depth - 2) + "}\n"


@pytest.mark.parametrize("shape", [block, flow])
@pytest.mark.parametrize("depth", [38, 63, 64, 65, 100, MAX_DEPTH])
def test_nesting_up_to_the_bound_is_read(shape, depth):
    text = shape(depth)
    docs, errors = parse_stream(text, "deep.yaml")
    assert errors == []
    assert [typed(d.data) for d in docs] == [typed(d) for d in reference(text)]


@pytest.mark.parametrize("shape", [block, flow])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_nesting_past_the_bound_is_an_error_naming_file_and_line(shape, depth):
    if shape is block and depth > 1000:
        depth = 1000  # 100,000 indented lines would be 10 GB of spaces
    text = "# lead\n" + shape(depth)
    docs, errors = parse_stream(text, "deep.yaml")
    assert docs == []
    (err,) = errors
    assert err.file == "deep.yaml" and f"deeper than {MAX_DEPTH}" in err.message
    expected = MAX_DEPTH + 6 if shape is block else 6  # where the bound is passed
    assert err.line == expected


@pytest.mark.parametrize("depth", [MAX_DEPTH, MAX_DEPTH + 1, 5000, 100_000])
def test_json_nesting_is_bounded(depth):
    text = '{"apiVersion": "v1", "kind": "Pod",\n"spec": ' + "[" * depth + "]" * depth + "}"
    docs, errors = parse_json(text, "deep.json")
    if depth <= MAX_DEPTH - 1:
        assert errors == [] and docs
    else:
        (err,) = errors
        assert (err.file, err.line) == ("deep.json", 2)
        assert f"deeper than {MAX_DEPTH}" in err.message


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 400), st.sampled_from(["block", "flow", "seq"]))
def test_any_depth_parses_or_is_refused_cleanly(depth, style):
    """Never an exception: a document within the bound loads as PyYAML loads it, one past
    it is an error naming the line."""
    shapes = {"block": block, "flow": flow, "seq": lambda d: "- " * d + "x\n"}
    text = shapes[style](depth)
    docs, errors = parse_stream(text, "d.yaml")
    if depth <= MAX_DEPTH:
        assert errors == []
        assert [typed(d.data) for d in docs] == [typed(d) for d in reference(text)]
    else:
        assert docs == [] and len(errors) == 1 and errors[0].line is not None


def test_deep_inputs_through_the_cli(capsys, tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text(flow(100_000))
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 100_000 + "]" * 100_000)
    fine = tmp_path / "fine.yaml"
    fine.write_text(block(MAX_DEPTH))
    code, report = run(capsys, str(deep), str(deep_json), str(fine))
    assert code == 2
    assert sorted(e["file"] for e in report["errors"]) == sorted([str(deep), str(deep_json)])
    assert report["summary"]["objects"] == 1  # the document within the bound was checked


# -- aliases --------------------------------------------------------------------------------


def test_alias_guard_counts_what_aliases_add():
    base = "a: &a [" + ", ".join(["x"] * 9) + "]\n"
    text = base + "b: [" + ", ".join(["*a"] * 5) + "]\n"
    (node,) = yaml.compose_all(text, Loader=yamldocs._Loader)
    assert yamldocs._alias_expansion(node, text) == 5 * 10  # five copies of a 10-node list
    plain = POD + "rules: [{verbs: ['*'], resources: ['*']}]\n"
    (node,) = yaml.compose_all(plain, Loader=yamldocs._Loader)
    assert yamldocs._alias_expansion(node, plain) == 0  # `*` in strings is not an alias


def test_alias_bomb_is_refused():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    docs, errors = parse_stream("\n".join(lines) + "\n", "bomb.yaml")
    assert docs == [] and "YAML bomb" in errors[0].message
    assert MAX_ALIAS_EXPANSION < 10**6  # the last alias level alone expands to 10**6 nodes


def test_recursive_alias_is_refused():
    docs, errors = parse_stream("a: &a [1, *a]\n", "loop.yaml")
    assert docs == [] and "recursive alias" in errors[0].message


# -- the chart corpus ---------------------------------------------------------------------


def test_fast_path_equals_pyyaml_on_every_corpus_document():
    """Every document of every corpus chart render: the objects PyYAML gives, and PyYAML
    itself only for text rapidyaml rejects."""
    from kubevet.sources.helm import HelmOptions, _render

    charts = need(CORPUS_CHARTS)
    checked = 0
    fallbacks: list[str] = []
    for chart in sorted(p for p in charts.iterdir() if (p / "Chart.yaml").exists()):
        rendered, crds, _meta, _names = _render(str(chart), {}, HelmOptions(), [])
        for template, text in crds + rendered:
            docs, errors = parse_stream(text, template)
            assert errors == [], (chart.name, template)
            want = reference(text)
            assert [typed(d.data) for d in docs] == [typed(d) for d in want], template
            checked += len(docs)
            for chunk, line in yamldocs._split(text):
                if yamldocs._parse_fast(chunk, line)[0] is None:
                    fallbacks.append(template)
                    if chunk.endswith("\n"):  # else maybe a block scalar at the very end
                        with pytest.raises(Exception):  # noqa: B017 (rapidyaml's own type)
                            yamlfast.ryml.parse_in_arena(chunk.encode())
    assert checked > 1000
    # vault's comments inside a flow sequence, which rapidyaml rejects, and templates ending
    # in a block scalar without a final line break, which rapidyaml reads with one
    assert len(fallbacks) < checked / 100, fallbacks


# -- what rapidyaml's JSON cannot carry ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        POD + "spec: {a: !!str 1, b: !!int '7', c: !!float '1'}\n",
        POD + "spec:\n  a: !!str\n    0755\n  b: &x {p: 1}\n  c: *x\n",
        POD + "spec:\n  base: &b {x: 1}\n  m:\n    <<: *b\n    y: 2\n",
        POD + "spec: {a: -.5, b: +.5, c: +5, d: 1e3, e: 1.5E3, f: 01.5}\n",
        POD + "data:\n  x: |\n    last line without a break",
        POD + "data:\n  x: |\n    text\n# a comment ends it",
        POD + "data:\n  x: |-\n    stripped",
        POD + "data:\n  x: >\n    folded\n    lines",
    ],
)
def test_forms_past_the_json_give_pyyamls_objects(text):
    docs, errors = parse_stream(text, "f.yaml")
    assert errors == []
    assert [typed(d.data) for d in docs] == [typed(d) for d in reference(text)]


@pytest.mark.parametrize(
    "text",
    ["yes", "0755", "~", "1:30", "on\n", "--- no\n--- {a: 1}\n", "--- ~\n", "'yes'", "plain"],
)
def test_a_document_that_is_one_scalar_is_read_as_yaml_1_1_reads_it(text):
    docs, errors = parse_stream(text, "f.yaml")
    assert errors == []
    read = [typed(d.data) for d in docs if d.data is not None]  # `~`: an empty document
    assert read == [typed(d) for d in reference(text)]


@pytest.mark.parametrize(
    "text",
    [
        POD + "data:\n  run.sh: |\n    if ! test -f x; then ls *; fi\n    [ a != b ]\n",
        POD + "spec:\n  rules: [{verbs: ['*'], hosts: ['*.example.com']}]\n",
        POD + "spec:\n  a: 0755\n  b: True\n  c: [yes, 'no', ~]\n",
    ],
)
def test_scripts_wildcards_and_yaml11_stay_on_the_fast_path(text):
    fast, _ = yamldocs._parse_fast(text, 1)
    assert fast is not None
    assert [typed(d.data) for d in fast] == [typed(d) for d in reference(text)]


def test_error_in_a_chart_render_names_the_rendered_line_in_words(tmp_path):
    """The template's own lines differ from the render's: the file gets no line."""
    from kubevet.sources.helm import HelmOptions, load_chart

    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: d\nversion: 0.1.0\n")
    (chart / "templates" / "pod.yaml").write_text(
        "{{- /* a comment the render drops */}}\n" + POD + "spec:\n  a: 1\n  a: 2\n"
    )
    group = load_chart(str(chart), HelmOptions())
    (err,) = group.errors
    assert err.file.endswith("pod.yaml") and err.line is None
    assert "duplicate key 'a' (lines 7 and 8)" in err.message
    assert err.message.endswith("[line 8 of the rendered output]")
    assert len(group.objects) == 1  # still checked


def test_a_scalar_yaml11_resolves_but_cannot_build_is_an_input_error():
    """`0b_` matches YAML 1.1's binary int form but has no digits: PyYAML raises while
    building it; both parse paths report it instead of crashing (found by Hypothesis)."""
    from kubevet.sources.yamldocs import parse_stream

    docs, errors = parse_stream("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: 0b_\n", "x.yaml")
    assert docs == [] and len(errors) == 1
    assert errors[0].file == "x.yaml" and "invalid YAML" in errors[0].message
