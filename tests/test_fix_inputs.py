"""The files `fix` reads besides the inputs (--profile, --image-lock): any malformed one
is one usage error naming it, before anything is written; never an internal error or a
silent skip."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubevet.cli import main

MANIFEST = ROOT / "examples" / "manifests" / "deployment.yaml"

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["pods", "containers", "functionalities", "cont_name", "check_1", "x"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(JSON)
def test_any_profile_is_read_or_refused_by_name(tmp_path, capsys, data):
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(data))
    code = main(["fix", str(MANIFEST), "--diff", "--profile", str(profile)])
    err = capsys.readouterr().err
    assert "internal error" not in err
    if code == 2:
        assert f"{profile}: " in err


@pytest.mark.parametrize(
    ("text", "says"),
    [("garbage: [", "cannot parse image lock"), ("5", "image lock must be a mapping")],
)
def test_a_malformed_image_lock_is_refused_before_any_work(tmp_path, capsys, text, says):
    """It was read only when a rule needed it: with no image to pin, never, and its error
    was lost (exit 0)."""
    lock = tmp_path / "lock.yaml"
    lock.write_text(text)
    assert main(["fix", str(MANIFEST), "--diff", "--image-lock", str(lock)]) == 2
    assert f"{lock}: {says}" in capsys.readouterr().err


def test_findings_no_rule_fixes_are_counted_not_dropped(tmp_path, capsys):
    """`fix --select KV502` without a lock printed one empty line: nothing said why."""
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(MANIFEST.read_text())
    main(["fix", str(manifest), "--select", "KV502"])
    assert "no fix offered for 1 finding (KV502 x1): see `kubevet check`" in capsys.readouterr().out
    main(["fix", str(manifest), "--select", "KV502", "--format", "json"])
    (ref,) = json.loads(capsys.readouterr().out)["noFix"]
    assert ref["code"] == "KV502"


def test_standard_input_is_not_fixed_and_says_what_to_do(monkeypatch, capsys):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(MANIFEST.read_bytes())))
    assert main(["fix", "-"]) == 2
    assert "standard input cannot be fixed in place: save it to a file" in capsys.readouterr().err
