"""Equivalent checks in other tools: data, verified at each peer's source, not code.

Two tables, both in `kubevet.data`:
- `mycharts-check-map.csv`: the seven-analyzer study's unified check list (check_0 to
  check_68) with each tool's native ids, as the study published it. Rules name the unified
  checks they implement (`unified=`); the study's native ids are claims, not facts.
- `peer-checks.csv`: one row per (peer check, kubevet rule) pair, read at the peer's own
  check source. Columns: tool, check (native id), rule (kubevet code; empty when kubevet
  has no rule for it), relation, source (`owner/repo/path@commit`, or `unverified`) and a
  note (the difference, or why the check is not covered). A check with no rule is a
  coverage row: "not covered", and why. `peers.yaml` names each peer and what of it is
  left out of the table (control-plane flags, cluster-only checks).

Relation says how the peer's check compares with the kubevet rule:
- same: it fails the same objects for the same reason (differences of default noted);
- narrower: it fails a subset of what the rule reports;
- broader: it fails a superset (the rest is left to other kubevet rules, or not covered);
- related: the same concern, but neither contains the other.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, cast

import yaml

from kubevet.data import read_text
from kubevet.rules.registry import Rule

Relation = Literal["same", "narrower", "broader", "related"]
RELATIONS: tuple[Relation, ...] = ("same", "narrower", "broader", "related")
UNVERIFIED = "unverified"
# owner/repo/path@commit (a full or abbreviated hex commit)
SOURCE_RE = re.compile(r"^[\w.-]+/[\w.-]+/[^@\s]+@[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class Equivalent:
    """One peer check and how it relates to one kubevet rule (or to none)."""

    tool: str  # key in peers.yaml, e.g. "checkov"
    id: str  # the peer's native id, e.g. "CKV_K8S_40"
    rule: str  # kubevet code, "" when kubevet has no rule for the check
    relation: Relation | None  # None when unverified or not covered
    source: str  # "owner/repo/path@commit", or "unverified"
    note: str = ""

    @property
    def verified(self) -> bool:
        return self.source != UNVERIFIED

    @property
    def repo_path(self) -> str:
        return self.source.rsplit("@", 1)[0] if self.verified else ""

    @property
    def commit(self) -> str:
        return self.source.rsplit("@", 1)[1] if self.verified else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "id": self.id,
            "relation": self.relation or UNVERIFIED,
            "source": self.source,
            "note": self.note,
        }


def _data(name: str) -> str:
    return read_text(name)


@cache
def unified_table() -> dict[str, dict[str, str]]:
    """check id -> row (description and each tool's `|`-separated native ids)."""
    text = _data("mycharts-check-map.csv")
    return {row["unified_id"]: row for row in csv.DictReader(text.splitlines())}


@cache
def peers() -> dict[str, dict[str, Any]]:
    """tool key -> {name, repo, snapshot, left_out}, in display order."""
    return cast(dict[str, dict[str, Any]], yaml.safe_load(_data("peers.yaml"))["peers"])


@cache
def peer_checks() -> tuple[Equivalent, ...]:
    """Every row of peer-checks.csv (checked for shape by tests/test_crossref.py)."""
    rows = csv.DictReader(line for line in _data("peer-checks.csv").splitlines() if line)
    return tuple(
        Equivalent(
            tool=row["tool"],
            id=row["check"],
            rule=row["rule"],
            relation=cast(Relation, row["relation"]) if row["relation"] else None,
            source=row["source"],
            note=row["note"],
        )
        for row in rows
    )


@cache
def _by_rule() -> dict[str, tuple[Equivalent, ...]]:
    out: dict[str, list[Equivalent]] = defaultdict(list)
    for eq in peer_checks():
        if eq.rule:
            out[eq.rule].append(eq)
    order = {tool: i for i, tool in enumerate(peers())}
    return {
        code: tuple(sorted(eqs, key=lambda e: (order.get(e.tool, len(order)), _natural(e.id))))
        for code, eqs in out.items()
    }


def _natural(text: str) -> tuple[Any, ...]:
    """Sort CKV_K8S_9 before CKV_K8S_10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def equivalents(r: Rule) -> tuple[Equivalent, ...]:
    """The peer checks recorded against this rule, by tool then id."""
    return _by_rule().get(r.code, ())


def equivalent_ids(r: Rule) -> dict[str, tuple[str, ...]]:
    """tool -> native ids equivalent to the rule (verified or not), for compact outputs."""
    out: dict[str, list[str]] = {}
    for eq in equivalents(r):
        ids = out.setdefault(eq.tool, [])
        if eq.id not in ids:
            ids.append(eq.id)
    return {tool: tuple(ids) for tool, ids in out.items()}


def coverage(tool: str) -> dict[str, list[Equivalent]]:
    """A peer's checks in the table (native id -> its rows), in natural id order."""
    out: dict[str, list[Equivalent]] = defaultdict(list)
    for eq in peer_checks():
        if eq.tool == tool:
            out[eq.id].append(eq)
    return {k: out[k] for k in sorted(out, key=_natural)}
