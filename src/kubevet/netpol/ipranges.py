"""IPv4 and IPv6 address ranges as integer intervals, and their split into disjoint atoms.

Both families live on one integer line so that the interval algebra of `conns` serves
both: IPv4 addresses are 0 .. 2**32-1, IPv6 addresses are shifted past them
(V6_BASE + the 128-bit address). An interval never spans the two families, because
every CIDR lies in one family and the split points always include V6_BASE.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubevet.netpol.conns import Intervals, normalize, subtract

MAX_V4 = 2**32 - 1
V6_BASE = 2**32
MAX_IP = V6_BASE + 2**128 - 1
ALL_V4: Intervals = ((0, MAX_V4),)
ALL_V6: Intervals = ((V6_BASE, MAX_IP),)
ALL_IPS: Intervals = ((0, MAX_IP),)


def cidr_interval(cidr: str) -> tuple[int, int]:
    """`10.0.0.0/8` or `fd00::/8` -> (first, last) address on the shared line;
    ValueError if malformed. Host bits are ignored, as the API servers do."""
    import ipaddress  # here: only an input with ipBlocks parses addresses

    net = ipaddress.ip_network(str(cidr).strip(), strict=False)
    base = 0 if net.version == 4 else V6_BASE
    return base + int(net.network_address), base + int(net.broadcast_address)


def block(cidr: str, excepts: Iterable[str] = ()) -> Intervals:
    """The addresses of an ipBlock: the CIDR minus its `except` CIDRs."""
    lo, hi = cidr_interval(cidr)
    cut = []
    for e in excepts:
        elo, ehi = cidr_interval(e)
        if not lo <= elo <= ehi <= hi:
            raise ValueError(f"except {e} is not inside cidr {cidr}")
        cut.append((elo, ehi))
    return subtract(((lo, hi),), normalize(cut))


def has_v6(ivs: Intervals) -> bool:
    return any(hi >= V6_BASE for _, hi in ivs)


def atoms(blocks: Iterable[Intervals], space: Intervals = ALL_V4) -> list[tuple[int, int]]:
    """Split the address `space` (IPv4, or both families) at every boundary of `blocks`."""
    cuts = {V6_BASE}
    for lo, hi in space:
        cuts.add(lo)
        cuts.add(hi + 1)
    for ivs in blocks:
        for lo, hi in ivs:
            cuts.add(lo)
            cuts.add(hi + 1)
    points = sorted(cuts)
    pairs = ((points[i], points[i + 1] - 1) for i in range(len(points) - 1))
    return [a for a in pairs if covers(space, a)]


def covers(ivs: Intervals, atom: tuple[int, int]) -> bool:
    """Whether an atom lies inside `ivs` (atoms never straddle a boundary)."""
    return any(lo <= atom[0] and atom[1] <= hi for lo, hi in ivs)


def range_text(atom: tuple[int, int]) -> str:
    lo, hi = atom
    if lo < V6_BASE:
        return f"{_v4(lo)}-{_v4(hi)}"
    import ipaddress

    return f"{ipaddress.IPv6Address(lo - V6_BASE)}-{ipaddress.IPv6Address(hi - V6_BASE)}"


def _v4(address: int) -> str:
    """The address as ipaddress.IPv4Address writes it, without importing ipaddress: every
    check names the whole IPv4 range (netpol.analysis), with or without an ipBlock."""
    return f"{address >> 24}.{address >> 16 & 255}.{address >> 8 & 255}.{address & 255}"
