"""A chart's kubeVersion range against the release asked for, as Helm reads it."""

from __future__ import annotations

import shutil

import pytest
from conftest import ROOT

from kubevet.cli import main
from kubevet.sources.kubeversion import excludes


@pytest.mark.parametrize(
    ("constraint", "release", "excluded"),
    [
        ("<1.20.0", "1.29", True),
        (">=1.20.0-0", "1.29", False),
        (">= 1.16, < 1.25", "1.29", True),  # Masterminds: spaces after operators, commas
        (">= 1.16, < 1.25", "1.24", False),
        ("^1.19", "1.29", False),  # ^1.19 is >=1.19.0 <2.0.0
        ("~1.18", "1.19", True),
        ("1.19.x", "1.19", False),
        (">=v1.21.0", "1.29", False),
        ("<1.29.2", "1.29", False),  # some patch of 1.29 fits
        ("<1.29.2", "v1.29.3", True),  # a full version is that version
        (">=1.19.0-0 <1.26.0-0 || >=1.27.0-0", "1.26", True),
        (">=1.19.0-0 <1.26.0-0 || >=1.27.0-0", "1.27", False),
        ("not a range", "1.29", None),
    ],
)
def test_ranges(constraint, release, excluded):
    assert excludes(constraint, release) is excluded


def _chart(tmp_path, constraint):
    chart = tmp_path / "chart"
    shutil.copytree(ROOT / "examples" / "chart", chart)
    meta = (chart / "Chart.yaml").read_text()
    (chart / "Chart.yaml").write_text(
        meta.replace("version:", f"kubeVersion: '{constraint}'\nversion:", 1)
    )
    return chart


def test_a_chart_helm_refuses_at_the_release_asked_for_is_an_input_error(tmp_path, capsys):
    """It rendered and checked as if installable (Helm's own render does not check it)."""
    chart = _chart(tmp_path, "<1.20.0")
    assert main(["check", str(chart), "--kube-version", "1.29", "--no-trace"]) == 2
    assert "chart requires kubeVersion <1.20.0, which excludes Kubernetes 1.29" in (
        capsys.readouterr().err
    )
    assert main(["check", str(chart), "--no-trace"]) == 1  # no release asked for: checked
    capsys.readouterr()


def test_upgrade_gives_no_answer_where_an_input_could_not_be_checked(tmp_path, capsys):
    """It said NOT BLOCKED over a chart Helm would refuse at the target."""
    chart = _chart(tmp_path, "<1.20.0")
    assert main(["upgrade", "--to", "1.29", str(chart)]) == 2
    out = capsys.readouterr().out
    assert out.startswith("Upgrade from 1.28 to Kubernetes 1.29: NO ANSWER (0 blockers")
    assert "1 input error)" in out.splitlines()[0]
