"""Generated NetworkPolicies: a web -> api -> db shop keeps working and the rest is closed,
as the reachability analysis sees it; the policies pass kubevet's own network rules."""

from __future__ import annotations

import json
import shutil

import yaml
from conftest import FIXTURES

from kubevet.api import load_yaml
from kubevet.cli import main
from kubevet.fix.netpolgen import plan, prove
from kubevet.netpol import analyze

SHOP = FIXTURES / "netpolgen" / "shop.yaml"


def _pairs(objects) -> set[tuple[str, str]]:
    out = set()
    for c in analyze(objects).connections:
        src, dst = (
            e.split("[")[0] if "[External]" not in e else "external" for e in (c.src, c.dst)
        )
        out.add((src, dst))
    return out


def test_web_api_db_keep_working_and_the_rest_is_closed():
    objects = load_yaml(SHOP.read_text()).objects
    p = plan(objects)
    after = _pairs([*objects, *load_yaml(yaml.safe_dump_all(p.policies)).objects])
    assert {("external", "shop/web"), ("shop/web", "shop/api"), ("shop/api", "shop/db")} <= after
    for closed in [
        ("shop/web", "shop/db"),
        ("external", "shop/api"),
        ("external", "shop/db"),
        ("shop/db", "shop/api"),
    ]:  # web is public: every source, pods included, may still reach it
        assert closed not in after, closed
    proof = prove(objects, p)
    assert proof.ok and len(proof.kept) == 3 and proof.closed > 0


def test_policies_are_written_and_pass_the_network_rules(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(SHOP, tmp_path / "shop.yaml")
    assert main(["fix", "shop.yaml", "--network-policies"]) == 0
    assert "wrote kubevet.networkpolicies.yaml" in capsys.readouterr().out
    assert (
        main(
            [
                "check",
                "shop.yaml",
                "kubevet.networkpolicies.yaml",
                "--select",
                "KV601,KV605,KV606",
                "--format",
                "json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_a_service_nobody_names_stays_open_to_the_cluster_and_is_reported(capsys):
    text = SHOP.read_text().replace('value: "http://api:8080/v1"', 'value: "http://elsewhere"')
    p = plan(load_yaml(text).objects)
    assert p.open_to_cluster == ["shop/api"]
    allow = next(x for x in p.policies if x["metadata"]["name"] == "kubevet-allow-api")
    assert allow["spec"]["ingress"][0]["from"] == [{"namespaceSelector": {}}]


def test_namespaces_with_policies_are_left_alone():
    text = SHOP.read_text() + (
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: mine, namespace: shop}\nspec: {podSelector: {}}\n"
    )
    p = plan(load_yaml(text).objects)
    assert p.policies == [] and "left as it is" in p.notes[0]
