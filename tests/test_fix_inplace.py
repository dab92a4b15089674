"""`fix -f prod.yaml --output prod.yaml`: the fixes' keys set in the user's own values
file, its comments and formatting kept."""

from __future__ import annotations

import shutil
from typing import Any

from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from kubevet.cli import main
from kubevet.fix.edits import apply_edits
from kubevet.fix.inplace import changed_keys

CHART = ROOT / "examples" / "chart"
PROD = '# prod values\nreplicaCount: 3 # three\nimage:\n  tag: "1.2"   # pinned\n'


def test_the_fixes_land_in_the_last_values_file_with_its_comments(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(CHART, tmp_path / "chart")
    (tmp_path / "prod.yaml").write_text(PROD)
    assert main(["fix", "chart", "-f", "prod.yaml", "--output", "prod.yaml"]) in (0, 1)
    assert "wrote prod.yaml" in capsys.readouterr().out
    text = (tmp_path / "prod.yaml").read_text()
    assert text.startswith(PROD)  # every line kept as it was, the fixes' keys added below
    assert "allowPrivilegeEscalation: false" in text
    main(["check", "chart", "-f", "prod.yaml", "--select", "KV106", "--no-trace"])
    assert "0 findings" in capsys.readouterr().out
    main(["fix", "chart", "-f", "prod.yaml", "--output", "prod.yaml"])  # nothing left to set
    assert (tmp_path / "prod.yaml").read_text() == text


def test_a_values_file_that_is_not_the_last_layer_is_refused(tmp_path, capsys, monkeypatch):
    """Its keys would lose to the later files: the fixes proven would not hold."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(CHART, tmp_path / "chart")
    (tmp_path / "a.yaml").write_text("replicaCount: 2\n")
    (tmp_path / "prod.yaml").write_text(PROD)
    assert main(["fix", "chart", "-f", "a.yaml", "-f", "prod.yaml", "--output", "a.yaml"]) == 2
    assert "cannot write --output to a.yaml: it is an input of the run" in capsys.readouterr().err
    assert (tmp_path / "a.yaml").read_text() == "replicaCount: 2\n"


def _helm_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of a later values layer: maps merge, null deletes a key."""
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _helm_merge(out[key], value)
        else:
            out[key] = value
    return out


VALUES = st.recursive(
    st.integers(0, 3) | st.sampled_from(["a", "b"]) | st.booleans(),
    lambda inner: st.dictionaries(st.sampled_from(["x", "y", "z"]), inner, max_size=3),
    max_leaves=10,
)


@given(
    st.dictionaries(st.sampled_from(["p", "q", "r"]), VALUES, max_size=3),
    st.dictionaries(st.sampled_from(["p", "q", "r"]), VALUES, max_size=3),
)
def test_the_changed_keys_as_a_last_layer_give_the_fixed_values(user, fixed):
    edits = list(changed_keys(user, fixed))
    layer = apply_edits({}, edits)
    assert _helm_merge(user, layer) == _helm_merge({}, fixed)
    assert all(e.op == "set" for e in edits)


def test_a_key_a_fix_takes_away_is_set_to_null():
    assert [(e.path, e.value) for e in changed_keys({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}})] == [
        (("a", "c"), None)
    ]
