"""A kubeconfig that is missing or malformed is one clear error naming it, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubevet.sources.kubeapi import ClusterError, ClusterOptions, connect


def test_a_missing_kubeconfig_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    with pytest.raises(ClusterError, match=r"nope\.yaml: no such file"):
        connect(ClusterOptions(kubeconfig=str(tmp_path / "nope.yaml")))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ClusterError, match=r"~/.kube/config: no such file"):
        connect(ClusterOptions())


SHAPES = st.recursive(
    st.none() | st.integers() | st.text(max_size=4) | st.booleans(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "clusters",
                    "contexts",
                    "users",
                    "current-context",
                    "name",
                    "user",
                    "cluster",
                    "context",
                    "server",
                    "token",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(SHAPES.map(repr), st.text(max_size=40)))
def test_any_malformed_kubeconfig_is_a_cluster_error(tmp_path, text):
    """YAML of any shape (and any text): the client raised TypeError, KeyError or a
    YAML error for some, which surfaced as kubevet's internal error."""
    path = tmp_path / "kubeconfig"
    path.write_text(text.replace("'", '"'))
    try:
        connect(ClusterOptions(kubeconfig=str(path)))
    except ClusterError as exc:
        assert str(path) in str(exc)
