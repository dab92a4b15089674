"""Text and JSON output of `kubevet upgrade`: the verdict first, then each object."""

from __future__ import annotations

import json
from typing import Any

from kubevet.plurals import counted
from kubevet.upgrade.analyze import ObjectResult
from kubevet.upgrade.run import InputSummary, UpgradeReport
from kubevet.upgrade.served import load_served
from kubevet.upgrade.table import fmt


def verdict(report: UpgradeReport) -> str:
    blockers, warnings, already = report.counts()
    # An input that could not be checked leaves the answer open: "NOT BLOCKED" over a chart
    # that did not render (or that Helm refuses at the target) was a gate passing on nothing.
    state = "BLOCKED" if blockers else "NO ANSWER" if report.errors else "NOT BLOCKED"
    to, base = fmt(report.target.to), fmt(report.target.baseline)
    apart = f", {counted(already, 'blocker')} already there at {base}" if already else ""
    errors = f", {counted(len(report.errors), 'input error')}" if report.errors else ""
    return (
        f"Upgrade from {base} to Kubernetes {to}: {state} "
        f"({counted(blockers, 'blocker')}{apart}, {counted(warnings, 'warning')}, "
        f"{counted(report.objects, 'object')}{errors})"
    )


def assumptions(report: UpgradeReport) -> list[str]:
    """What the answer rests on, for the header."""
    t = report.target
    lines = list(report.cluster.notes) if report.cluster else []
    if t.current is None:
        lines.append(
            f"from: {fmt(t.baseline)}, assumed (the release before the target; "
            "give --from X.Y for the running release)"
        )
    if any(i.source == "chart" for i in report.inputs):
        lines.append(f"values: {_values_text(report.helm)}")
    served = load_served()
    extra = len(report.helm.api_versions) if report.helm is not None else 0
    plus = f", plus {extra} from --api-versions and the inputs' CRDs" if extra else ""
    lines.append(
        f"API list: {served.describe(t.to)}{plus}; charts rendered with it as "
        f"Capabilities.APIVersions (and for {fmt(t.baseline)} to tell what is already broken)"
    )
    if t.schema is not None:
        lines.append(f"schema: {t.schema.describe()}")
    else:
        lines.append("schema: not checked (--no-schema)")
    if t.to > t.table.newest:
        lines.append(
            f"note: the API table covers releases up to {fmt(t.table.newest)}; "
            "check the release notes of later releases"
        )
    return lines


def _values_text(helm: Any) -> str:
    if helm is None:
        return "chart defaults"
    given = [f"-f {v}" for v in helm.values_files]
    given += [f"--set {v}" for v in helm.set_values]
    given += [f"--set-string {v}" for v in helm.set_string_values]
    who = "chart defaults" + (f" with {', '.join(given)}" if given else " (no -f or --set)")
    return f"{who}; release {helm.release_name} in namespace {helm.namespace}"


def render_text(report: UpgradeReport) -> str:
    lines = [verdict(report)]
    lines.extend(assumptions(report))
    if report.inputs:
        lines.append("")
        lines.extend(_input_line(i, report) for i in report.inputs)
    current = None
    for result in sorted(report.results, key=_order):
        if result.input != current:
            current = result.input
            lines.append("")
            lines.append(f"== {current}")
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


def _input_line(i: InputSummary, report: UpgradeReport) -> str:
    what = f"{i.source} {i.label}" + (f" ({i.chart})" if i.chart else "")
    parts = [counted(i.objects, "object")]
    if i.blockers:
        parts.append(counted(i.blockers, "blocker"))
    if i.already:
        parts.append(
            f"{counted(i.already, 'blocker')} already there at {fmt(report.target.baseline)}"
        )
    if i.warnings:
        parts.append(counted(i.warnings, "warning"))
    if i.errors:
        parts.append(counted(i.errors, "error"))
    return f"{i.state:<8} {what}: {', '.join(parts)}"


def _object_lines(r: ObjectResult) -> list[str]:
    o = r.obj
    where = f"{o.origin.file}:{o.origin.line}" if o.origin.file else "(cluster)"
    lines = [f"{where}  {o.ref}  ({o.api_version})"]
    for p in r.problems:
        tag = "BLOCKER" if p.blocker else "warning"
        if p.blocker and p.already:
            tag = f"BLOCKER (already at {p.already}, not this upgrade)"
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
            f"{counted(u.count, 'call')}, last seen {u.last_seen or '?'}"
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
    blockers, warnings, already = report.counts()
    schema = report.target.schema
    data: dict[str, Any] = {
        "target": fmt(report.target.to),
        "from": fmt(report.target.baseline),
        "from_assumed": report.target.current is None,
        "assumptions": assumptions(report),
        "blocked": blockers > 0,
        "blockers": blockers,
        "already_broken": already,
        "warnings": warnings,
        "inputs": [dict(i.__dict__, state=i.state) for i in report.inputs],
        "objects_checked": report.objects,
        "schema": None
        if schema is None
        else {
            "release": fmt(schema.release),
            "exact": schema.exact,
            "package": schema.package_version,
        },
        "objects": [_object_json(r) for r in sorted(report.results, key=_order)],
        "cluster": report.cluster.as_dict() if report.cluster else None,
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
    return (r.input, r.obj.origin.file, r.obj.origin.line, r.obj.kind, r.obj.name)
