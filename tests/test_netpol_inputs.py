"""netpol input handling: Node-owned pods, bad policies reported while the rest is analysed."""

from __future__ import annotations

import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_netpol_semantics import pairs_of

from kubevet.cli import main
from kubevet.netpol import analyze
from kubevet.sources.manifests import load_stdin

NP = FIXTURES / "netpol"


def test_node_owned_pods_are_each_their_own_workload(capsys):
    assert main(["netpol", str(NP / "node_pods.yaml")]) == 0
    pairs = pairs_of(capsys.readouterr().out)
    ends = {e for k in pairs for e in k if "[External]" not in e}
    assert ends == {
        "kube-system/etcd-node1[Pod]",
        "kube-system/kube-scheduler-node1[Pod]",
        "kube-system/dns-7f9c[ReplicaSet]",  # the two replicas: one workload
    }
    # the policy isolates etcd only; the scheduler (a separate Pod) stays open
    assert pairs[("kube-system/kube-scheduler-node1[Pod]", "kube-system/etcd-node1[Pod]")] == (
        "TCP 2379"
    )
    assert ("kube-system/dns-7f9c[ReplicaSet]", "kube-system/etcd-node1[Pod]") not in pairs
    assert pairs[("kube-system/dns-7f9c[ReplicaSet]", "kube-system/kube-scheduler-node1[Pod]")]


def test_each_bad_policy_is_reported_with_file_and_line_and_the_rest_analysed(capsys):
    bad = NP / "bad_policies.yaml"
    code = main(["netpol", str(NP / "base.yaml"), str(bad)])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert f"{bad}:20: NetworkPolicy b/bad-protocol: unknown protocol 'ICMP'" in err
    assert f"{bad}:30: AdminNetworkPolicy bad-action rule 'r': action must be one of" in err
    pairs = pairs_of(out)
    # the valid policies still apply: x admits only z on TCP 80, y admits nothing
    assert [(k, v) for k, v in pairs.items() if k[1] == "a/x[Pod]"] == [
        (("a/z[Pod]", "a/x[Pod]"), "TCP 80")
    ]
    assert not [k for k in pairs if k[1] == "b/y[Pod]"]
    # the rejected ones do not: w (b) stays open, the ANP denies nothing
    assert pairs[("a/x[Pod]", "b/w[Pod]")] == "All Connections"


_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: p, namespace: a}}
spec:
  podSelector: {{}}
  policyTypes: [Ingress, Egress]
  ingress: [{{from: [{{podSelector: {{}}}}], ports: [{{port: 80}}]}}]
  egress: {value}
"""
_KEYS = [
    "to",
    "ports",
    "port",
    "endPort",
    "protocol",
    "ipBlock",
    "cidr",
    "except",
    "podSelector",
    "namespaceSelector",
    "matchLabels",
]
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.text("ab1:/.- ", max_size=5),
    st.just("10.0.0.0/8"),
)
_shapes = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(_KEYS),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=12,
)


_CILIUM = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: p, namespace: a}}
spec:
  endpointSelector: {{}}
  ingress: [{{fromEndpoints: [{{}}], toPorts: [{{ports: [{{port: "80"}}]}}]}}]
  egress: {value}
"""
_CILIUM_KEYS = [
    "toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toPorts", "ports", "port",
    "endPort", "protocol", "cidr", "except", "rules", "matchLabels", "matchExpressions",
    "toServices", "k8sService", "serviceName", "k8sServiceSelector", "selector",
]  # fmt: skip
_cilium_shapes = st.recursive(
    st.one_of(_scalars, st.sampled_from(["world", "cluster", "TCP", "ANY", "http"])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(_CILIUM_KEYS), inner, max_size=3),
    ),
    max_leaves=12,
)


def _analysed_or_reported(template: str, value: object, label: str) -> None:
    import json

    group = load_stdin(template.format(value=json.dumps(value)))
    assert not group.errors
    result = analyze(group.objects)  # never raises for a malformed policy
    if result.errors:
        assert all(e.file == "-" and e.line and label in e.message for e in result.errors)
        assert result.resources.policies == []
    else:
        assert len(result.resources.policies) == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_shapes)
def test_any_shape_of_policy_is_analysed_or_reported_never_raised(value):
    _analysed_or_reported(_POLICY, value, "NetworkPolicy a/p")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cilium_shapes)
def test_any_shape_of_cilium_policy_is_analysed_or_reported_never_raised(value):
    _analysed_or_reported(_CILIUM, value, "CiliumNetworkPolicy a/p")


