"""Property: `upgrade --fix` over generated files (LF, CRLF or mixed line endings, BOM,
comments, quoting, documents that convert and documents that do not) changes only the
converted apiVersion lines: every other line keeps its bytes and its place, and a second
run changes nothing."""

from __future__ import annotations

import codecs
import os
import tempfile

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.cli import main

Line = tuple[str, bool]  # (text without line ending, does the conversion change it?)

comments = st.sampled_from(["", "   # keep", "  #  spaced", " # façade"])
quote = st.sampled_from(["{}", "'{}'", '"{}"'])


@st.composite
def cronjob(draw: st.DrawFn, i: int) -> list[Line]:
    q = draw(quote)
    return [
        (f"apiVersion: {q.format('batch/v1beta1')}{draw(comments)}", True),
        ("kind: CronJob", False),
        ("metadata:", False),
        (f"  name: {q.format(f'report-{i}')}{draw(comments)}", False),
        ("spec:", False),
        (f"  schedule: {draw(quote).format('30 1 * * *')}", False),
        ("  jobTemplate:", False),
        ("    spec:", False),
        ("      template:", False),
        ("        spec:", False),
        ("          restartPolicy: OnFailure", False),
        ("          containers:", False),
        (f"          - name: job{draw(comments)}", False),
        (f"            image: {q.format('registry.example/job:1.0')}", False),
    ]


@st.composite
def configmap(draw: st.DrawFn, i: int) -> list[Line]:
    return [
        ("# current API: nothing to convert, every byte stays", False),
        ("apiVersion: v1", False),
        ("kind: ConfigMap", False),
        (f"metadata: {{name: cfg-{i}, labels: {{app: {draw(quote).format('x')}}}}}", False),
        ("data:", False),
        (f"  key: {draw(quote).format('value')}{draw(comments)}", False),
    ]


@st.composite
def stream(draw: st.DrawFn) -> list[Line]:
    kinds = draw(st.lists(st.sampled_from([cronjob, configmap]), min_size=1, max_size=3))
    lines: list[Line] = []
    for i, kind in enumerate(kinds):
        if i or draw(st.booleans()):
            lines.append(("---", False))
        lines += draw(kind(i))
    return lines


def _upgrade(path: str) -> None:
    main(["upgrade", "--to", "1.29", "--no-schema", "--fix", "-o", os.devnull, path])


@settings(max_examples=25, deadline=None)
@given(stream(), st.sampled_from(["\n", "\r\n", "mixed"]), st.booleans())
def test_upgrade_fix_changes_only_converted_lines_and_is_idempotent(lines, nl, bom):
    ends = [
        "\r\n" if nl == "\r\n" or (nl == "mixed" and i % 3) else "\n" for i in range(len(lines))
    ]
    text = "".join(t + e for (t, _), e in zip(lines, ends, strict=True))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "app.yaml")
        with open(path, "wb") as fh:
            fh.write((codecs.BOM_UTF8 if bom else b"") + text.encode())
        _upgrade(path)
        with open(path, "rb") as fh:
            once = fh.read()
        _upgrade(path)
        with open(path, "rb") as fh:
            assert fh.read() == once  # twice is once

    assert once.startswith(codecs.BOM_UTF8) == bom
    new = once.decode("utf-8-sig")
    out = new.splitlines(keepends=True)
    it = iter(out)
    kept = [t + e for (t, changed), e in zip(lines, ends, strict=True) if not changed]
    assert all(any(k == o for o in it) for k in kept)  # each kept line, in order
    assert len(out) == len(lines)
    converted = [o for o in out if o.startswith("apiVersion:") and "batch/v1beta1" in o]
    assert converted == []
    docs = list(yaml.safe_load_all(new))
    assert [d["apiVersion"] for d in docs if d["kind"] == "CronJob"] == ["batch/v1"] * sum(
        1 for t, changed in lines if changed
    )


# Indentation that varies from block to block (as hand-merged files have): no single
# ruamel style reproduces such a document, so the conversion must edit the changed
# fields' own lines and leave every other line as it was.
steps = st.sampled_from([2, 3, 4])


@st.composite
def varied_ingress(draw: st.DrawFn) -> list[Line]:
    meta, spec, http, item = draw(steps), draw(steps), draw(steps), draw(steps)
    dash = draw(st.sampled_from([0, 2]))  # `- ` at its key's column, or indented
    rules = spec + dash
    paths = rules + 2 + http + draw(st.sampled_from([0, 2]))
    back = paths + 2
    return [
        (f"apiVersion: extensions/v1beta1{draw(comments)}", True),
        ("kind: Ingress", False),
        ("metadata:", False),
        (" " * meta + f"name: web{draw(comments)}", False),
        ("spec:", False),
        (" " * spec + "rules:", False),
        (" " * rules + "- host: a.example", False),
        (" " * (rules + 2) + "http:", False),
        (" " * (rules + 2 + http) + "paths:", False),
        (" " * paths + "- path: /", False),
        (" " * back + "backend:", False),
        (" " * (back + item) + f"serviceName: {draw(quote).format('web')}", True),
        (" " * (back + item) + "servicePort: 80", True),
    ]


@st.composite
def varied_cronjob(draw: st.DrawFn) -> list[Line]:
    a, b, c = draw(steps), draw(steps), draw(steps)
    return [
        ("apiVersion: batch/v1beta1", True),
        ("kind: CronJob", False),
        ("metadata:", False),
        (" " * a + f"name: report{draw(comments)}", False),
        ("spec:", False),
        (" " * b + "schedule: '30 1 * * *'", False),
        (" " * b + "jobTemplate:", False),
        (" " * (b + c) + "spec:", False),
        (" " * (b + c + a) + "template:", False),
        (" " * (b + c + a + 2) + "spec:", False),
        (" " * (b + c + a + 4) + "containers:", False),
        (" " * (b + c + a + 4 + draw(st.sampled_from([0, 2]))) + "- name: job", False),
    ]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from([varied_ingress, varied_cronjob]), min_size=1, max_size=3), st.data()
)
def test_upgrade_fix_keeps_every_untouched_line_whatever_the_indentation(kinds, data):
    lines: list[Line] = []
    for i, kind in enumerate(kinds):
        lines += [("---", False)] if i else []
        lines += data.draw(kind())
    text = "".join(t + "\n" for t, _ in lines)
    before = list(yaml.safe_load_all(text))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "app.yaml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        _upgrade(path)
        with open(path, encoding="utf-8") as fh:
            once = fh.read()
        _upgrade(path)
        with open(path, encoding="utf-8") as fh:
            assert fh.read() == once  # twice is once
    it = iter(once.splitlines(keepends=True))
    kept = [t + "\n" for t, changed in lines if not changed]
    assert all(any(k == o for o in it) for k in kept)  # each untouched line, in order
    docs = list(yaml.safe_load_all(once))
    assert [d["apiVersion"] for d in docs] == [
        "networking.k8s.io/v1" if k is varied_ingress else "batch/v1" for k in kinds
    ]
    for doc, old, kind in zip(docs, before, kinds, strict=True):
        if kind is varied_ingress:  # the conversion itself, whatever the indentation
            (path_item,) = doc["spec"]["rules"][0]["http"]["paths"]
            assert path_item == {
                "path": "/",
                "pathType": "ImplementationSpecific",
                "backend": {"service": {"name": "web", "port": {"number": 80}}},
            }
            doc["spec"]["rules"][0]["http"]["paths"] = old["spec"]["rules"][0]["http"]["paths"]
        assert {**doc, "apiVersion": ""} == {**old, "apiVersion": ""}  # nothing else moved
