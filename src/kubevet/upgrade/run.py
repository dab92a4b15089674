"""The `kubevet upgrade` pipeline: load inputs, rewrite manifests (--fix), analyze, audit."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubevet.context import InputGroup
from kubevet.findings import InputError
from kubevet.model import K8sObject
from kubevet.sources import discover, load_input
from kubevet.upgrade.analyze import ObjectResult, Target, analyze_group, count
from kubevet.upgrade.audit import ClientUsage, read_audit_log
from kubevet.upgrade.baseline import mark_already_broken
from kubevet.upgrade.crd import crd_versions
from kubevet.upgrade.rewrite import Change, rewrite_file
from kubevet.upgrade.table import fmt

if TYPE_CHECKING:
    from kubevet.sources.kubeapi import ClusterOptions
    from kubevet.upgrade.live import LiveCluster

REWRITABLE_SOURCES = ("manifests",)


@dataclass
class InputSummary:
    """One chart, release or manifest set: what it is and how it fares."""

    label: str
    source: str
    objects: int
    blockers: int
    already: int
    warnings: int
    errors: int
    chart: str = ""  # name-version for charts and releases

    @classmethod
    def of(cls, group: InputGroup, results: list[ObjectResult]) -> InputSummary:
        blockers, warnings, already = count(results)
        meta = group.chart
        chart = f"{meta.name}-{meta.version}" if meta and meta.name else ""
        return cls(
            group.label,
            group.source,
            len(group.objects),
            blockers,
            already,
            warnings,
            len(group.errors),
            chart,
        )

    @property
    def state(self) -> str:
        if self.errors:
            return "ERROR"
        if self.blockers:
            return "BLOCKED"
        if self.already:
            return "BROKEN"  # already, at the baseline release: not this upgrade's doing
        return "WARN" if self.warnings else "OK"


@dataclass
class UpgradeReport:
    target: Target
    inputs: list[InputSummary] = field(default_factory=list)
    helm: Any = None  # the HelmOptions charts were rendered with
    results: list[ObjectResult] = field(default_factory=list)
    audit: list[ClientUsage] | None = None
    cluster: LiveCluster | None = None  # what --cluster read
    changes: list[Change] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    objects: int = 0

    @property
    def audit_blockers(self) -> list[ClientUsage]:
        return [u for u in self.audit or [] if u.removed_by(self.target.to)]

    def counts(self) -> tuple[int, int, int]:
        """(blockers this upgrade brings, warnings, blockers already there at the baseline)."""
        blockers, warnings, already = count(self.results)
        calls = self.audit or []
        blockers += len(self.audit_blockers)
        warnings += len(calls) - len(self.audit_blockers)
        return blockers, warnings, already

    @property
    def blocked(self) -> bool:
        return self.counts()[0] > 0


def run_upgrade(
    paths: list[str],
    helm_opts: Any,
    target: Target,
    audit_log: str | None,
    fix: bool,
    exclude: list[str] | None = None,
    gitignore: bool = True,
    cluster: ClusterOptions | None = None,
    snapshot: bool = False,
) -> UpgradeReport:
    live, target, problems = _read_cluster(cluster, target) if cluster else (None, target, [])
    if live is not None:  # the cluster's CRDs and aggregated APIs, as charts would see them
        apis = [*helm_opts.api_versions, *live.api_versions]
        helm_opts = dataclasses.replace(helm_opts, api_versions=apis)
    report = UpgradeReport(target, helm=helm_opts, cluster=live, errors=problems)
    walk = (exclude or [], gitignore, snapshot)  # --exclude, .gitignore; dumps as a cluster
    groups = _load(paths, helm_opts, report, walk)
    if fix:
        changes = _rewrite(groups, target, report, paths)
        if any(c.done for c in changes):
            groups = _load(paths, helm_opts, UpgradeReport(target), walk)  # what is on disk now
    if live is not None:
        groups.append(live.group)
        report.warnings.extend(live.group.warnings)
    groups += _stored(groups, report, [o for g in groups for o in g.releases])
    crds = crd_versions(obj for g in groups for obj in g.objects)
    for group in groups:
        report.objects += len(group.objects)
        results = analyze_group(group, target, crds)
        report.warnings.extend(mark_already_broken(group, results, target, report.helm, crds))
        report.inputs.append(InputSummary.of(group, results))
        report.results.extend(results)
    if audit_log:
        report.audit, errors = read_audit_log(audit_log)
        report.errors.extend(errors)
    return report


def _load(
    paths: list[str], helm_opts: Any, report: UpgradeReport, walk: tuple[list[str], bool, bool]
) -> list[InputGroup]:
    """Charts last, so that they render with the CRDs of the other inputs served, as on a
    cluster where those are installed; the groups keep the order of the inputs."""
    from kubevet.sources import skipped_summary
    from kubevet.sources.helm import crd_apis_of

    exclude, gitignore, snapshot = walk
    items = discover(paths, exclude, gitignore)
    loaded: dict[int, InputGroup] = {}
    for i, item in enumerate(items):
        if item.kind != "chart":
            loaded[i] = load_input(item, helm_opts, snapshot=snapshot)
    crd_apis = crd_apis_of(o.data for g in loaded.values() for o in g.objects)
    if crd_apis:
        helm_opts = dataclasses.replace(
            helm_opts, api_versions=[*helm_opts.api_versions, *crd_apis]
        )
    report.helm = helm_opts
    for i, item in enumerate(items):
        if item.kind == "chart":
            loaded[i] = load_input(item, helm_opts, snapshot=snapshot)
    groups = [loaded[i] for i in range(len(items))]
    report.warnings.extend(skipped_summary([s for g in groups for s in g.skipped]))
    for group in groups:
        report.errors.extend(group.errors)
        report.warnings.extend(group.warnings)
        if group.source == "chart" and not group.errors:
            from kubevet.sources.capabilities import impossible_checks

            report.warnings.extend(f"{group.label}: {w}" for w in impossible_checks(group.label))
    return groups


def _read_cluster(
    opts: ClusterOptions, target: Target
) -> tuple[LiveCluster | None, Target, list[InputError]]:
    """The live cluster; its running release becomes `--from` when that was not given."""
    from kubevet.sources.kubeapi import ClusterError
    from kubevet.upgrade.live import read_live

    try:
        live = read_live(opts, target.table, target.to)
    except ClusterError as exc:
        return None, target, [InputError(opts.kubeconfig or "kubeconfig", str(exc))]
    running = live.running
    if running is None or target.current is not None:
        return live, target, []
    if running > target.to:
        msg = f"the cluster runs Kubernetes {live.git_version}, newer than the target "
        msg += fmt(target.to)
        return live, target, [InputError(f"cluster {live.context}", msg)]
    return live, dataclasses.replace(target, current=running), []


def _stored(
    groups: list[InputGroup], report: UpgradeReport, release_objects: list[K8sObject]
) -> list[InputGroup]:
    """Inputs found inside the inputs: Helm releases stored in Secrets or ConfigMaps (the
    manifest, and the chart re-rendered for the target), those a cluster holds, and
    last-applied configurations."""
    from kubevet.sources.releases import (
        applied_group,
        find_releases,
        manifest_group,
        render_release,
    )

    stored = InputGroup(label="cluster Helm releases", source="cluster", objects=release_objects)
    releases, errors, notes = find_releases([*groups, stored])
    report.errors.extend(errors)
    report.warnings.extend(notes)
    found = []
    for rel in releases:
        found += [manifest_group(rel), render_release(rel, report.helm)]
    applied = applied_group(groups)
    found += [applied] if applied else []
    for group in found:
        report.errors.extend(group.errors)
        report.warnings.extend(group.warnings)
    return found


def _rewrite(
    groups: list[InputGroup], target: Target, report: UpgradeReport, roots: list[str]
) -> list[Change]:
    """Rewrite manifest files; charts and overlays are reported, not rewritten. A file
    reached through a link that leaves the paths named is reported, not rewritten."""
    from kubevet.safewrite import WriteError

    files = sorted(
        {
            o.origin.file
            for g in groups
            if g.source in REWRITABLE_SOURCES
            for o in g.objects
            if not o.origin.file.endswith(".json")
        }
    )
    for path in files:
        try:
            report.changes.extend(rewrite_file(path, target, roots))
        except WriteError as exc:
            report.errors.append(InputError(path, f"cannot rewrite: {exc.reason}"))
        except (OSError, UnicodeDecodeError) as exc:
            report.errors.append(InputError(path, f"cannot rewrite: {exc}"))
    return report.changes
