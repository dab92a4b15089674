"""Cluster findings traced to the Helm release, template line and values key behind them.

An object a Helm release made (`meta.helm.sh/release-name`) came from the release's chart
rendered with its values. Helm keeps both in the deployed revision's Secret: the chart
(templates, default values; never its subcharts) and the user-supplied values. The chart
is written to a temporary directory and rendered locally with those values, in the
bounded render worker and without fetching anything; the rendered objects are checked
with the same rules and traced as a chart on disk is (kubevet.trace). Each cluster
finding takes the template, line and values key of the same finding on the same object
of that render, so it says which values key to change. A finding with no counterpart
(the object changed on the cluster since, or a subchart made it) stays untraced, counted
in a warning.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import TYPE_CHECKING

from kubevet.context import InputGroup
from kubevet.model import K8sObject
from kubevet.plurals import counted

if TYPE_CHECKING:
    from kubevet.findings import Finding
    from kubevet.runner import RunSettings
    from kubevet.sources.releases import Release

RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"
Key = tuple[str, str, str, str, str]  # code, kind, namespace, name, container


def trace_cluster(group: InputGroup, findings: list[Finding], settings: RunSettings) -> None:
    """Set template, line and values key on the findings of objects of a Helm release."""
    from kubevet.sources.releases import find_releases

    wanted = _by_release(findings)
    if not wanted:
        return
    stored = InputGroup(label=group.label, source="cluster", objects=group.releases)
    releases, errors, notes = find_releases([stored])
    group.errors.extend(errors)
    group.warnings.extend(notes)
    index = {(r.namespace, r.name): r for r in releases}
    for (namespace, name), mine in sorted(wanted.items()):
        rel = index.get((namespace, name))
        if rel is None:
            group.warnings.append(
                f"release {namespace}/{name}: no deployed release Secret was read, so its "
                f"{counted(len(mine), 'finding')} {'is' if len(mine) == 1 else 'are'} not "
                "traced to values"
            )
            continue
        _trace_release(rel, mine, group, settings)


def _by_release(findings: list[Finding]) -> dict[tuple[str, str], list[Finding]]:
    out: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        obj = f.obj
        if f.origin.release and isinstance(obj, K8sObject):
            namespace = obj.annotations.get(RELEASE_NAMESPACE) or obj.namespace or "default"
            out[(str(namespace), f.origin.release)].append(f)
    return out


def _trace_release(
    rel: Release, findings: list[Finding], group: InputGroup, settings: RunSettings
) -> None:
    from kubevet.engine import check_group
    from kubevet.sources.helm import load_chart
    from kubevet.sources.releases import stored_chart
    from kubevet.trace import trace_chart
    from kubevet.trace.place import place_findings

    helm = dataclasses.replace(
        settings.helm, kube_version=settings.helm.kube_version or group.kube_version
    )
    try:
        with stored_chart(rel, helm) as (chart_dir, opts, notes):
            rendered = load_chart(chart_dir, opts)
            if rendered.errors:
                why = "; ".join(e.message for e in rendered.errors)
                group.warnings.append(
                    f"{rel.label}: not traced, the stored chart did not render: {why}"
                )
                return
            theirs = check_group(rendered, settings.rules(), settings.options)
            place_findings(theirs)
            trace_chart(rendered, theirs, opts)
    except (OSError, ValueError) as exc:
        group.warnings.append(f"{rel.label}: not traced: {exc}")
        return
    group.warnings.extend(f"{rel.label}: {n}" for n in [*notes, *rendered.warnings])
    missed = _copy_traces(findings, theirs, rel)
    if missed:
        group.warnings.append(
            f"{rel.label}: {missed} of {len(findings)} findings have no counterpart in the "
            "stored chart rendered with the stored values (changed on the cluster since, or "
            "made by a subchart): not traced"
        )


def _copy_traces(findings: list[Finding], theirs: list[Finding], rel: Release) -> int:
    """Give each cluster finding the trace of its counterpart (same rule, object, container
    and path; else the one such finding at another path, where the server filled a field
    in); returns how many are left without."""
    exact = {(*_key(f), f.path): f for f in theirs}
    loose: dict[Key, list[Finding]] = defaultdict(list)
    for f in theirs:
        loose[_key(f)].append(f)
    missed = 0
    for f in findings:
        twin = exact.get((*_key(f), f.path))
        if twin is None and len(loose.get(_key(f), [])) == 1:
            twin = loose[_key(f)][0]
        if twin is None:
            missed += 1
            continue
        f.trace = twin.trace
        f.source_line = twin.source_line
        f.origin = dataclasses.replace(
            f.origin,
            template=twin.origin.template,
            chart=rel.chart_meta.get("name"),
            chart_version=rel.chart_meta.get("version"),
        )
    return missed


def _key(f: Finding) -> Key:
    return (f.code, f.object.kind, f.object.namespace or "", f.object.name, f.container or "")
