"""Reachability between workloads, external ranges and the ingress controller.

Per direction, each connection goes through the tiers of the policy API: ANP rules by
priority then order (Allow/Deny final, Pass falls through), then NetworkPolicy
isolation (final when isolated), then the BANP, then default allow. A connection
needs egress at the source and ingress at the destination. Cilium policies join the
NetworkPolicy tier (`cilium.py`): their allows add up with NetworkPolicy ones, their
denies win over every allow of the tier, and a selected endpoint is isolated in a
direction when a rule puts it in default deny there.

Speed: every selector is matched once per policy (peer sets of indices), and a
verdict is computed once per distinct combination of matching rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import compress
from typing import NamedTuple

from kubevet.netpol.cilium import identity_labels
from kubevet.netpol.conns import ConnSet, normalize
from kubevet.netpol.ipranges import ALL_V4, ALL_V6, atoms, covers, has_v6, range_text
from kubevet.netpol.types import Policy, PortSpec, Resources, Rule, Workload
from kubevet.selectors import SelectorError, matches

INGRESS_CONTROLLER = "{ingress-controller}"
CONTROLLER_NS = "ingress-controller-ns"
PortTable = tuple[tuple[str, int, str], ...]


class Connection(NamedTuple("Connection", [("src", str), ("dst", str), ("conn", ConnSet)])):
    """One allowed connection; a tuple, so lists of them sort fast by (src, dst). Its
    fields are given as types, not as this module's annotations (strings): NamedTuple
    made each a ForwardRef, whose compile() was the only one of a check, and the first
    compile() of a process sets up the `ast` module's types (~0.7 ms)."""

    __slots__ = ()

    def line(self) -> str:
        return f"{self.src} => {self.dst} : {self.conn}"


@dataclass
class _Compiled:
    """A rule with its peers resolved to indices of the peer universe."""

    order: int
    tier: str  # admin, np, baseline
    action: str
    peers: frozenset[int] | None  # None: every peer
    ports: list[PortSpec] | None
    mask: int | None = None  # `peers` as a bitmask, built on first use


@dataclass
class _Tiers:
    """The rules that apply to one subject in one direction, by tier."""

    admin: list[_Compiled] = field(default_factory=list)
    np_isolated: bool = False
    np_rules: list[_Compiled] = field(default_factory=list)
    baseline: list[_Compiled] = field(default_factory=list)


