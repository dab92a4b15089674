"""Which group/version/kinds a Kubernetes release serves (data/served-apis.yaml).

The table is generated from the OpenAPI schemas that kubernetes-validate ships per release
(scripts/served_apis.py). An OpenAPI document can keep a type for a release or two after
the API server stopped serving it (extensions/v1beta1 Deployment is still described in
1.16 and 1.17), so the removals of the deprecation table (from the migration guide) win.

Helm charts ask `.Capabilities.APIVersions.Has "policy/v1"` or, kind-qualified,
`"policy/v1/PodDisruptionBudget"`; a real cluster answers from discovery with both forms
for every served group/version and kind, which is what `api_versions` gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from kubevet.data import read_text
from kubevet.upgrade.table import Version, fmt, load_table, split_api, version

ALPHA = re.compile(r"^v\d+alpha\d+$")
Ranges = tuple[tuple[Version, Version], ...]


def is_alpha(api_version: str) -> bool:
    """Alpha APIs are off by default: a cluster serves them only when enabled."""
    return bool(ALPHA.match(split_api(api_version)[1]))


@dataclass
class ServedTable:
    first: Version
    last: Version
    source: str
    kinds: dict[tuple[str, str], Ranges]
    groups: frozenset[str] = field(default_factory=frozenset)
    _by_api: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.groups = frozenset(split_api(api)[0] for api, _ in self.kinds)
        for api, kind in sorted(self.kinds):
            self._by_api.setdefault(api, []).append(kind)

    def release_for(self, release: Version) -> Version:
        """The release whose data stands for `release` (the nearest covered one)."""
        return min(max(release, self.first), self.last)

    def ships_group(self, group: str) -> bool:
        """True for API groups Kubernetes itself serves (core, apps, policy, *.k8s.io it
        ships); groups of CRDs and aggregated APIs (autoscaling.k8s.io, metrics.k8s.io,
        gateway.networking.k8s.io) are not in the table."""
        return group in self.groups

    def serves(self, api_version: str, kind: str, release: Version) -> bool:
        at = self.release_for(release)
        ranges = self.kinds.get((api_version, kind), ())
        if not any(lo <= at <= hi for lo, hi in ranges):
            return False
        entry = load_table().lookup(api_version, kind)
        return entry is None or not entry.removed_at(release)

    def serving_releases(self, api_version: str, kind: str) -> Ranges:
        return self.kinds.get((api_version, kind), ())

    def kinds_of(self, api_version: str) -> list[str]:
        return self._by_api.get(api_version, [])

    def served_apis(self, release: Version) -> list[tuple[str, str]]:
        """(apiVersion, kind) served at `release`, alpha ones included."""
        return [(a, k) for (a, k) in self.kinds if self.serves(a, k, release)]

    def api_versions(self, release: Version) -> list[str]:
        """What Helm's `.Capabilities.APIVersions` holds on a cluster of `release` with its
        default API set: each served group/version and group/version/kind, alpha left out."""
        out: dict[str, None] = {}
        for api, kind in sorted(self.served_apis(release)):
            if not is_alpha(api):
                out[api] = None
                out[f"{api}/{kind}"] = None
        return list(out)

    def describe(self, release: Version) -> str:
        at = self.release_for(release)
        near = "" if at == release else f" (nearest covered release {fmt(at)})"
        return f"Kubernetes {fmt(release)} default API set{near}, from {self.source}"


def release_problem(v: Version) -> str | None:
    """Why kubevet cannot answer for Kubernetes release `v` (None: it can). A typo
    (`1.92`, or `1.3` for 1.30) or a release newer than this kubevet would otherwise get a
    verdict that no table stands behind."""
    from kubevet.upgrade.schema import shipped_releases

    if v[0] != 1:
        return "Kubernetes releases are 1.x"
    served, table = load_served(), load_table()
    newest = max(table.newest, served.last, *shipped_releases())
    if served.first <= v <= newest:
        return None
    later = "; a newer kubevet is needed for later ones" if v > newest else ""
    return (
        f"this kubevet knows Kubernetes releases from {fmt(served.first)} to {fmt(newest)} "
        f"(removed APIs up to {fmt(table.newest)}, schemas up to "
        f"{fmt(shipped_releases()[-1])}){later}"
    )


@cache
def load_served() -> ServedTable:
    from kubevet.sources.yamldocs import load_one

    text = read_text("served-apis.yaml")
    return parse_served(load_one(text))


def parse_served(data: dict[str, Any]) -> ServedTable:
    kinds: dict[tuple[str, str], Ranges] = {}
    for api, by_kind in data["apis"].items():
        for kind, text in by_kind.items():
            kinds[(str(api), str(kind))] = tuple(_range(r) for r in str(text).split(","))
    first, last = version(str(data["first"])), version(str(data["last"]))
    assert first is not None and last is not None
    return ServedTable(first, last, str(data.get("source", "")), kinds)


def _range(text: str) -> tuple[Version, Version]:
    lo, _, hi = text.partition("-")
    a, b = version(lo), version(hi or lo)
    assert a is not None and b is not None
    return a, b


@cache
def api_versions_for(kube_version: str) -> tuple[str, ...]:
    """Helm capabilities for a `--kube-version`/`--to` text such as "1.29" or "v1.29.3"."""
    release = version(kube_version)
    return tuple(load_served().api_versions(release)) if release else ()
