"""The netpol-analyzer connectivity cases: kubevet's txt output, line for line.

Cases built on network extensions beyond Kubernetes and the policy API are out of
scope: kubevet must refuse them with a clear message (listed below with the reason).
"""

from __future__ import annotations

import os

import pytest
from conftest import NETPOL_CASES, need

from kubevet.cli import main

UDN = "OVN-Kubernetes (Cluster)UserDefinedNetwork: pod networks beyond Kubernetes"
NAD = "Multus NetworkAttachmentDefinition / MultiNetworkPolicy: secondary networks"
VM = "KubeVirt VirtualMachine workloads"
UNSUPPORTED: dict[str, str] = {
    **{f"cudn_test_{i}": UDN for i in (1, 2, 3, 5, 6)},
    **{f"nad_test_{i}": NAD for i in (1, 2, 3, 5, 6, 8, 12, 14, 15, 16)},
    **{f"udn_and_vms_test_{i}": f"{UDN}; {VM}" for i in (1, 2, 4, 5)},
    **{f"udn_test_{i}": UDN for i in (1, 3, 4)},
    "udn_with_ingress_controller": UDN,
    "udn_with_vm_and_ingress_controller": f"{UDN}; {VM}",
    "virtual_machines_example": VM,
}
# The oracle ignores IPv6 CIDRs (with a warning); kubevet analyses them. In these cases the
# IPv4 lines must match the oracle exactly, and the IPv6 ranges are kubevet's own answer
# (checked on our fixtures in test_netpol_inputs.py).
IPV6_IGNORED_BY_ORACLE = {
    "anp_and_banp_using_networks_with_ipv6_test",
    "anp_banp_test_multiple_warnings",
}


def _ipv6_line(line: str) -> bool:
    return ":" in line.split(" : ", 1)[0]


def _cases() -> list[str]:
    folder = NETPOL_CASES / "cases"
    return sorted(os.listdir(folder)) if folder.is_dir() else ["(corpus absent)"]


@pytest.mark.parametrize("case", _cases())
def test_case(case, capsys):
    corpus = need(NETPOL_CASES / "cases")
    expected = NETPOL_CASES / "expected" / f"{case}.txt"
    code = main(["netpol", str(corpus / case)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if case in UNSUPPORTED:
        assert code == 2 and "unsupported network objects" in err, UNSUPPORTED[case]
        assert out == ""
    elif not expected.exists():
        assert code == 2 and "error:" in err  # an error path: a clear message
    else:
        assert code == 0, err
        lines = out.splitlines()
        if case in IPV6_IGNORED_BY_ORACLE:
            assert any(map(_ipv6_line, lines))
            lines = [line for line in lines if not _ipv6_line(line)]
        assert lines == expected.read_text().splitlines()


def test_unsupported_list_names_real_cases():
    cases = set(_cases())
    need(NETPOL_CASES / "cases")
    assert set(UNSUPPORTED) <= cases
    assert len(cases - set(UNSUPPORTED)) == 77