class Analysis:
    def __init__(self, res: Resources) -> None:
        self.res = res
        self.workloads = res.workloads
        n = len(self.workloads)
        self.controller = n  # the ingress controller's index in the peer universe
        in_blocks, out_blocks = _ip_blocks(res, "ingress"), _ip_blocks(res, "egress")
        # IPv6 ranges appear once any policy names an IPv6 address (a dual-stack cluster).
        space = ALL_V4 + ALL_V6 if any(map(has_v6, in_blocks + out_blocks)) else ALL_V4
        self.in_atoms = atoms(in_blocks, space)
        self.out_atoms = atoms(out_blocks, space)
        self.in_base = n + 1
        self.out_base = self.in_base + len(self.in_atoms)
        self.size = self.out_base + len(self.out_atoms)
        self._ns_labels = [res.namespaces.get(w.namespace, {}) for w in self.workloads]
        self._identities: list[dict[str, str]] | None = None  # Cilium, built on first use
        self._sel_cache: dict[tuple[str, str, str | None], frozenset[int]] = {}
        self._tiers = {"ingress": self._compile("ingress"), "egress": self._compile("egress")}
        self._verdicts: dict[tuple[object, ...], ConnSet] = {}
        self._all_mask = (1 << self.size) - 1
        self._spread_cache: dict[int, int] = {}
        self._in_names = [_ext(a) for a in self.in_atoms]
        self._out_names = [_ext(a) for a in self.out_atoms]
        self._tables: dict[PortTable, int] = defaultdict(int)  # port table -> peer mask
        for i in range(self.size):
            table = self.workloads[i].ports if i < n else ()
            self._tables[table] |= 1 << i

    # --- selection, done once per selector --------------------------------------------

    def _pods(self, pod_sel: dict, ns_sel: dict | None, own_ns: str | None) -> frozenset[int]:
        key = (repr(pod_sel), repr(ns_sel), own_ns)
        if key not in self._sel_cache:
            self._sel_cache[key] = frozenset(self._select(pod_sel, ns_sel, own_ns))
        return self._sel_cache[key]

    def _select(self, pod_sel: dict, ns_sel: dict | None, own_ns: str | None) -> list[int]:
        ns_ok: dict[str, bool] = {}
        out = []
        for i, w in enumerate(self.workloads):
            if own_ns is not None:
                if w.namespace != own_ns:
                    continue
            elif w.namespace not in ns_ok:
                ns_ok[w.namespace] = _match(ns_sel, self._ns_labels[i])
            if (own_ns is not None or ns_ok[w.namespace]) and _match(pod_sel, w.labels):
                out.append(i)
        if own_ns is None and _match(ns_sel, {}) and _match(pod_sel, {}):
            out.append(self.controller)  # an unlabelled pod in its own namespace
        return out

    def _identity_pods(self, selector: dict) -> frozenset[int]:
        """Pods (and the ingress controller) whose Cilium identity labels match."""
        key = ("cilium", repr(selector), None)
        hit = self._sel_cache.get(key)
        if hit is None:
            if self._identities is None:
                self._identities = [
                    identity_labels(w.labels, w.namespace, self._ns_labels[i], w.service_account)
                    for i, w in enumerate(self.workloads)
                ]
                self._identities.append(identity_labels({}, CONTROLLER_NS, {}, "default"))
            found = (i for i, labels in enumerate(self._identities) if _match(selector, labels))
            hit = self._sel_cache[key] = frozenset(found)
        return hit

    def _service_pods(self, ns: str, name: str | None, labels: dict | None) -> set[int]:
        """The pods behind the Services a Cilium `toServices` entry names."""
        out: set[int] = set()
        for svc in self.res.services:
            if (ns and svc.namespace != ns) or not svc.selector:
                continue
            if (name is not None and svc.name == name) or (
                labels is not None and _match(labels, svc.labels)
            ):
                picked = self._pods({"matchLabels": svc.selector}, None, svc.namespace)
                out.update(i for i in picked if i < self.controller)
        return out

    def subjects(self, p: Policy) -> frozenset[int]:
        if p.cilium:
            return frozenset(
                i for i in self._identity_pods(p.subject_pods or {}) if i < self.controller
            )
        own = p.namespace if p.kind == "NetworkPolicy" else None
        nss = p.subject_ns if p.kind != "NetworkPolicy" else None
        return frozenset(
            i for i in self._pods(p.subject_pods or {}, nss, own) if i < self.controller
        )

    def isolated(self, subject: int, direction: str) -> bool:
        """Whether a NetworkPolicy or Cilium policy puts the workload in default deny."""
        return self._tiers[direction][subject].np_isolated

    def peer_set(self, rule: Rule, direction: str) -> frozenset[int] | None:
        if any(pe.matches_all for pe in rule.peers):
            return None
        out: set[int] = set()
        base, atoms_ = (
            (self.in_base, self.in_atoms)
            if direction == "ingress"
            else (self.out_base, self.out_atoms)
        )
        for pe in rule.peers:
            if pe.ips is not None:
                out.update(base + k for k, a in enumerate(atoms_) if covers(pe.ips, a))
            elif pe.external:
                out.update(range(base, base + len(atoms_)))
            elif pe.cluster:
                out.update(range(self.controller + 1))
            elif pe.identity_selector is not None:
                out |= self._identity_pods(pe.identity_selector)
            elif pe.service is not None:
                out |= self._service_pods(*pe.service)
            else:
                out |= self._pods(pe.pod_selector or {}, pe.ns_selector, pe.own_namespace)
        return frozenset(out)

    def _compile(self, direction: str) -> list[_Tiers]:
        tiers = [_Tiers() for _ in self.workloads]
        admins = sorted(
            (p for p in self.res.policies if p.kind == "AdminNetworkPolicy"),
            key=lambda p: (p.priority, p.name),
        )
        return self._fill(tiers, admins, direction)

    def _fill(self, tiers: list[_Tiers], admins: list[Policy], direction: str) -> list[_Tiers]:
        order = 0
        # Cilium policies act in the NetworkPolicy tier: their allows add to it, their
        # denies take precedence over every allow of the tier.
        nps = [p for p in self.res.policies if p.kind == "NetworkPolicy" or p.cilium]
        banps = [p for p in self.res.policies if p.kind == "BaselineAdminNetworkPolicy"]
        for tier, policies in (("admin", admins), ("np", nps), ("baseline", banps)):
            for p in policies:
                rules = p.ingress if direction == "ingress" else p.egress
                isolates = tier == "np" and p.isolates(direction)
                if rules is None and not isolates:
                    continue
                subjects = self.subjects(p)
                compiled = []
                for r in rules or ():
                    peers = self.peer_set(r, direction)
                    compiled.append(_Compiled(order, tier, r.action, peers, r.ports))
                    order += 1
                for i in subjects:
                    t = tiers[i]
                    if tier == "admin":
                        t.admin.extend(compiled)
                    elif tier == "np":
                        t.np_isolated = t.np_isolated or isolates
                        t.np_rules.extend(compiled)
                    else:
                        t.baseline.extend(compiled)
        return tiers

    # --- verdicts ---------------------------------------------------------------------

    def allowed(self, subject: int, direction: str) -> list[ConnSet]:
        """What the subject allows in one direction, per peer index (ports resolved
        against the destination). Peers are split into classes by the set of rules
        naming them (bitmask refinement), and each class is decided once."""
        t = self._tiers[direction][subject]
        classes: list[tuple[tuple[_Compiled, ...], int]] = [((), self._all_mask)]
        for r in (*t.admin, *t.np_rules, *t.baseline):
            rm = self._mask(r)
            split = []
            for sig, m in classes:
                inside = m & rm
                if inside:
                    split.append(((*sig, r), inside))
                if inside != m:
                    split.append((sig, m ^ inside))
            classes = split
        merged: dict[int, tuple[ConnSet, int]] = {}  # same verdict: one class
        for sig, m in classes:
            for table, tm in self._dest_tables(direction, subject, sig, m):
                conn = self._verdict(direction, t, sig, table)
                old = merged.get(id(conn))
                merged[id(conn)] = (conn, tm | (old[1] if old else 0))
        return self._spread(list(merged.values()))

    def _dest_tables(
        self, direction: str, subject: int, sig: tuple[_Compiled, ...], m: int
    ) -> list[tuple[PortTable, int]]:
        """The destination port tables a class needs: egress named ports resolve per peer."""
        if direction == "ingress":
            return [(self.workloads[subject].ports, m)]
        if not any(s.name is not None for r in sig for s in r.ports or ()):
            return [((), m)]
        return [(table, m & tm) for table, tm in self._tables.items() if m & tm]

    def _spread(self, verdicts: list[tuple[ConnSet, int]]) -> list[ConnSet]:
        """Per peer index, its class's verdict: class ids are laid out one byte per peer
        with big-integer arithmetic, so no Python loop runs per peer."""
        if len(verdicts) > 255:
            arr = [verdicts[0][0]] * self.size
            for conn, m in verdicts[1:]:
                for i in _indices(m):
                    arr[i] = conn
            return arr
        acc = 0
        for k, (_, m) in enumerate(verdicts[1:], start=1):
            acc |= self._bytes_of(m) * k
        conns = [v[0] for v in verdicts]
        return [conns[b] for b in acc.to_bytes(self.size, "little")]

    def _bytes_of(self, mask: int) -> int:
        """The mask with one byte per bit (0 or 1), as an integer; cached, masks recur."""
        hit = self._spread_cache.get(mask)
        if hit is None:
            if len(self._spread_cache) > 4096:
                self._spread_cache.clear()
            raw = bin(mask)[:1:-1].encode().translate(_BITS)
            hit = self._spread_cache[mask] = int.from_bytes(raw, "little")
        return hit

    def _mask(self, r: _Compiled) -> int:
        if r.peers is None:
            return self._all_mask
        if r.mask is None:
            r.mask = sum(1 << i for i in r.peers)
        return r.mask

    def _verdict(
        self, direction: str, t: _Tiers, sig: tuple[_Compiled, ...], table: PortTable
    ) -> ConnSet:
        key = (direction, tuple(r.order for r in sig), table, t.np_isolated)
        hit = self._verdicts.get(key)
        if hit is None:
            hit = self._verdicts[key] = _decide(t, list(sig), table)
        return hit

    # --- the connection list ----------------------------------------------------------

    def connections(self) -> list[Connection]:
        n = len(self.workloads)
        egress = [self.allowed(i, "egress") for i in range(n)]
        ingress = [self.allowed(i, "ingress") for i in range(n)]
        columns = list(zip(*ingress, strict=True))  # columns[s][d]: d's ingress verdict for s
        keys = [w.key for w in self.workloads]
        out: list[Connection] = []
        meet: dict[tuple[int, int], ConnSet | bool] = {}  # False: empty intersection
        for s in range(n):
            row, src = egress[s], keys[s]
            conns = self._row(row[:n], columns[s][:n], meet)
            conns[s] = False  # a pod cannot block itself: self-connections are left out
            out.extend(Connection(src, keys[d], conns[d]) for d in compress(range(n), conns))
            for k, name in enumerate(self._out_names):
                conn = row[self.out_base + k]
                if conn.ports:
                    out.append(Connection(src, name, conn))
        for d in range(n):
            row = ingress[d]
            for k, name in enumerate(self._in_names):
                conn = row[self.in_base + k]
                if conn.ports:
                    out.append(Connection(name, keys[d], conn))
        out.extend(self._exposed(ingress))
        out.sort()  # (src, dst) pairs are unique: conn is never compared
        return out

    @staticmethod
    def _row(
        egress: list[ConnSet], ingress: tuple[ConnSet, ...], meet: dict
    ) -> list[ConnSet | bool]:
        """egress ∩ ingress per destination; verdicts are shared objects, so each
        distinct pair is intersected once and looked up by identity (C-level loops)."""
        pairs = list(zip(map(id, egress), map(id, ingress), strict=True))
        conns = list(map(meet.get, pairs))
        if None in conns:
            for d, conn in enumerate(conns):
                if conn is None:
                    both = egress[d].intersect(ingress[d])
                    conns[d] = meet[pairs[d]] = both if both.ports else False
        return conns

    def _exposed(self, ingress: list[list[ConnSet]]) -> list[Connection]:
        ports: dict[int, ConnSet] = {}
        for ex in self.res.exposures:
            for i in self._pods({"matchLabels": ex.selector}, None, ex.namespace):
                if i < self.controller:
                    conn = _target_conn(ex.target, ex.protocol, self.workloads[i])
                    ports[i] = ports.get(i, ConnSet.none()).union(conn)
        out = []
        for i, conn in ports.items():
            allowed = conn.intersect(ingress[i][self.controller])
            if not allowed.is_empty():
                out.append(Connection(INGRESS_CONTROLLER, self.workloads[i].key, allowed))
        return out


