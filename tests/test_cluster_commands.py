"""`kubevet netpol` and `kubevet footprint` on a live cluster (tests/kube_api.py): the same
answers as on the same objects as files, pods and ReplicaSets folded into their owners,
a forbidden kind skipped with a warning, and nothing but GETs sent."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import FIXTURES
from kube_api import Behaviour, serve

from kubevet.cli import main

SHOP = list(yaml.safe_load_all((FIXTURES / "cluster" / "shop.yaml").read_text()))
# What controllers made from a template their owner holds: not in the files a user applies.
MADE = {"web-5f6", "web-5f6-q1", "api-77c", "api-77c-r2", "db-0", "report-29000000"}


@pytest.fixture
def api(tmp_path):
    server = serve(tmp_path, Behaviour(objects=[dict(o) for o in SHOP]))
    yield server
    server.stop()


@pytest.fixture
def applied(tmp_path):
    """The objects a user applied, as one file."""
    path = tmp_path / "applied.yaml"
    path.write_text(yaml.safe_dump_all([o for o in SHOP if o["metadata"]["name"] not in MADE]))
    return str(path)


def _run(capsys, *argv: str) -> tuple[int, object, str]:
    code = main([*argv, "--format", "json"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else None, out.err


def test_netpol_on_the_cluster_answers_as_on_the_files(api, applied, capsys):
    code, live, err = _run(capsys, "netpol", "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert code == 0, err
    _, files, _ = _run(capsys, "netpol", applied)
    assert live == files
    pairs = {(c["src"], c["dst"], c["conn"]) for c in live}
    assert ("shop/web[Deployment]", "shop/api[Deployment]", "TCP 9000") in pairs
    assert ("shop/api[Deployment]", "shop/db[StatefulSet]", "TCP 5432") in pairs
    assert not any("web" in c["src"] and "db" in c["dst"] for c in live)  # default deny
    assert not any("ReplicaSet" in c["src"] + c["dst"] for c in live)  # folded into owners
    assert {m for m, _ in api.behaviour.requests} == {"GET"}


def test_netpol_focus_and_one_namespace(api, capsys):
    argv = ("netpol", "--kubeconfig", str(api.kubeconfig), "-n", "shop", "--focus", "db")
    code, live, _ = _run(capsys, *argv)
    assert code == 0 and live
    assert all("shop/db[StatefulSet]" in (c["src"], c["dst"]) for c in live)
    assert not [p for _, p in api.behaviour.requests if p.endswith("/clusterroles")]


def test_netpol_without_leave_to_list_policies_says_so(api, capsys):
    api.behaviour.forbidden.add("networkpolicies")
    code, live, err = _run(capsys, "netpol", "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert "cannot list networkpolicies (networking.k8s.io/v1): forbidden, skipped" in err
    # without the policies every workload reaches every other: the answer shows it
    assert code == 0 and any(c["dst"] == "shop/db[StatefulSet]" for c in live)


ROW = ("kind", "namespace", "name", "vcpu", "memory_gib", "replicas_low", "replicas_high")


def _workloads(report: dict) -> list[tuple]:
    """Each workload's figures, without the input label (a file path or the cluster)."""
    return sorted(
        (*(w[k] for k in ROW), w["autoscaler"], round(w["high"]["carbon_g"], 9))
        for w in report["workloads"]
    )


def test_footprint_on_the_cluster_counts_owners_once(api, applied, capsys):
    argv = ("footprint", "--kubeconfig", str(api.kubeconfig), "--cluster")
    code, live, err = _run(capsys, *argv)
    assert code == 0, err
    _, files, _ = _run(capsys, "footprint", applied)
    assert _workloads(live) == _workloads(files)
    assert live["total"] == files["total"]
    names = {(w["kind"], w["name"]) for w in live["workloads"]}
    assert names == {
        ("Deployment", "web"),
        ("Deployment", "api"),
        ("StatefulSet", "db"),
        ("CronJob", "report"),
    }
    api_row = next(w for w in live["workloads"] if w["name"] == "api")
    assert (api_row["replicas_low"], api_row["replicas_high"]) == (2, 6)  # the listed HPA


def test_footprint_snapshot_equals_live(api, tmp_path, capsys):
    dump = tmp_path / "dump.yaml"
    dump.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": SHOP}))
    _, snap, _ = _run(capsys, "footprint", str(dump), "--snapshot")
    _, live, _ = _run(capsys, "footprint", "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert _workloads(snap) == _workloads(live)
    _, raw, _ = _run(capsys, "footprint", str(dump))
    assert len(raw["workloads"]) > len(snap["workloads"])  # every ReplicaSet and pod again


def test_footprint_forbidden_kind_is_a_warning(api, capsys):
    api.behaviour.forbidden.add("statefulsets")
    code, live, err = _run(capsys, "footprint", "--kubeconfig", str(api.kubeconfig), "--cluster")
    assert "cannot list statefulsets (apps/v1): forbidden, skipped" in err
    names = {w["name"] for w in live["workloads"]}
    # the StatefulSet cannot be read, so its pod stands for it: still counted once
    assert "db-0" in names and "db" not in names and code == 0


CLIENT_MODULES = ("kubernetes", "urllib3", "kubevet.sources.kubeapi", "kubevet.sources.cluster")
PROBE = f"""
import os, sys
from kubevet.cli import main
main([*sys.argv[1:], "-o", os.devnull])
names = {CLIENT_MODULES!r}
print(sorted(m for m in sys.modules if m in names or m.split(".")[0] in names))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ("check", "examples/manifests", "-j", "1"),
        ("netpol", "examples/manifests"),
        ("footprint", "examples/manifests"),
        ("upgrade", "--to", "1.29", "examples/manifests"),
    ],
)
def test_file_only_runs_never_load_the_cluster_client(argv):
    """Start-up of file-only runs pays nothing for the cluster source."""
    import subprocess
    import sys

    from conftest import ROOT

    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr
