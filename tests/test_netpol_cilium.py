"""CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy in `kubevet netpol` and KV601."""

from __future__ import annotations

from conftest import FIXTURES
from test_netpol_semantics import pairs_of

from kubevet.api import check_yaml
from kubevet.cli import main
from kubevet.netpol import analyze
from kubevet.sources.manifests import load_stdin

NP = FIXTURES / "netpol"
WORLD = "0.0.0.0-255.255.255.255[External]"


def run(capsys, name: str) -> tuple[dict[tuple[str, str], str], str]:
    code = main(["netpol", str(NP / "base.yaml"), str(NP / f"{name}.yaml")])
    out, err = capsys.readouterr()
    assert code == 0, err
    return pairs_of(out), err


def into(pairs: dict[tuple[str, str], str], dst: str) -> dict[str, str]:
    return {src: conn for (src, d), conn in pairs.items() if d == dst}


def test_allow_rules_endpoints_namespaces_named_ports_and_l7(capsys):
    pairs, err = run(capsys, "cilium_allow")
    # x admits z on TCP 80 and y (namespace b named in the selector) on "http" = 80 on x
    assert into(pairs, "a/x[Pod]") == {"a/z[Pod]": "TCP 80", "b/y[Pod]": "TCP 80"}
    assert "L7 rules (http) are treated as allowing the whole port" in err
    # b's egress: its own namespace ({} in a CiliumNetworkPolicy), a on port 80 of any
    # protocol, the world on TCP 443 only
    assert pairs[("b/y[Pod]", "b/w[Pod]")] == "All Connections"
    assert pairs[("b/y[Pod]", "a/z[Pod]")] == "SCTP 80,TCP 80,UDP 80"
    assert pairs[("b/w[Pod]", WORLD)] == "TCP 443"
    # an unselected pod keeps every connection
    assert pairs[("a/z[Pod]", "b/y[Pod]")] == "All Connections"
    assert pairs[(WORLD, "a/z[Pod]")] == "All Connections"


def test_deny_takes_precedence_over_every_allow(capsys):
    pairs, _ = run(capsys, "cilium_deny")
    # the cluster-wide policy allows `all` but denies `world`: nothing comes from outside
    assert not [k for k in pairs if k[0] == WORLD]
    # a Kubernetes NetworkPolicy allows x -> z entirely; the Cilium deny removes TCP 80
    assert pairs[("a/x[Pod]", "a/z[Pod]")] == "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535"
    # allows add up across kinds: the NetworkPolicy names only x, the Cilium `all` the rest
    assert pairs[("b/y[Pod]", "a/z[Pod]")] == "All Connections"


def test_cidr_with_except_entities_and_enable_default_deny(capsys):
    pairs, err = run(capsys, "cilium_cidr")
    from_x = {dst: conn for (src, dst), conn in pairs.items() if src == "a/x[Pod]"}
    any_5432 = "SCTP 5432,TCP 5432,UDP 5432"  # protocol omitted: ANY
    assert from_x == {
        "10.0.0.0-10.0.255.255[External]": any_5432,
        "10.2.0.0-10.255.255.255[External]": any_5432,
        "192.168.1.1-192.168.1.1[External]": "All Connections",
    }  # egress default deny: no pod, no other range
    # `cluster`: every pod (x's own egress is closed), and no outside address
    assert set(into(pairs, "a/z[Pod]")) == {"b/y[Pod]", "b/w[Pod]"}
    # enableDefaultDeny false: the DNS rule isolates nobody
    assert pairs[("b/y[Pod]", "10.1.0.0-10.1.255.255[External]")] == "All Connections"
    assert "L7 rules (dns)" in err


def _cnp(spec: str, kind: str = "CiliumNetworkPolicy") -> str:
    meta = "{name: p, namespace: a}" if kind == "CiliumNetworkPolicy" else "{name: p}"
    return f"apiVersion: cilium.io/v2\nkind: {kind}\nmetadata: {meta}\n{spec}"


def _analyse(*docs: str):
    text = (NP / "base.yaml").read_text() + "".join(f"\n---\n{d}" for d in docs)
    return analyze(load_stdin(text).objects)


def _pairs(result) -> dict[tuple[str, str], str]:
    return {(c.src, c.dst): str(c.conn) for c in result.connections}


def test_empty_rule_is_default_deny_and_l4_only_rule_allows_every_peer():
    deny_all = _analyse(_cnp("spec:\n  endpointSelector: {}\n  ingress: [{}]\n"))
    assert not [k for k in _pairs(deny_all) if k[1].startswith("a/")]
    l4 = _cnp(
        "spec:\n  endpointSelector: {}\n  ingress: [{toPorts: [{ports: [{port: '8080'}]}]}]\n"
    )
    pairs = _pairs(_analyse(l4))
    assert pairs[("b/y[Pod]", "a/x[Pod]")] == "SCTP 8080,TCP 8080,UDP 8080"
    assert pairs[(WORLD, "a/z[Pod]")] == "SCTP 8080,TCP 8080,UDP 8080"


def test_cluster_wide_peer_selectors_reach_every_namespace():
    spec = (
        "spec:\n  endpointSelector: {matchLabels: {app: x}}\n  ingress: [{fromEndpoints: [{}]}]\n"
    )
    cnp = into(_pairs(_analyse(_cnp(spec))), "a/x[Pod]")
    ccnp = into(_pairs(_analyse(_cnp(spec, "CiliumClusterwideNetworkPolicy"))), "a/x[Pod]")
    assert set(cnp) == {"a/z[Pod]"}  # a CiliumNetworkPolicy stays in its namespace
    assert set(ccnp) == {"a/z[Pod]", "b/y[Pod]", "b/w[Pod]"}


def test_namespace_labels_and_service_account_selectors():
    ns_labels = _cnp(
        "spec:\n  endpointSelector: {matchLabels: {app: x}}\n  ingress:\n"
        "    - fromEndpoints:\n"
        "        - matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: b, app: y}\n",
        "CiliumClusterwideNetworkPolicy",
    )
    assert set(into(_pairs(_analyse(ns_labels)), "a/x[Pod]")) == {"b/y[Pod]"}
    account = _cnp(
        "spec:\n  endpointSelector: {matchLabels: {io.cilium.k8s.policy.serviceaccount: web}}\n"
        "  ingress: [{}]\n"
    )
    # no pod of the base topology runs as "web": nobody is isolated
    assert into(_pairs(_analyse(account)), "a/x[Pod]")


def test_bad_cilium_policy_is_reported_and_host_policies_are_not_modelled():
    bad = _cnp("spec:\n  endpointSelector: {}\n  egress: [{toEntities: [galaxy]}]\n")
    host = _cnp("spec:\n  nodeSelector: {}\n  ingress: [{}]\n", "CiliumClusterwideNetworkPolicy")
    result = _analyse(bad, host)
    assert [e.message.split(" (policy")[0] for e in result.errors] == [
        "CiliumNetworkPolicy a/p: unknown entity 'galaxy'"
    ]
    text = (NP / "base.yaml").read_text() + f"\n---\n{bad}"
    line = text.splitlines().index("  egress: [{toEntities: [galaxy]}]") + 1
    assert result.errors[0].line == line  # the line of the bad rule
    assert any("nodeSelector (host) policy is not modelled" in w for w in result.warnings)


KV601_BASE = (NP / "base.yaml").read_text()


def _kv601(extra: str) -> list[str]:
    findings = check_yaml(KV601_BASE + "\n---\n" + extra, select=["KV601"])
    return sorted(f.message.split(" is not")[0] for f in findings if f.code == "KV601")


