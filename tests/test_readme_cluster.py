"""Every kubevet command of the README's "Live clusters" block runs as written against the
test API server (tests/kube_api.py), found through $KUBECONFIG with its context named prod;
the kubectl dump line runs its kubevet half on a dump of the same objects."""

from __future__ import annotations

import json
import re
import shlex
import shutil

import pytest
import yaml
from conftest import FIXTURES, ROOT
from kube_api import Behaviour, serve

from kubevet.cli import main

OBJECTS = list(yaml.safe_load_all((FIXTURES / "cluster" / "shop.yaml").read_text()))
# What each line gives on the shop: findings (1), or an answer (0); the example audit log
# has clients of APIs removed by 1.29.
EXPECTED = {"check": 1, "upgrade": 1, "netpol": 0, "footprint": 0}


def cluster_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Live clusters", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, "README has no live-cluster commands"
    lines = [ln.split("  #")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]
    return [ln.split("&&")[-1].strip() for ln in lines]


@pytest.fixture
def prod(tmp_path, monkeypatch):
    server = serve(tmp_path, Behaviour(objects=[dict(o) for o in OBJECTS]))
    config = json.loads(server.kubeconfig.read_text())
    config["contexts"][0]["name"] = config["current-context"] = "prod"
    server.kubeconfig.write_text(json.dumps(config))
    monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig))
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / "examples" / "audit.jsonl", tmp_path / "audit.jsonl")
    dump = {"apiVersion": "v1", "kind": "List", "items": OBJECTS}
    (tmp_path / "dump.yaml").write_text(yaml.safe_dump(dump))
    yield server
    server.stop()


@pytest.mark.parametrize("line", cluster_lines())
def test_readme_cluster_line_runs(line, prod, capsys):
    argv = shlex.split(line)
    assert argv[0] == "kubevet"
    code = main(argv[1:])
    out = capsys.readouterr()
    assert code == EXPECTED[argv[1]], out.err
    assert out.out.strip()
    assert "error" not in out.err
    if "--snapshot" not in argv:
        assert prod.behaviour.requests and {m for m, _ in prod.behaviour.requests} == {"GET"}
