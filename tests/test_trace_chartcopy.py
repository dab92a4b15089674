"""The copy marker renders load (kubevet.trace.chartcopy): files hard-linked to the chart's,
and nothing written through those links, so the user's chart stays byte for byte."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from test_chart_archives import tgz

from kubevet.trace.chartcopy import _writes_values, copy_for_markers

SUB_CHART = "apiVersion: v2\nname: sub\nversion: 1.0.0\n"


def _chart(root: Path) -> Path:
    """A chart with a kept and an emptied template, a schema, NOTES.txt, and a subchart
    both as a directory and as an archive (the archive's files go over the directory's,
    as Helm expands them)."""
    chart = root / "demo"
    files = {
        "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
        "values.yaml": "image: app\n",
        "kubevet.values.yaml": "image: safe\n",
        "README.md": "# demo\n",
        ".helmignore": "*.orig\n",
        "scripts/init.sh": "echo init\n",
        "values.schema.json": '{"type": "object"}',
        "templates/pod.yaml": "kind: Pod\nmetadata: {name: a}\n",
        "templates/cm.yaml": "kind: ConfigMap\nmetadata: {name: b}\n",
        "templates/NOTES.txt": "installed\n",
        "templates/_helpers.tpl": '{{- define "demo.name" -}}demo{{- end -}}\n',
        "charts/sub/Chart.yaml": SUB_CHART,
        "charts/sub/values.yaml": "from: directory\n",
        "charts/sub/templates/svc.yaml": "kind: Service\nmetadata: {name: c}\n",
    }
    for name, text in files.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text)
    archive = {
        "sub/Chart.yaml": SUB_CHART,
        "sub/values.yaml": "from: archive\n",
        "sub/values.schema.json": '{"type": "object"}',
    }
    members = [(name, "file", text.encode(), "") for name, text in archive.items()]
    (chart / "charts" / "sub-1.0.0.tgz").write_bytes(tgz(members))
    return chart


def _digests(chart: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for file in sorted(p for p in chart.rglob("*") if p.is_file()):
        data = file.read_bytes()
        out[str(file.relative_to(chart))] = (hashlib.sha256(data).hexdigest(), len(data))
    return out


def test_the_copy_links_the_charts_files_and_never_writes_through_them(tmp_path: Path):
    chart = _chart(tmp_path)
    before = _digests(chart)
    workdir, local = copy_for_markers(str(chart), frozenset({"demo/templates/pod.yaml"}))
    try:
        copy = Path(local)
        # Unchanged templates are the chart's own (a link, not a new file: ~1 ms each
        # here); files `fix` may write (values, an override) are never linked.
        for name in ("templates/pod.yaml", "templates/_helpers.tpl"):
            assert os.stat(copy / name).st_ino == os.stat(chart / name).st_ino
        for name in ("values.yaml", "Chart.yaml", "kubevet.values.yaml", "scripts/init.sh"):
            assert os.stat(copy / name).st_ino != os.stat(chart / name).st_ino
            assert (copy / name).read_bytes() == (chart / name).read_bytes()
        # Nor is any other file a new one (README, .helmignore: fix writes no such file).
        for name in ("README.md", ".helmignore"):
            assert os.stat(copy / name).st_ino == os.stat(chart / name).st_ino
        # The changes are in the copy only.
        assert (copy / "templates" / "cm.yaml").read_text() == ""
        assert (copy / "charts" / "sub" / "values.yaml").read_text() == "from: archive\n"
        assert (copy / "charts" / "sub" / "templates" / "svc.yaml").read_text() == ""
        assert not (copy / "charts" / "sub-1.0.0.tgz").exists()
        assert not list(copy.rglob("values.schema.json"))
        assert not (copy / "templates" / "NOTES.txt").exists()
        assert _digests(chart) == before  # while the copy lives, through the links too
    finally:
        shutil.rmtree(workdir)
    assert _digests(chart) == before
    assert all(os.stat(chart / name).st_nlink == 1 for name in before)


def test_a_chart_on_which_links_cannot_be_made_is_copied(tmp_path: Path, monkeypatch):
    chart = _chart(tmp_path)
    before = _digests(chart)

    def refuse(source: str, target: str) -> None:
        raise PermissionError(1, "Operation not permitted", source)

    monkeypatch.setattr(os, "link", refuse)
    workdir, local = copy_for_markers(str(chart), frozenset({"demo/templates/pod.yaml"}))
    try:
        copy = Path(local)
        assert (copy / "templates" / "pod.yaml").read_text() == "kind: Pod\nmetadata: {name: a}\n"
        pod = "templates/pod.yaml"
        assert os.stat(copy / pod).st_ino != os.stat(chart / pod).st_ino
        assert (copy / "templates" / "cm.yaml").read_text() == ""
    finally:
        shutil.rmtree(workdir)
    assert _digests(chart) == before


def test_a_trace_loads_only_its_copy_and_leaves_out_links_out_of_the_chart(
    tmp_path: Path, monkeypatch
):
    from kubevet.sources import helm
    from kubevet.trace.render import LocalRenderer

    chart = _chart(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("not the chart's\n")
    (chart / "files").mkdir()
    (chart / "files" / "secret.txt").symlink_to(secret)
    loaded: list[str] = []
    real_load = helm._load
    monkeypatch.setattr(
        helm, "_load", lambda path, shown="": loaded.append(path) or real_load(path, shown)
    )
    local = LocalRenderer(
        str(chart), helm.HelmOptions(), False, frozenset({"demo/templates/pod.yaml"})
    )
    try:
        assert loaded == [local.source_dir]  # the copy only (the chart was loaded twice)
        assert not (Path(local.source_dir) / "files" / "secret.txt").exists()
        assert list(local.render_texts({"image": "app"})) == ["demo/templates/pod.yaml"]
    finally:
        local.close()
    assert not Path(local.source_dir).exists()


def test_a_template_running_a_define_that_writes_into_the_values_stays_whole(tmp_path: Path):
    # `prepare` writes into .Values; `cm.yaml` (no findings) runs it and `pod.yaml` reads
    # what it wrote. Where the kept `pod.yaml` runs `prepare` itself, `cm.yaml` is emptied.
    helpers = (
        '{{- define "demo.prepare" -}}{{- $_ := set .Values "made" "x" -}}{{- end -}}\n'
        '{{- define "demo.setup" -}}{{ include "demo.prepare" . }}{{- end -}}\n'
    )
    for reader_runs_it, emptied in ((False, False), (True, True)):
        chart = tmp_path / f"runs-{reader_runs_it}"
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(SUB_CHART.replace("sub", "demo"))
        (chart / "templates" / "_helpers.tpl").write_text(helpers)
        (chart / "templates" / "cm.yaml").write_text('{{ include "demo.setup" . }}kind: A\n')
        first = '{{ include "demo.prepare" . }}' if reader_runs_it else ""
        (chart / "templates" / "pod.yaml").write_text(first + "kind: {{ .Values.made }}\n")
        workdir, local = copy_for_markers(str(chart), frozenset({"demo/templates/pod.yaml"}))
        try:
            size = os.path.getsize(os.path.join(local, "templates", "cm.yaml"))
        finally:
            shutil.rmtree(workdir)
        assert (size == 0) is emptied


_WORDS = st.sampled_from(["set", "unset", "reset", "runset", "_set", "x", " ", "(", "$", "."])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_WORDS, st.sampled_from([".Values", " .Values", "\n"])), max_size=8))
def test_the_values_write_search_finds_what_a_word_bounded_set_or_unset_does(parts: list[str]):
    """The literal-first search with its word check says what `\\b(?:set|unset)...` says."""
    text = "".join(parts).encode()
    reference = re.compile(rb"\b(?:set|unset)\s+\(?\s*\$?\.Values\b")
    assert _writes_values(text) == bool(reference.search(text))


def test_the_values_write_search_on_examples():
    assert _writes_values(b'{{- $_ := set .Values.gitea "x" 1 }}')
    assert _writes_values(b'{{ unset ($.Values) "k" }}')
    assert not _writes_values(b"{{ reset .Values }} {{ offset .Values.x }}")
    assert not _writes_values(b'{{ include "x" . | set }}')


def test_the_copy_follows_links_inside_the_chart_and_leaves_out_notes_at_any_depth(
    tmp_path: Path,
):
    chart = _chart(tmp_path)
    (chart / "conf").mkdir()
    (chart / "conf" / "app.conf").write_text("port = 80\n")
    (chart / "conf-link").symlink_to(chart / "conf", target_is_directory=True)
    (chart / "templates" / "alias.yaml").symlink_to(chart / "templates" / "pod.yaml")
    (chart / "charts" / "sub" / "templates" / "NOTES.txt").write_text("sub notes\n")
    (chart / "docs" / "templates").mkdir(parents=True)
    (chart / "docs" / "templates" / "NOTES.txt").write_text("docs\n")
    workdir, local = copy_for_markers(str(chart))
    try:
        copy = Path(local)
        assert not (copy / "conf-link").is_symlink()  # a folder of its own, as Helm reads it
        assert (copy / "conf-link" / "app.conf").read_text() == "port = 80\n"
        assert (copy / "templates" / "alias.yaml").read_text() == "kind: Pod\nmetadata: {name: a}\n"
        assert not (copy / "charts" / "sub" / "templates" / "NOTES.txt").exists()
        assert not (copy / "templates" / "NOTES.txt").exists()
        # NOTES.txt of any folder named templates is left out (one rule for every depth)
        assert not (copy / "docs" / "templates" / "NOTES.txt").exists()
    finally:
        shutil.rmtree(workdir)
