"""Chart traces kept between runs (kubevet.trace.cache): a chart checked again unchanged is
not rendered again, and anything its traces depend on makes the next run trace afresh."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.cli import main
from kubevet.trace import cache
from kubevet.trace.render import ChartRenderer

DEMO = FIXTURES / "trace" / "demo"


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The marker renders each run makes, counted."""
    counted: list[int] = []
    real = ChartRenderer.render_many

    def count(self: ChartRenderer, values: list[Any], parsed: Any = None) -> Any:
        counted.append(len(values))
        return real(self, values, parsed)

    monkeypatch.setattr(ChartRenderer, "render_many", count)
    return counted


def _check(chart: Path, out: Path, *args: str) -> dict[str, Any]:
    main(["check", str(chart), "--format", "json", "-o", str(out), *args])
    report = json.loads(out.read_text())
    return {key: report[key] for key in ("findings", "warnings", "errors")}


def _entries(directory: Path) -> list[Path]:
    return sorted((directory / "trace").glob("*/*.json"))


def test_a_chart_checked_again_unchanged_is_not_rendered_again(tmp_path: Path, renders):
    first = _check(DEMO, tmp_path / "a.json", "--cache-dir", str(tmp_path / "c"))
    assert sum(renders) > 0 and len(_entries(tmp_path / "c")) == 1
    renders.clear()
    again = _check(DEMO, tmp_path / "b.json", "--cache-dir", str(tmp_path / "c"))
    assert renders == []
    assert again == first  # traces (values keys, lines, edits' targets) and warnings
    assert any(f["trace"]["status"] == "values" for f in again["findings"])


def test_a_change_to_the_chart_or_the_values_traces_afresh(tmp_path: Path, renders):
    chart = tmp_path / "demo"
    shutil.copytree(DEMO, chart)
    cached = ["--cache-dir", str(tmp_path / "c")]
    _check(chart, tmp_path / "a.json", *cached)
    renders.clear()
    _check(chart, tmp_path / "b.json", *cached, "--set", "web.privileged=false")
    assert renders, "other values"
    renders.clear()
    template = next((chart / "templates").glob("*.yaml"))
    template.write_text(template.read_text() + "\n")  # a byte more in one template
    _check(chart, tmp_path / "c.json", *cached)
    assert renders, "another template"
    renders.clear()
    _check(chart, tmp_path / "d.json", *cached, "--select", "KV105")
    assert renders, "other findings"


def test_no_cache_reads_and_keeps_nothing(tmp_path: Path, renders, monkeypatch):
    _check(DEMO, tmp_path / "a.json", "--cache-dir", str(tmp_path / "c"), "--no-cache")
    assert not (tmp_path / "c").exists()
    monkeypatch.setenv("KUBEVET_CACHE_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("KUBEVET_NO_CACHE", "1")
    _check(DEMO, tmp_path / "b.json")
    assert not (tmp_path / "env").exists()
    monkeypatch.delenv("KUBEVET_NO_CACHE")
    _check(DEMO, tmp_path / "c.json")  # the environment's folder
    assert len(_entries(tmp_path / "env")) == 1


def test_a_trace_that_hit_a_render_limit_is_not_kept(tmp_path: Path, monkeypatch):
    from kubevet.sources.renderworker import LimitError

    def over(*_args: Any, **_kw: Any) -> Any:
        raise LimitError("demo", "chart render took longer than the 1 s limit; not checked")

    monkeypatch.setattr(ChartRenderer, "render_many", over)
    report = _check(DEMO, tmp_path / "a.json", "--cache-dir", str(tmp_path / "c"))
    assert report["errors"]  # said, as before
    assert _entries(tmp_path / "c") == []


# What a cache folder shared with others may hold: any JSON at all.
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@functools.cache
def _good_entry() -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The demo chart's report, its entry's name under the cache folder and its content."""
    directory = Path(tempfile.mkdtemp())
    try:
        first = _check(DEMO, directory / "r.json", "--cache-dir", str(directory))
        (entry,) = _entries(directory)
        return first, str(entry.relative_to(directory)), json.loads(entry.read_text())
    finally:
        shutil.rmtree(directory)


@settings(max_examples=10)  # each example traces the chart three times
@given(junk=_JSON)
def test_an_entry_that_does_not_read_is_a_miss_and_is_written_again(tmp_path_factory, junk):
    first, name, good = _good_entry()
    directory = tmp_path_factory.mktemp("cache")
    entry = directory / name
    entry.parent.mkdir(parents=True)
    for bad in (junk, {**good, "findings": junk}, {**good, "findings": [[junk, junk]]}):
        entry.write_text(json.dumps(bad))
        assert _check(DEMO, directory / "r.json", "--cache-dir", str(directory)) == first
        assert json.loads(entry.read_text()) == good


def test_each_folder_keeps_its_most_recently_used_entries(tmp_path: Path):
    folder = tmp_path / "ab"
    folder.mkdir()
    for n in range(cache.PER_FOLDER + 3):
        entry = folder / f"{n}.json"
        entry.write_text("{}")
        stamp = 1_000_000 + n
        os.utime(entry, (stamp, stamp))
    cache._prune(str(folder))
    kept = sorted(int(p.stem) for p in folder.glob("*.json"))
    assert kept == list(range(3, cache.PER_FOLDER + 3))


def test_a_file_reached_through_a_link_inside_the_chart_is_part_of_the_key(tmp_path: Path):
    from kubevet.trace.cache import _hash_chart

    chart = tmp_path / "demo"
    shutil.copytree(DEMO, chart)
    shared = tmp_path / "shared"  # reached only through the link
    shared.mkdir()
    (shared / "banner.txt").write_text("one\n")
    (chart / "files").symlink_to(shared, target_is_directory=True)
    (shared / "loop").symlink_to(chart, target_is_directory=True)  # a link to an ancestor

    def digest() -> str:
        h = hashlib.sha256()
        _hash_chart(h, str(chart))
        return h.hexdigest()

    before = digest()
    assert digest() == before
    (shared / "banner.txt").write_text("two\n")
    assert digest() != before


def test_the_same_chart_at_another_path_is_traced_for_its_own_files(tmp_path: Path, renders):
    from kubevet.runner import RunSettings, run_check

    one, two = tmp_path / "one", tmp_path / "two"
    shutil.copytree(DEMO, one)
    shutil.copytree(DEMO, two)
    for chart in (one, two):
        settings = RunSettings(trace=True, trace_cache=str(tmp_path / "c"))
        findings = run_check([str(chart)], settings).findings
        files = {f.trace.values_file for f in findings if f.trace} - {None}
        assert files and all(f.startswith(str(chart)) for f in files), files
    assert len(_entries(tmp_path / "c")) == 2


def test_a_cache_dir_that_is_a_file_is_refused_and_a_read_only_cache_still_reads(
    tmp_path: Path, renders, monkeypatch
):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    out = tmp_path / "r.json"
    assert main(["check", str(DEMO), "-o", str(out), "--cache-dir", str(not_a_dir)]) == 2
    first = _check(DEMO, out, "--cache-dir", str(tmp_path / "c"))
    renders.clear()

    def refused(*_args: Any) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(os, "utime", refused)
    assert _check(DEMO, out, "--cache-dir", str(tmp_path / "c")) == first
    assert renders == []
