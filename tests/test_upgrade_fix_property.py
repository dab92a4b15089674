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