_BITS = bytes.maketrans(b"01", b"\x00\x01")


def _indices(mask: int) -> Iterator[int]:
    """The set bits of a mask, lowest first (bit scan done in C)."""
    bits = bin(mask)[:1:-1].encode().translate(_BITS)
    return compress(range(len(bits)), bits)


def _ext(atom: tuple[int, int]) -> str:
    return f"{range_text(atom)}[External]"


def _match(selector: dict | None, labels: dict[str, str]) -> bool:
    try:
        return matches(selector, labels)
    except SelectorError:
        return False


def _ip_blocks(res: Resources, direction: str) -> list:
    """Every address block a policy names in this direction (they split the ranges)."""
    blocks = []
    for p in res.policies:
        for r in (p.ingress if direction == "ingress" else p.egress) or []:
            blocks.extend(pe.ips for pe in r.peers if pe.ips is not None)
    return blocks


def _target_conn(target: int | str | None, proto: str, w: Workload) -> ConnSet:
    if target is None:
        return ConnSet.all()
    if isinstance(target, int) or str(target).isdigit():
        return ConnSet.of(proto, int(target))
    conn = ConnSet.none()
    for name, port, p in w.ports:
        if name == target:
            conn = conn.union(ConnSet.of(p, port))
    return conn


def rule_conns(ports: list[PortSpec] | None, table: PortTable) -> ConnSet:
    """The connections a rule's port list covers, named ports resolved against `table`."""
    if ports is None:
        return ConnSet.all()
    acc: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for spec in ports:
        if spec.name is not None:
            for name, port, proto in table:
                if name == spec.name and (spec.protocol is None or spec.protocol == proto):
                    acc[proto].append((port, port))
        elif spec.start is None:
            acc[spec.protocol or "TCP"].append((1, 65535))
        else:
            acc[spec.protocol or "TCP"].append((spec.start, spec.end or spec.start))
    return ConnSet({p: normalize(iv) for p, iv in acc.items()})