@pytest.mark.parametrize(
    ("api", "kind"),
    [
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"),
    ],
)
def test_policy_with_a_non_mapping_spec_is_reported_at_its_line(api, kind):
    text = f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: p, namespace: a}}\nspec: [1]\n"
    result = analyze(load_stdin(text).objects)
    assert [(e.line, e.message.split(": ", 1)[1]) for e in result.errors] == [
        (4, "spec must be a mapping (policy left out of the analysis)")
    ]


V6_ALL_BUT_FD = "::-fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External]"
FD00 = "fd00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External]"


def test_ipv6_ipblock_with_except_and_mixed_families(capsys):
    assert main(["netpol", str(NP / "base.yaml"), str(NP / "ipv6.yaml")]) == 0
    out, err = capsys.readouterr()
    assert "IPv6" not in err  # no "ignored" warning any more
    pairs = pairs_of(out)
    from_x = {dst: conn for (src, dst), conn in pairs.items() if src == "a/x[Pod]"}
    assert from_x == {
        "10.0.0.0-10.255.255.255[External]": "TCP 443",
        # 2001:db8::/32 minus 2001:db8:1::/48: the two pieces on either side
        "2001:db8::-2001:db8:0:ffff:ffff:ffff:ffff:ffff[External]": "UDP 53",
        "2001:db8:2::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff[External]": "UDP 53",
    }
    into_z = {src for (src, dst) in pairs if dst == "a/z[Pod]"}
    assert into_z == {FD00}  # not the IPv4 world, not other IPv6 ranges, no pod
    # the ANP's IPv6 network peer: b's egress to fd00::/8 loses TCP 22 only
    assert pairs[("b/y[Pod]", FD00)] == "SCTP 1-65535,TCP 1-21,23-65535,UDP 1-65535"
    assert pairs[("a/z[Pod]", FD00)] == "All Connections"
    # an unrestricted pod reaches every range of both families
    ranges = {dst for (src, dst) in pairs if src == "a/z[Pod]" and "[External]" in dst}
    assert "0.0.0.0-9.255.255.255[External]" in ranges
    assert "::-2001:db7:ffff:ffff:ffff:ffff:ffff:ffff[External]" in ranges


def test_no_ipv6_ranges_without_an_ipv6_policy(capsys):
    assert main(["netpol", str(NP / "base.yaml"), str(NP / "ipblock.yaml")]) == 0
    assert "::" not in capsys.readouterr().out


def test_except_outside_its_cidr_is_an_input_error(capsys):
    bad = NP / "ipv6_bad.yaml"
    assert main(["netpol", str(NP / "base.yaml"), str(bad)]) == 2
    out, err = capsys.readouterr()
    assert f"{bad}:9: NetworkPolicy a/mixed-except: bad ipBlock: except fd00::/8 is not" in err
    assert out  # the rest is still analysed


def test_ip_intervals_of_both_families():
    from kubevet.netpol.ipranges import ALL_V4, ALL_V6, atoms, block, cidr_interval, range_text

    v6 = cidr_interval("2001:db8::1/32")  # host bits ignored
    assert range_text(v6) == "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
    assert v6[1] - v6[0] == 2**96 - 1
    assert range_text(cidr_interval("10.1.2.3/16")) == "10.1.0.0-10.1.255.255"
    pieces = block("fd00::/8", ["fd00::/9"])
    assert [range_text(p) for p in pieces] == ["fd80::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]
    split = atoms([pieces], ALL_V4 + ALL_V6)
    assert len(split) == 4  # IPv4, below fd80::, fd80::/9, above it
    assert all(lo <= hi for lo, hi in split) and split[0] == ALL_V4[0]
    with pytest.raises(ValueError):
        cidr_interval("fd00::/129")


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_ipv4_ranges_are_written_as_ipaddress_writes_them(a, b):
    # range_text writes IPv4 addresses itself: a check without ipBlocks imports no ipaddress
    import ipaddress

    from kubevet.netpol.ipranges import range_text

    lo, hi = min(a, b), max(a, b)
    assert range_text((lo, hi)) == f"{ipaddress.IPv4Address(lo)}-{ipaddress.IPv4Address(hi)}"


def test_check_reports_a_bad_policy_as_an_input_error(capsys):
    bad = NP / "bad_policies.yaml"
    code = main(["check", str(NP / "base.yaml"), str(bad), "--select", "network"])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert f"{bad}:20: NetworkPolicy b/bad-protocol: unknown protocol 'ICMP'" in err
    assert err.count("bad-protocol") == 1  # once, though several network rules read the model
    assert "KV601" in out  # the findings of the rest are still reported
