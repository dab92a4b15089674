"""What a running cluster adds to `kubevet upgrade --cluster --to X`.

- `/version`: the release running today, the default for `--from`.
- Discovery: the API versions the cluster serves. Those of groups Kubernetes does not ship
  (CRDs, aggregated APIs) are added to `Capabilities.APIVersions` when charts and stored
  releases are rendered for the target, as the cluster would answer; built-in versions the
  target stops serving are named in the header (clients calling them show in --audit-log).
- The objects: each kind listed once, in a version the target still serves where there is
  one. An object is served in every version of its kind, so the version it is read in
  says nothing about what was applied: that comes from the deployed Helm releases' stored
  manifests and charts and from `kubectl.kubernetes.io/last-applied-configuration`. A kind
  served only in versions the target removes (PodSecurityPolicy on 1.24 for 1.25) is read
  in one of them, and each such object blocks.
Only GETs are sent (kubevet.sources.kubeapi).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubevet.context import InputGroup
from kubevet.sources.cluster import KINDS, read_cluster
from kubevet.sources.kubeapi import (
    ClusterOptions,
    Discovery,
    Resource,
    api_version_of,
    connect,
)
from kubevet.upgrade.served import load_served
from kubevet.upgrade.table import Table, Version, fmt, split_api, version


@dataclass
class LiveCluster:
    group: InputGroup  # the live objects (release Secrets in group.releases)
    context: str
    running: Version | None  # from /version
    git_version: str = ""
    api_versions: list[str] = field(default_factory=list)  # non-built-in, for Capabilities
    notes: list[str] = field(default_factory=list)  # for the report header

    def as_dict(self) -> dict[str, object]:
        return {
            "context": self.context,
            "version": self.git_version or None,
            "custom_api_versions": self.api_versions,
            "notes": self.notes,
        }


def read_live(opts: ClusterOptions, table: Table, to: Version) -> LiveCluster:
    """Read the cluster for an upgrade to `to`; ClusterError when it cannot be read."""
    cluster = connect(opts)
    kinds = _kinds_asked(table)
    groups = {g for g, _ in kinds}
    served = load_served()
    found = cluster.discover(lambda g, _v: g in groups or not served.ships_group(g))
    chosen = [r for r in (_choose(found, g, k, to) for g, k in sorted(kinds)) if r]
    group = read_cluster(cluster, chosen, opts.namespace)  # asks /version too
    git_version = group.kube_version or ""
    live = LiveCluster(group, cluster.context, version(git_version) if git_version else None)
    live.git_version = git_version
    live.api_versions = _custom_api_versions(found)
    live.notes = _notes(live, found, to)
    return live


def _kinds_asked(table: Table) -> set[tuple[str, str]]:
    """(group, kind): what the rules read, and every kind the removals table names, in
    the groups that serve or served it (a kind moves between groups: Ingress)."""
    kinds = {(g, k) for g, _, _, k in KINDS}
    for entry in table.entries:
        kinds.add((entry.group, entry.kind))
        if entry.replacement:
            kinds.add((split_api(entry.replacement)[0], entry.replacement_kind or entry.kind))
    return kinds


def _choose(found: Discovery, group: str, kind: str, to: Version) -> Resource | None:
    """One resource per kind: a version the target serves, the group's preferred first;
    else (nothing of it survives the target) the preferred one. A kind served by several
    groups (Ingress in extensions and networking.k8s.io) is read through the group the
    target still serves; the other group is then skipped."""
    served = load_served()
    options = [
        r
        for (g, v) in found.versions
        if g == group and (r := found.resource(api_version_of(g, v), kind))
    ]
    if not options:
        return None
    preferred = found.preferred.get(group)

    def alive(r: Resource) -> bool:
        return not served.ships_group(group) or served.serves(r.api_version, kind, to)

    if any(alive(r) for r in options) or not _elsewhere_alive(found, group, kind, to):
        options.sort(key=lambda r: (not alive(r), split_api(r.api_version)[1] != preferred))
        return options[0]
    return None  # read through the group that survives


def _elsewhere_alive(found: Discovery, group: str, kind: str, to: Version) -> bool:
    served = load_served()
    apis = [api_version_of(g, v) for g, v in found.versions if g != group]
    return any(found.resource(a, kind) and served.serves(a, kind, to) for a in apis)


def _custom_api_versions(found: Discovery) -> list[str]:
    """group/version and group/version/kind of what the cluster serves beyond Kubernetes'
    own groups (CRDs, aggregated APIs): charts asking `.Capabilities.APIVersions.Has` for
    them see them there, as on the cluster."""
    served = load_served()
    out: dict[str, None] = {}
    for g, v in found.versions:
        if g and not served.ships_group(g):
            out[f"{g}/{v}"] = None
            for kind in sorted(found.resources.get(f"{g}/{v}", {})):
                out[f"{g}/{v}/{kind}"] = None
    return list(out)


def _notes(live: LiveCluster, found: Discovery, to: Version) -> list[str]:
    served = load_served()
    running = f"Kubernetes {live.git_version}" if live.git_version else "version unknown"
    custom = len([a for a in live.api_versions if a.count("/") == 1])
    notes = [
        f"cluster: context {live.context}, {running} (/version), "
        f"{len(found.versions)} API versions served, {custom} of them CRDs or aggregated APIs "
        f"(added to Capabilities.APIVersions for the target)"
    ]
    gone = sorted(
        f"{g}/{v}"
        for g, v in found.versions
        if g
        and served.ships_group(g)
        and served.kinds_of(f"{g}/{v}")
        and not any(served.serves(f"{g}/{v}", k, to) for k in served.kinds_of(f"{g}/{v}"))
    )
    if gone:
        notes.append(
            f"the cluster serves {', '.join(gone)}, which Kubernetes {fmt(to)} does not: "
            "objects applied in them are listed below; clients calling them show in --audit-log"
        )
    return notes
