"""Text and JSON output of `kubevet upgrade`: the verdict first, then each object."""

from __future__ import annotations

import json
from typing import Any

from kubevet.upgrade.analyze import ObjectResult
from kubevet.upgrade.run import UpgradeReport
from kubevet.upgrade.table import fmt


def verdict(report: UpgradeReport) -> str:
    blockers, warnings = report.counts()
    state = "BLOCKED" if blockers else "NOT BLOCKED"
    to = fmt(report.target.to)
    frm = f" from {fmt(report.target.current)}" if report.target.current else ""
    return (
        f"Upgrade{frm} to Kubernetes {to}: {state} "
        f"({_n(blockers, 'blocker')}, {_n(warnings, 'warning')}, {_n(report.objects, 'object')})"
    )


def render_text(report: UpgradeReport) -> str:
    lines = [verdict(report)]
    schema = report.target.schema
    if schema is not None:
        lines.append(f"schema: {schema.describe()}")
    if report.target.to > report.target.table.newest:
        lines.append(
            f"note: the API table covers releases up to {fmt(report.target.table.newest)}; "
            "check the release notes of later releases"
        )
    for result in sorted(report.results, key=_order):
        lines.append("")
        lines.extend(_object_lines(result))
    if report.audit is not None:
        lines.append("")
        lines.extend(_audit_lines(report))
    if report.changes:
        lines.append("")
        lines.extend(_change_lines(report))
    for w in report.warnings:
        lines.append(f"warning: {w}")
    for e in report.errors:
        lines.append(f"error: {e}")
    return "\n".join(lines) + "\n"


def _object_lines(r: ObjectResult) -> list[str]:
    o = r.obj
    where = f"{o.origin.file}:{o.origin.line}"
    lines = [f"{where}  {o.ref}  ({o.api_version})"]
    for p in r.problems:
        tag = "BLOCKER" if p.blocker else "warning"
        lines.append(f"  {tag}: {p.message}")
        if p.kind in ("removed", "deprecated"):
            lines.append(f"    rewrite: {_rewrite_text(r, p.rewritable, p.rewrite)}")
        lines.extend(f"    change: {c}" for c in p.changes)
    return lines


def _rewrite_text(r: ObjectResult, rewritable: bool, how: str) -> str:
    if not rewritable:
        return f"no ({how})" if how else "no"
    if r.source != "manifests":
        return f"by hand in the {r.source} source ({how}); --fix rewrites manifest files only"
    return f"yes with --fix, {how}"


def _audit_lines(report: UpgradeReport) -> list[str]:
    usage = report.audit or []
    if not usage:
        return ["audit log: no calls to deprecated APIs"]
    lines = ["audit log: clients calling deprecated APIs"]
    for u in usage:
        tag = "BLOCKER" if u.removed_by(report.target.to) else "warning"
        removal = f"removed in {u.removed_release}" if u.removed_release else "no removal planned"
        lines.append(
            f"  {tag}: {u.user or '?'} ({u.user_agent or 'no user agent'}) "
            f"{'/'.join(sorted(u.verbs))} {u.api_version} {u.resource} ({removal}): "
            f"{_n(u.count, 'call')}, last seen {u.last_seen or '?'}"
        )
    return lines


def _change_lines(report: UpgradeReport) -> list[str]:
    lines = ["rewrites (--fix):"]
    for c in report.changes:
        head = f"  {c.file}:{c.line} {c.kind} {c.name} {c.old_api}"
        if c.done:
            lines.append(f"{head} -> {c.new_api}" + (f" ({'; '.join(c.notes)})" if c.notes else ""))
        else:
            lines.append(f"{head}: not rewritten, {c.reason}")
    return lines


def render_json(report: UpgradeReport) -> str:
    blockers, warnings = report.counts()
    schema = report.target.schema
    data: dict[str, Any] = {
        "target": fmt(report.target.to),
        "from": fmt(report.target.current) or None,
        "blocked": blockers > 0,
        "blockers": blockers,
        "warnings": warnings,
        "objects_checked": report.objects,
        "schema": None
        if schema is None
        else {
            "release": fmt(schema.release),
            "exact": schema.exact,
            "package": schema.package_version,
        },
        "objects": [_object_json(r) for r in sorted(report.results, key=_order)],
        "audit": None
        if report.audit is None
        else [u.as_dict(report.target.to) for u in report.audit],
        "rewrites": [c.as_dict() for c in report.changes],
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in report.errors],
        "warnings_text": report.warnings,
    }
    return json.dumps(data, indent=2) + "\n"


def _object_json(r: ObjectResult) -> dict[str, Any]:
    o = r.obj
    return {
        "input": r.input,
        "source": r.source,
        "file": o.origin.file,
        "line": o.origin.line,
        "template": o.origin.template,
        "apiVersion": o.api_version,
        "kind": o.kind,
        "namespace": o.namespace,
        "name": o.name,
        "problems": [p.as_dict() for p in r.problems],
    }


def _order(r: ObjectResult) -> tuple[Any, ...]:
    return (r.obj.origin.file, r.obj.origin.line, r.obj.kind, r.obj.name)


def _n(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