def _decide(t: _Tiers, rules: list[_Compiled], table: PortTable) -> ConnSet:
    """Walk the tiers for one (subject, peer) given the rules that name the peer."""
    undecided, allowed, passed = ConnSet.all(), ConnSet.none(), ConnSet.none()
    for r in rules:
        if r.tier != "admin":
            continue
        conns = rule_conns(r.ports, table).intersect(undecided)
        if r.action == "Allow":
            allowed = allowed.union(conns)
        elif r.action == "Pass":
            passed = passed.union(conns)
        undecided = undecided.subtract(conns)
    # Pass and no match both fall through to NetworkPolicy, then to the baseline.
    undecided = undecided.union(passed)
    np_allowed, np_denied = ConnSet.none(), ConnSet.none()
    for r in rules:
        if r.tier == "np":
            conns = rule_conns(r.ports, table)
            if r.action == "Deny":  # Cilium deny: final, over every allow of the tier
                np_denied = np_denied.union(conns)
            else:
                np_allowed = np_allowed.union(conns)
    undecided = undecided.subtract(np_denied)
    if t.np_isolated:
        return allowed.union(undecided.intersect(np_allowed))
    for r in rules:
        if r.tier == "baseline":
            conns = rule_conns(r.ports, table).intersect(undecided)
            if r.action == "Allow":
                allowed = allowed.union(conns)
            undecided = undecided.subtract(conns)
    return allowed.union(undecided)
