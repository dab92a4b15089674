from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis' per-example deadline is a timing assertion: on a loaded 2-core machine a first
# example can take longer than 200 ms for reasons that are not the code's. No deadlines.
settings.register_profile("kubevet", deadline=None)
settings.load_profile("kubevet")

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KUBEVET_SHARED", ROOT.parent / "shared"))
CORPUS_CHARTS = SHARED / "corpus" / "mycharts" / "charts"
NETPOL_CASES = SHARED / "corpus" / "netpol"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def need(path: Path) -> Path:
    """Skip the calling test, with the reason, when a shared-corpus folder is absent."""
    if not path.exists():
        pytest.skip(f"shared corpus folder {path} is absent (set KUBEVET_SHARED to use it)")
    return path


@pytest.fixture(autouse=True)
def _own_trace_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Each test's `kubevet check` keeps chart traces in a folder of its own: a trace kept
    by another test (or by a user's runs in ~/.cache) never stands in for its renders."""
    monkeypatch.setenv("KUBEVET_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("KUBEVET_NO_CACHE", raising=False)


@pytest.fixture(scope="module", params=["tree", "json"])
def both_parse_paths(request: pytest.FixtureRequest):
    """A module's tests on each way from rapidyaml's tree to Python objects: read from the
    tree (sources.treewalk, the usual way) and through rapidyaml's JSON (where the tree walk
    gives up, and everywhere without a C compiler). Module-scoped: Hypothesis's tests refuse
    function-scoped fixtures."""
    from kubevet.sources import yamlfast

    built = yamlfast._build
    if request.param == "tree" and built is None:
        pytest.skip("the tree walk is not active here (kubevet.sources._treewalk not built)")
    if request.param == "json":
        yamlfast._build = None
    try:
        yield request.param
    finally:
        yamlfast._build = built
