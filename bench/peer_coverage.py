"""Per-peer figures from the verified equivalents table, as markdown (docs/agreement.md).

    python bench/peer_coverage.py

Counts come from src/kubevet/data/peer-checks.csv only: how many of each peer's checks
the table lists, how many a kubevet rule covers, how many were read at the peer's source,
and how the verified (check, rule) pairs relate. No peer is run.
"""

from __future__ import annotations

from collections import Counter

from kubevet.rules.crossref import RELATIONS, coverage, peer_checks, peers


def peer_rows() -> list[str]:
    out = [
        "| peer | checks listed | covered by a rule | read at source | "
        + " | ".join(RELATIONS)
        + " | unverified pairs |",
        "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in RELATIONS) + " | ---: |",
    ]
    for tool, meta in peers().items():
        checks = coverage(tool)
        covered = sum(1 for rows in checks.values() if any(e.rule for e in rows))
        read = sum(1 for rows in checks.values() if all(e.verified for e in rows))
        pairs = [e for e in peer_checks() if e.tool == tool and e.rule]
        rel = Counter(e.relation for e in pairs if e.verified)
        unverified = sum(1 for e in pairs if not e.verified)
        out.append(
            f"| {meta['name']} | {len(checks)} | {covered} | {read} | "
            + " | ".join(str(rel[r]) for r in RELATIONS)
            + f" | {unverified} |"
        )
    return out


if __name__ == "__main__":
    print("\n".join(peer_rows()))
