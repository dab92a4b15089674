"""Upgrade readiness of objects: removed and deprecated APIs, CRD-declared deprecations and
validation against the target release's schema."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from kubevet.context import InputGroup
from kubevet.model import K8sObject
from kubevet.upgrade import convert
from kubevet.upgrade.crd import CrdVersion, crd_problem
from kubevet.upgrade.schema import SchemaChoice, validate_object
from kubevet.upgrade.served import is_alpha, load_served
from kubevet.upgrade.table import ApiEntry, Table, Version, fmt, split_api

ProblemKind = Literal[
    "removed", "deprecated", "unserved", "alpha", "schema", "crd-deprecated", "crd-unserved"
]


@dataclass
class Problem:
    kind: ProblemKind
    blocker: bool
    message: str
    breaks_in: str = ""  # release where it stops working ("" if it does not)
    replacement: str = ""
    rewritable: bool = False
    rewrite: str = ""  # what --fix does, or why it cannot
    changes: tuple[str, ...] = ()
    path: str = ""
    source: str = ""
    already: str = ""  # the baseline release when it is broken there too (not this upgrade)

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass
class ObjectResult:
    obj: K8sObject
    input: str
    source: str  # manifests, chart, kustomize, stdin
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Target:
    to: Version
    current: Version | None  # --from, as given
    table: Table
    schema: SchemaChoice | None  # None: schema validation off

    @property
    def baseline(self) -> Version:
        """The release running today: --from, else assumed to be the one before the target
        (an upgrade moves one minor release at a time)."""
        return self.current or (self.to[0], max(self.to[1] - 1, 0))


def analyze_group(
    group: InputGroup, target: Target, crds: dict[tuple[str, str], CrdVersion]
) -> list[ObjectResult]:
    results = []
    for obj in group.objects:
        problems = object_problems(obj, target, crds)
        if problems:
            results.append(ObjectResult(obj, group.label, group.source, problems))
    return results


def object_problems(
    obj: K8sObject, target: Target, crds: dict[tuple[str, str], CrdVersion]
) -> list[Problem]:
    problems: list[Problem] = []
    entry = target.table.lookup(obj.api_version, obj.kind)
    if entry is not None and (entry.removed_at(target.to) or entry.deprecated_at(target.to)):
        problems.append(api_problem(obj.data, entry, target, rewritable_here=True))
    elif (obj.api_version, obj.kind) not in crds:
        problems.extend(unserved_problems(obj.api_version, obj.kind, target))
    crd_msg = crd_problem(obj, crds)
    if crd_msg:
        info = crds[(obj.api_version, obj.kind)]
        kind: ProblemKind = "crd-deprecated" if info.served else "crd-unserved"
        problems.append(Problem(kind, not info.served, crd_msg, path="apiVersion"))
    gone = any(p.kind in ("removed", "unserved") for p in problems)
    if target.schema is not None and not gone:
        problems.extend(_schema_problems(obj, target.schema))
    return problems


def unserved_problems(api_version: str, kind: str, target: Target) -> list[Problem]:
    """A kind of a group Kubernetes ships that the target does not serve: not yet, no
    longer (without a table entry), or never (a typo, or a kind from another version)."""
    served = load_served()
    group, _ = split_api(api_version)
    if not served.ships_group(group):
        return []  # a custom resource or an aggregated API
    what = f"{api_version} {kind}"
    if served.serves(api_version, kind, target.to):
        if not is_alpha(api_version):
            return []
        msg = f"{what} is an alpha API: served only where the cluster enables it"
        return [Problem("alpha", False, msg, path="apiVersion")]
    ranges = served.serving_releases(api_version, kind)
    use = _served_alternative(group, kind, target.to)
    if ranges and all(lo > target.to for lo, _ in ranges):
        msg = f"{what} is not served before Kubernetes {fmt(ranges[0][0])}"
    elif ranges:
        last = max(hi for _, hi in ranges if hi < target.to)
        msg = f"{what} is not served since Kubernetes {fmt((last[0], last[1] + 1))}"
    else:
        msg = f"{what}: no such kind in {api_version} (Kubernetes {fmt(target.to)})"
    gone = [e for e in target.table.entries if e.kind == kind and e.removed_at(target.to)]
    if not use and gone:
        last = max(gone, key=lambda e: e.removed or (0, 0))
        msg += f"; {kind} is not served in any version since Kubernetes {fmt(last.removed)}"
        msg += f"; {last.note}" if last.note else ""
    else:
        msg += f"; use {use}" if use else "; no replacement API"
    breaks = fmt(ranges[-1][1]) if ranges and ranges[-1][1] < target.to else ""
    return [Problem("unserved", True, msg, breaks_in=breaks, replacement=use, path="apiVersion")]


def _served_alternative(group: str, kind: str, release: Version) -> str:
    """Another version of the group serving `kind`, else a served kind of that name's
    closest spelling (`PodDisruptionBudgets` -> `PodDisruptionBudget`)."""
    served = load_served()
    apis = sorted(
        (a for a, k in served.served_apis(release) if k == kind and split_api(a)[0] == group),
        key=lambda a: (is_alpha(a), "beta" in a, a),
    )
    if apis:
        return f"{apis[0]} {kind}"
    pairs = {k: a for a, k in served.served_apis(release) if split_api(a)[0] == group}
    close = difflib.get_close_matches(kind, list(pairs), n=1, cutoff=0.85)
    return f"{pairs[close[0]]} {close[0]}" if close else ""


def api_problem(
    data: dict[str, Any], entry: ApiEntry, target: Target, rewritable_here: bool
) -> Problem:
    removed = entry.removed_at(target.to)
    replacement = target.table.replacement_for(entry, target.to, target.current) or ""
    what = f"{entry.api_version} {entry.kind}"
    if removed:
        message = f"{what} is not served since Kubernetes {fmt(entry.removed)}"
    elif entry.removed:
        message = (
            f"{what} is deprecated since {fmt(entry.deprecated)}, removed in {fmt(entry.removed)}"
        )
    else:
        message = f"{what} is deprecated since {fmt(entry.deprecated)} (no removal planned)"
    rewritable, how = _rewrite_status(data, target, rewritable_here)
    use = f"{replacement} {entry.replacement_kind}" if entry.replacement_kind else replacement
    message += f"; use {use}" if use else "; no replacement API"
    return Problem(
        kind="removed" if removed else "deprecated",
        blocker=removed,
        message=message,
        breaks_in=fmt(entry.removed),
        replacement=use,
        rewritable=rewritable,
        rewrite=how,
        changes=entry.changes,
        path="apiVersion",
        source=f"{target.table.guide}#{entry.source.partition('#')[2]}"
        if entry.source.startswith("deprecation-guide#")
        else entry.source,
    )


def _rewrite_status(data: dict[str, Any], target: Target, in_file: bool) -> tuple[bool, str]:
    try:
        conv = convert.plan(data, target.table, target.to, target.current)
    except convert.NotConvertible as exc:
        return False, str(exc)
    if conv is None:
        return False, ""
    try:
        out = convert.converted_copy(data, conv)
    except convert.NotConvertible as exc:
        return False, str(exc)
    if target.schema is not None and target.schema.exact:
        check = validate_object(out, target.schema)
        if check.status == "invalid":
            return False, f"the converted object fails the schema: {check.path}: {check.message}"
    how = f"to {conv.new_api}" + (f" ({'; '.join(conv.notes)})" if conv.notes else "")
    return True, how


def _schema_problems(obj: K8sObject, schema: SchemaChoice) -> list[Problem]:
    result = validate_object(obj.data, schema)
    if result.status != "invalid":
        return []
    where = f" at {result.path}" if result.path else ""
    return [
        Problem(
            kind="schema",
            blocker=schema.exact,
            message=f"fails the Kubernetes {fmt(schema.release)} schema{where}: {result.message}",
            breaks_in=fmt(schema.release),
            path=result.path,
        )
    ]


def count(results: Iterable[ObjectResult]) -> tuple[int, int, int]:
    """(blockers this upgrade brings, warnings, blockers already there at the baseline)."""
    blockers = warnings = already = 0
    for r in results:
        for p in r.problems:
            if p.blocker and p.already:
                already += 1
            elif p.blocker:
                blockers += 1
            else:
                warnings += 1
    return blockers, warnings, already
