"""ANP rules that a rule evaluated before them fully covers (dead rules)."""

from __future__ import annotations

from collections.abc import Iterator

from kubevet.netpol.analysis import Analysis, rule_conns
from kubevet.netpol.conns import ConnSet
from kubevet.netpol.types import Policy, Rule

Entry = tuple[Policy, int, Rule, frozenset[int], frozenset[int] | None, ConnSet | None]


def shadowed_rules(a: Analysis) -> Iterator[tuple[Policy, str, int, Policy, int]]:
    """(policy, direction, rule index, shadowing policy, its rule index) per dead rule."""
    anps = sorted(
        (p for p in a.res.policies if p.kind == "AdminNetworkPolicy"),
        key=lambda p: (p.priority, p.name),
    )
    for direction in ("ingress", "egress"):
        seen: list[Entry] = []
        for p in anps:
            subjects = a.subjects(p)
            for index, r in enumerate((p.ingress if direction == "ingress" else p.egress) or []):
                entry = (p, index, r, subjects, _peers(a, r, direction), _ports(r))
                hit = _first_cover(seen, entry)
                if hit is not None and subjects:
                    yield p, direction, index, hit[0], hit[1]
                seen.append(entry)


def _peers(a: Analysis, r: Rule, direction: str) -> frozenset[int] | None:
    return a.peer_set(r, direction)


def _ports(r: Rule) -> ConnSet | None:
    """The rule's ports, or None when named ports make them depend on the destination."""
    if r.ports is not None and any(s.name is not None for s in r.ports):
        return None
    return rule_conns(r.ports, ())


def _first_cover(seen: list[Entry], entry: Entry) -> Entry | None:
    _, _, _, subjects, peers, ports = entry
    for other in seen:
        _, _, _, o_subjects, o_peers, o_ports = other
        if not subjects <= o_subjects:
            continue
        if o_peers is not None and (peers is None or not peers <= o_peers):
            continue
        if o_ports is None or ports is None:
            if not (o_ports is None and ports is None and other[2].ports == entry[2].ports):
                continue
        elif not o_ports.contains(ports):
            continue
        return other
    return None