def test_kv601_counts_cilium_isolation():
    everyone = ["Pod a/x", "Pod a/z", "Pod b/w", "Pod b/y"]
    isolate_x = _cnp(
        "spec:\n  endpointSelector: {matchLabels: {app: x}}\n"
        "  ingress: [{fromEndpoints: [{matchLabels: {app: z}}]}]\n"
    )
    assert _kv601(isolate_x) == ["Pod a/z", "Pod b/w", "Pod b/y"]
    # a deny-only rule isolates too; enableDefaultDeny false does not
    deny_only = _cnp("spec:\n  endpointSelector: {}\n  ingressDeny: [{fromEntities: [world]}]\n")
    assert _kv601(deny_only) == ["Pod b/w", "Pod b/y"]
    no_default = _cnp(
        "spec:\n  endpointSelector: {}\n  enableDefaultDeny: {ingress: false}\n"
        "  ingress: [{fromEntities: [cluster]}]\n"
    )
    assert _kv601(no_default) == everyone
    wide = _cnp(
        "spec:\n  endpointSelector: {}\n  ingress: [{fromEntities: [cluster]}]\n",
        "CiliumClusterwideNetworkPolicy",
    )
    assert _kv601(wide) == []


def test_kv605_counts_a_namespace_wide_cilium_default_deny():
    def kv605(extra: str) -> list[str]:
        found = check_yaml(KV601_BASE + "\n---\n" + extra, select=["KV605"])
        return sorted(f.message for f in found if f.code == "KV605")

    whole_a = _cnp("spec:\n  endpointSelector: {}\n  ingress: [{}]\n")
    assert kv605(whole_a) == ["namespace 'b' has no default-deny ingress NetworkPolicy"]
    only_x = _cnp("spec:\n  endpointSelector: {matchLabels: {app: x}}\n  ingress: [{}]\n")
    assert len(kv605(only_x)) == 2
    wide = _cnp(
        "spec:\n  endpointSelector: {}\n  ingress: [{}]\n", "CiliumClusterwideNetworkPolicy"
    )
    assert kv605(wide) == []


def test_cilium_ipv6_cidr_and_world_ipv6_entity():
    spec = (
        "spec:\n  endpointSelector: {matchLabels: {app: x}}\n  egress:\n"
        "    - toCIDRSet: [{cidr: 'fd00::/8', except: ['fd00:1::/32']}]\n"
        "      toPorts: [{ports: [{port: '443', protocol: TCP}]}]\n"
        "  ingress: [{fromEntities: [world-ipv6]}]\n"
    )
    pairs = _pairs(_analyse(_cnp(spec)))
    from_x = {dst: conn for (src, dst), conn in pairs.items() if src == "a/x[Pod]"}
    assert from_x == {
        "fd00::-fd00:0:ffff:ffff:ffff:ffff:ffff:ffff[External]": "TCP 443",
        "fd00:2::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External]": "TCP 443",
    }
    into_x = set(into(pairs, "a/x[Pod]"))
    assert into_x and all(":" in src for src in into_x)  # every IPv6 range, no IPv4, no pod


_SERVICES = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a, labels: {tier: front}}
spec: {selector: {app: x}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: b, labels: {tier: back}}
spec: {selector: {app: y}, ports: [{port: 9090}]}
"""


def test_to_services_by_name_and_by_labels():
    def egress_of_w(to_services: str) -> set[str]:
        spec = (
            "spec:\n  endpointSelector: {matchLabels: {app: w}}\n"
            f"  egress: [{{toServices: [{to_services}]}}]\n"
        )
        text = _cnp(spec).replace("namespace: a", "namespace: b", 1)
        pairs = _pairs(_analyse(_SERVICES, text))
        return {dst for (src, dst) in pairs if src == "b/w[Pod]"}

    assert egress_of_w("{k8sService: {serviceName: web, namespace: a}}") == {"a/x[Pod]"}
    assert egress_of_w("{k8sService: {serviceName: web, namespace: b}}") == set()
    assert egress_of_w("{k8sServiceSelector: {selector: {matchLabels: {tier: back}}}}") == {
        "b/y[Pod]"
    }
