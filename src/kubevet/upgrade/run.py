"""The `kubevet upgrade` pipeline: load inputs, rewrite manifests (--fix), analyze, audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubevet.context import InputGroup
from kubevet.findings import InputError
from kubevet.sources import discover, load_input
from kubevet.upgrade.analyze import ObjectResult, Target, analyze_group, count
from kubevet.upgrade.audit import ClientUsage, read_audit_log
from kubevet.upgrade.crd import crd_versions
from kubevet.upgrade.rewrite import Change, rewrite_file

REWRITABLE_SOURCES = ("manifests",)


@dataclass
class UpgradeReport:
    target: Target
    results: list[ObjectResult] = field(default_factory=list)
    audit: list[ClientUsage] | None = None
    changes: list[Change] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    objects: int = 0

    @property
    def audit_blockers(self) -> list[ClientUsage]:
        return [u for u in self.audit or [] if u.removed_by(self.target.to)]

    def counts(self) -> tuple[int, int]:
        blockers, warnings = count(self.results)
        calls = self.audit or []
        blockers += len(self.audit_blockers)
        warnings += len(calls) - len(self.audit_blockers)
        return blockers, warnings

    @property
    def blocked(self) -> bool:
        return self.counts()[0] > 0


def run_upgrade(
    paths: list[str], helm_opts: Any, target: Target, audit_log: str | None, fix: bool
) -> UpgradeReport:
    report = UpgradeReport(target)
    groups = _load(paths, helm_opts, report)
    if fix:
        changes = _rewrite(groups, target, report, paths)
        if any(c.done for c in changes):
            groups = _load(paths, helm_opts, UpgradeReport(target))  # analyze what is now on disk
    crds = crd_versions(obj for g in groups for obj in g.objects)
    for group in groups:
        report.objects += len(group.objects)
        report.results.extend(analyze_group(group, target, crds))
    if audit_log:
        report.audit, errors = read_audit_log(audit_log)
        report.errors.extend(errors)
    return report


def _load(paths: list[str], helm_opts: Any, report: UpgradeReport) -> list[InputGroup]:
    groups = []
    for item in discover(paths):
        group = load_input(item, helm_opts)
        report.errors.extend(group.errors)
        report.warnings.extend(group.warnings)
        groups.append(group)
    return groups


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
