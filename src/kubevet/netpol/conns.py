"""Connection sets: per protocol, sorted disjoint inclusive port intervals.

A `ConnSet` is immutable and hashable; the empty set and the full set (every port of
TCP, UDP and SCTP) are cheap to build and to test for.
"""

from __future__ import annotations

from collections.abc import Iterable

PROTOCOLS = ("SCTP", "TCP", "UDP")  # sorted: the printing order
MIN_PORT, MAX_PORT = 1, 65535
Intervals = tuple[tuple[int, int], ...]
FULL_PORTS: Intervals = ((MIN_PORT, MAX_PORT),)


def normalize(items: Iterable[tuple[int, int]]) -> Intervals:
    """Sort and merge overlapping or adjacent intervals."""
    out: list[list[int]] = []
    for lo, hi in sorted(items):
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((a, b) for a, b in out)


def intersect(a: Intervals, b: Intervals) -> Intervals:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract(a: Intervals, b: Intervals) -> Intervals:
    out: list[tuple[int, int]] = []
    for lo, hi in a:
        cur = lo
        for blo, bhi in b:
            if bhi < cur or blo > hi:
                continue
            if blo > cur:
                out.append((cur, blo - 1))
            cur = max(cur, bhi + 1)
            if cur > hi:
                break
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


class ConnSet:
    """Allowed connections: protocol -> port intervals (absent protocol: none)."""

    __slots__ = ("_hash", "ports")

    def __init__(self, ports: dict[str, Intervals] | None = None) -> None:
        self.ports = {p: iv for p, iv in (ports or {}).items() if iv}
        self._hash: int | None = None

    @classmethod
    def all(cls) -> ConnSet:
        return _ALL

    @classmethod
    def none(cls) -> ConnSet:
        return _NONE

    @classmethod
    def of(cls, protocol: str, lo: int, hi: int | None = None) -> ConnSet:
        return cls({protocol: normalize([(lo, lo if hi is None else hi)])})

    def is_empty(self) -> bool:
        return not self.ports

    def is_all(self) -> bool:
        return all(self.ports.get(p) == FULL_PORTS for p in PROTOCOLS)

    def union(self, other: ConnSet) -> ConnSet:
        if other.is_empty():
            return self
        if self.is_empty():
            return other
        keys = set(self.ports) | set(other.ports)
        return ConnSet({p: normalize(self.ports.get(p, ()) + other.ports.get(p, ())) for p in keys})

    def intersect(self, other: ConnSet) -> ConnSet:
        if self.is_empty() or other.is_empty():
            return _NONE
        keys = set(self.ports) & set(other.ports)
        return ConnSet({p: intersect(self.ports[p], other.ports[p]) for p in keys})

    def subtract(self, other: ConnSet) -> ConnSet:
        if self.is_empty() or other.is_empty():
            return self
        return ConnSet({p: subtract(iv, other.ports.get(p, ())) for p, iv in self.ports.items()})

    def contains(self, other: ConnSet) -> bool:
        return other.subtract(self).is_empty()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnSet) and self.ports == other.ports

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(sorted(self.ports.items())))
        return self._hash

    def __str__(self) -> str:
        if self.is_all():
            return "All Connections"
        if self.is_empty():
            return "No Connections"
        parts = []
        for proto in sorted(self.ports):
            ranges = ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.ports[proto])
            parts.append(f"{proto} {ranges}")
        return ",".join(parts)

    def __repr__(self) -> str:
        return f"ConnSet({self})"


_ALL = ConnSet({p: FULL_PORTS for p in PROTOCOLS})
_NONE = ConnSet()
