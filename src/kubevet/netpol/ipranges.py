"""IPv4 address ranges as integer intervals, and their split into disjoint atoms."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from kubevet.netpol.conns import Intervals, normalize, subtract

MAX_IP = 2**32 - 1
ALL_IPS: Intervals = ((0, MAX_IP),)


class IPv6Unsupported(ValueError):
    """An IPv6 CIDR: ignored with a warning (the analysis is IPv4 only)."""


def cidr_interval(cidr: str) -> tuple[int, int]:
    """`10.0.0.0/8` -> (first, last) address as integers; ValueError if malformed."""
    net = ipaddress.ip_network(str(cidr).strip(), strict=False)
    if net.version != 4:
        raise IPv6Unsupported(f"IPv6 CIDR {cidr} is not supported (ignored)")
    return int(net.network_address), int(net.broadcast_address)


def block(cidr: str, excepts: Iterable[str] = ()) -> Intervals:
    """The addresses of an ipBlock: the CIDR minus its `except` CIDRs."""
    base = normalize([cidr_interval(cidr)])
    return subtract(base, normalize(cidr_interval(e) for e in excepts))


def atoms(blocks: Iterable[Intervals]) -> list[tuple[int, int]]:
    """Split the whole address space at every boundary of `blocks`."""
    cuts = {0, MAX_IP + 1}
    for ivs in blocks:
        for lo, hi in ivs:
            cuts.add(lo)
            cuts.add(hi + 1)
    points = sorted(cuts)
    return [(points[i], points[i + 1] - 1) for i in range(len(points) - 1)]


def covers(ivs: Intervals, atom: tuple[int, int]) -> bool:
    """Whether an atom lies inside `ivs` (atoms never straddle a boundary)."""
    return any(lo <= atom[0] and atom[1] <= hi for lo, hi in ivs)


def range_text(atom: tuple[int, int]) -> str:
    return f"{ipaddress.IPv4Address(atom[0])}-{ipaddress.IPv4Address(atom[1])}"
