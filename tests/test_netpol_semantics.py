"""Each NetworkPolicy / ANP / BANP semantic rule, on our own fixtures (tests/fixtures/netpol)."""

from __future__ import annotations

import json

from conftest import FIXTURES

from kubevet.api import check_yaml
from kubevet.cli import main
from kubevet.netpol.conns import ConnSet

NP = FIXTURES / "netpol"
PODS = ["a/x[Pod]", "a/z[Pod]", "b/y[Pod]", "b/w[Pod]"]
ALL_EXT = "0.0.0.0-255.255.255.255[External]"


def run(capsys, *names: str, args: tuple[str, ...] = ()) -> dict[tuple[str, str], str]:
    code = main(["netpol", str(NP / "base.yaml"), *(str(NP / f"{n}.yaml") for n in names), *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return pairs_of(out)


def pairs_of(out: str) -> dict[tuple[str, str], str]:
    """A txt connection list as {(src, dst): conn}."""
    pairs = {}
    for line in out.splitlines():
        ends, conn = line.split(" : ")
        src, dst = ends.split(" => ")
        pairs[(src, dst)] = conn
    return pairs


def test_no_policy_everything_open(capsys):
    pairs = run(capsys)
    assert len(pairs) == 12 + 8  # every ordered pod pair, and each pod to and from outside
    assert set(pairs.values()) == {"All Connections"}
    assert ("a/x[Pod]", "a/x[Pod]") not in pairs  # self-connections are left out


def test_isolation_is_per_direction(capsys):
    pairs = run(capsys, "isolation")
    assert not [k for k in pairs if k[1] == "a/x[Pod]"]  # isolated for ingress, no rule
    assert pairs[("a/x[Pod]", "b/y[Pod]")] == "All Connections"  # egress untouched
    assert pairs[("a/x[Pod]", ALL_EXT)] == "All Connections"


def test_default_policy_types(capsys):
    pairs = run(capsys, "default_types")
    # x-both has an egress section: x is egress-isolated, only to z
    assert [k[1] for k in pairs if k[0] == "a/x[Pod]"] == ["a/z[Pod]"]
    # z-ingress-only: z is ingress-isolated (only from x) but its egress stays open
    assert [k[0] for k in pairs if k[1] == "a/z[Pod]"] == ["a/x[Pod]"]
    assert pairs[("a/z[Pod]", ALL_EXT)] == "All Connections"


def test_policies_union(capsys):
    assert run(capsys, "union")[("a/z[Pod]", "a/x[Pod]")] == "TCP 80,UDP 53"


def test_peer_selectors_and_within_or_across(capsys):
    into_x = {k[0] for k in run(capsys, "peers_and") if k[1] == "a/x[Pod]"}
    assert into_x == {"b/y[Pod]"}
    # OR: all of namespace b; podSelector alone means the policy's namespace (no y there)
    into_x = {k[0] for k in run(capsys, "peers_or") if k[1] == "a/x[Pod]"}
    assert into_x == {"b/y[Pod]", "b/w[Pod]"}


def test_ipblock_except_splits_external_ranges(capsys):
    pairs = run(capsys, "ipblock")
    out = {k[1]: v for k, v in pairs.items() if k[0] == "a/x[Pod]"}
    assert out == {
        "10.0.0.0-10.0.255.255[External]": "UDP 53",
        "10.2.0.0-10.255.255.255[External]": "UDP 53",
    }
    # ingress ranges are split only by ingress ipBlocks: none here
    assert pairs[(ALL_EXT, "a/x[Pod]")] == "All Connections"


def test_named_ports_and_end_port(capsys):
    # "http" resolves on the destination x (80); "dns" is UDP on x, so TCP dns is nothing
    assert run(capsys, "ports")[("a/z[Pod]", "a/x[Pod]")] == "TCP 80,9000-9010"


def test_anp_priority_then_rule_order(capsys):
    pairs = run(capsys, "anp_priority")
    for src in ("b/y[Pod]", "b/w[Pod]"):
        for dst in ("a/x[Pod]", "a/z[Pod]"):
            assert pairs[(src, dst)] == "TCP 80,8080"
    assert pairs[("a/z[Pod]", "a/x[Pod]")] == "All Connections"  # no implicit isolation


def test_anp_pass_goes_to_netpol_then_banp(capsys):
    pairs = run(capsys, "anp_pass")
    assert pairs[("b/y[Pod]", "a/x[Pod]")] == "TCP 80"  # NetworkPolicy decides
    assert ("b/y[Pod]", "a/z[Pod]") not in pairs  # no NetworkPolicy: the BANP denies
    assert pairs[("a/x[Pod]", "a/z[Pod]")] == "All Connections"


def test_banp_first_rule_wins_and_default_allow(capsys):
    pairs = run(capsys, "banp")
    assert pairs[("b/y[Pod]", "a/z[Pod]")] == "TCP 80"
    assert pairs[("a/x[Pod]", "b/y[Pod]")] == "All Connections"  # not a BANP subject


def test_ingress_and_route_exposure(capsys):
    pairs = run(capsys, "exposure")
    assert pairs[("{ingress-controller}", "a/x[Pod]")] == "TCP 80"  # via named targetPort
    assert ("{ingress-controller}", "a/z[Pod]") not in pairs  # policy admits only team b


def test_focus_and_formats(capsys):
    pairs = run(capsys, "union", args=("--focus", "a/x"))
    assert all("a/x[Pod]" in k for k in pairs)
    main(["netpol", str(NP / "base.yaml"), str(NP / "union.yaml"), "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert {"src": "a/z[Pod]", "dst": "a/x[Pod]", "conn": "TCP 80,UDP 53"} in rows
    for fmt, marker in (("csv", "src,dst,conn"), ("markdown", "| src |"), ("dot", "digraph")):
        assert main(["netpol", str(NP / "base.yaml"), "--format", fmt]) == 0
        assert marker in capsys.readouterr().out


def test_unsupported_objects_are_refused(capsys):
    code = main(["netpol", str(NP / "base.yaml"), str(NP / "unsupported.yaml")])
    out, err = capsys.readouterr()
    assert code == 2 and "unsupported network objects" in err and "Traceback" not in err
    assert out == ""


def test_bad_policy_is_an_input_error_and_the_rest_is_analysed(capsys):
    code = main(["netpol", str(NP / "base.yaml"), str(NP / "bad_policy.yaml")])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert f"{NP / 'bad_policy.yaml'}:4: AdminNetworkPolicy no-priority: priority must" in err
    assert len(out.splitlines()) == 20  # the base topology, every pair open


def test_connset_printing_and_algebra():
    tcp80 = ConnSet.of("TCP", 80)
    assert str(ConnSet.all()) == "All Connections"
    assert str(ConnSet.all().subtract(tcp80)) == "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535"
    assert str(tcp80.union(ConnSet.of("TCP", 81, 90))) == "TCP 80-90"
    assert ConnSet.all().contains(tcp80) and not tcp80.contains(ConnSet.all())


def _text(*names: str) -> str:
    return "\n---\n".join((NP / f"{n}.yaml").read_text() for n in names)


def _codes(text: str, prefix: str) -> list[str]:
    return [f.code for f in check_yaml(text, select=["network"]) if f.code.startswith(prefix)]


def test_kv601_and_kv605_say_it_once():
    # no policy at all: once per workload (4) and once per namespace (2), no more
    assert sorted(_codes(_text("base"), "KV60")) == ["KV601"] * 4 + ["KV605"] * 2
    assert _codes(_text("base", "isolation"), "KV601") == ["KV601"] * 3


def test_kv606_kv607_kv608():
    stray = _text("base").replace("app: x}}\nspec", "app: gone}}\nspec", 1)
    assert "KV606" not in _codes(_text("base", "isolation"), "KV606")
    assert _codes(stray + "\n---\n" + _text("isolation"), "KV606") == ["KV606"]
    # anp_pass: "never-reached" is shadowed by the Pass before it
    findings = check_yaml(_text("base", "anp_pass"), select=["KV607"])
    assert [f.message for f in findings if "never-reached" in f.message]
    same = _text("base", "anp_priority").replace("priority: 5", "priority: 10")
    assert _codes(same, "KV608") == ["KV608"]
