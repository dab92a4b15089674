"""Lever 2 applied: the fixes left after the values override, made on the rendered objects
(round after round, as for manifests), gated rule by rule, completed with the objects a
finding lacks, and proven through the patch set they become (postrender.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubevet.findings import Edit, Finding
from kubevet.fix.choose import MAX_ROUNDS, FixOptions, FixReport, check, choose, finding_key
from kubevet.fix.edits import apply_edits, tree_copy
from kubevet.fix.gate import (
    Ident,
    added_objects,
    autoscaled,
    culprits,
    object_ident,
    regroup,
    rises,
)
from kubevet.fix.jsonpatch import PatchError
from kubevet.fix.postrender import PatchSet, apply_set, build, kustomize, same_objects
from kubevet.fix.verify import identity, schema_errors

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.runner import RunSettings

MAX_WITHDRAWALS = 4  # gate rounds: re-check, withdraw what raised a rule, again

Fixes = list[tuple[Finding, tuple[Edit, ...]]]


@dataclass
class OverlayResult:
    patches: PatchSet = field(default_factory=PatchSet)
    applied: list[Finding] = field(default_factory=list)  # fixes the patches carry
    added: list[tuple[Finding, str]] = field(default_factory=list)  # remedied by an object
    removed: list[Finding] = field(default_factory=list)  # gone after applying the set
    withdrawn: list[tuple[Finding, str]] = field(default_factory=list)
    renamed: list[tuple[Finding, str]] = field(default_factory=list)  # not patchable by name
    problems: list[str] = field(default_factory=list)  # the proof failed: nothing offered
    after: list[Finding] = field(default_factory=list)
    proof: str = ""  # how the set was applied for the proof
    objects: list[dict[str, Any]] = field(default_factory=list)  # added to the render


def post_render_fix(
    group: InputGroup,
    findings: list[Finding],
    settings: RunSettings,
    opts: FixOptions,
    withdrawn: set[tuple[Any, ...]] | None = None,
    unstable: set[Ident] | None = None,
) -> OverlayResult:
    """Fix `findings` of the rendered `group` by patching its objects; a fix that adds a
    finding of any rule, or a schema error, is withdrawn and the rest done again (fixes
    `withdrawn` before, by the values lever's gate, are not tried). Objects `unstable`
    (named anew by every render: a test Pod's random suffix) are not patched: a patch
    names its target, and at install the object has another name."""
    result = OverlayResult()
    excluded: set[tuple[Any, ...]] = set(withdrawn or ())
    for f in findings:
        if unstable and object_ident(f) in unstable:
            excluded.add(finding_key(f))
            result.renamed.append((f, RENAMED))
    refused: set[Ident] = set()  # workloads whose added objects brought a finding
    for _attempt in range(MAX_WITHDRAWALS):
        fixes, datas = _rounds(group, findings, settings, opts, excluded)
        left = _left(findings, fixes, datas, group, settings)
        extra = [x for x in added_objects(left, datas, opts.unsafe) if _for(x) not in refused]
        final = regroup(group, autoscaled(datas, [o for _f, o in extra]) + [o for _f, o in extra])
        after = check(final, settings)
        policies: list[dict[str, Any]] = []
        credited: list[Finding] = []
        if opts.unsafe:
            final, after, credited, policies = _with_policies(final, after, left, settings)
        blamed = _completion_faults(left, after, extra)
        if blamed:  # the added objects, not the fixes: leave those out and try again
            refused |= blamed
            continue
        bad = _schema_culprits(group, fixes, datas, settings)
        rising = rises(findings, after)
        if rising:
            bad.update(culprits(group, findings, fixes, rising, settings))
            if not bad:  # nothing to withdraw, and a finding would come: offer nothing
                result.problems.append(
                    f"the patches would add {', '.join(rising)}; nothing offered"
                )
                return result
        if not bad:
            break
        for i, why in bad.items():
            excluded.add(finding_key(fixes[i][0]))
            result.withdrawn.append((fixes[i][0], why))
    else:
        result.problems.append("fixes kept adding findings after withdrawals; nothing offered")
        return result
    result.applied = [f for f, _e in fixes]
    result.added = [(f, f"adds {o['kind']} {o['metadata']['name']}") for f, o in extra]
    names = ", ".join(str(p["metadata"]["name"]) for p in policies)
    result.added += [(f, f"adds NetworkPolicies {names}") for f in credited]
    result.objects = [o for _f, o in extra] + policies
    result.after = after
    _prove(group, final, result)
    if not result.problems:
        gone = {finding_key(f) for f in after}
        done = [*result.applied, *(f for f, _w in result.added)]
        result.removed = [f for f in done if finding_key(f) not in gone]
    return result


RENAMED = (
    "the object's name changes with every render (a random suffix): a patch naming it "
    "would match nothing at install"
)


def _for(added: tuple[Finding, dict[str, Any]]) -> Ident:
    return object_ident(added[0])


def _completion_faults(
    left: list[Finding], after: list[Finding], extra: list[tuple[Finding, dict[str, Any]]]
) -> set[Ident]:
    """Workloads given an object (budget, autoscaler) on which a finding comes that the
    fixes alone did not bring."""
    had = {finding_key(f) for f in left}
    hit = {object_ident(f) for f in after if finding_key(f) not in had}
    return {_for(x) for x in extra if _for(x) in hit}


def _rounds(
    group: InputGroup,
    findings: list[Finding],
    settings: RunSettings,
    opts: FixOptions,
    excluded: set[tuple[Any, ...]],
) -> tuple[Fixes, list[dict[str, Any]]]:
    """The fixes made (with their edits) and the objects after them."""
    datas = {identity(o.data): tree_copy(o.data) for o in group.objects}
    tried = set(excluded)
    fixes: Fixes = []
    current = findings
    for _round in range(MAX_ROUNDS):
        chosen = [
            (f, e) for f, e in choose(current, opts, FixReport()) if finding_key(f) not in tried
        ]
        chosen += _conversions(current, datas, settings, tried)
        if not chosen:
            break
        for f, edits in chosen:
            tried.add(finding_key(f))
            ident = object_ident(f)
            if ident in datas:
                datas[ident] = apply_edits(datas[ident], edits)
                fixes.append((f, edits))
        current = check(regroup(group, list(datas.values())), settings)
    return fixes, list(datas.values())


def _conversions(
    findings: list[Finding],
    datas: dict[Ident, dict[str, Any]],
    settings: RunSettings,
    tried: set[tuple[Any, ...]],
) -> Fixes:
    """KV701 findings made fixes: the object converted to the replacement API."""
    from kubevet.fix.apiconvert import RULE, conversion_edits

    out: Fixes = []
    for f in findings:
        data = datas.get(object_ident(f))
        if f.code != RULE or f.suppressed is not None or data is None:
            continue
        if finding_key(f) not in tried:
            edits = conversion_edits(f, data, settings.options.kube_version)
            if edits:
                out.append((f, edits))
    return out


def _left(
    findings: list[Finding],
    fixes: Fixes,
    datas: list[dict[str, Any]],
    group: InputGroup,
    settings: RunSettings,
) -> list[Finding]:
    """The findings of the patched objects (what an added object may still remedy)."""
    return check(regroup(group, datas), settings) if fixes else findings


NETPOL_RULES = ("KV601", "KV605")


def _with_policies(
    final: InputGroup, after: list[Finding], left: list[Finding], settings: RunSettings
) -> tuple[InputGroup, list[Finding], list[Finding], list[dict[str, Any]]]:
    """`final` plus the NetworkPolicies `fix --network-policies` makes of it (default deny
    of ingress per namespace, one allow per Service from its users), when KV601 or KV605
    found something, the reachability proof keeps every intended connection and opens
    none, and they raise no rule; unsafe: the namespace's other workloads lose ingress
    unless they have policies of their own."""
    from kubevet.fix.netpolgen import plan, prove

    found = [f for f in left if f.code in NETPOL_RULES]
    if not found:
        return final, after, [], []
    p = plan(final.objects)
    if not p.policies or not prove(final.objects, p).ok:
        return final, after, [], []
    explicit = {o.data.get("metadata", {}).get("namespace") for o in final.objects}
    for policy in p.policies:  # the release's namespace stays Helm's to choose
        if policy["metadata"].get("namespace") not in explicit:
            policy["metadata"].pop("namespace", None)
    grown = regroup(final, [o.data for o in final.objects] + p.policies)
    again = check(grown, settings)
    if rises(after, again):
        return final, after, [], []
    gone = {finding_key(f) for f in again}
    return grown, again, [f for f in found if finding_key(f) not in gone], p.policies


def _schema_culprits(
    group: InputGroup, fixes: Fixes, datas: list[dict[str, Any]], settings: RunSettings
) -> dict[int, str]:
    """Fixes on objects the patches leave with a schema error they did not have."""
    version = settings.options.kube_version
    old = {identity(o.data): o.data for o in group.objects}
    broken: dict[tuple[str, str, str], str] = {}
    for data in datas:
        before = old.get(identity(data))
        if before is None or before == data:
            continue
        err = schema_errors(data, version)
        if err and err != schema_errors(before, version):
            broken[identity(data)] = err
    return {
        i: f"withdrawn: the patched object fails its schema ({broken[object_ident(f)]})"
        for i, (f, _e) in enumerate(fixes)
        if object_ident(f) in broken
    }


def _prove(group: InputGroup, final: InputGroup, result: OverlayResult) -> None:
    """Apply the set to the render as Kustomize would; the result must be the patched
    objects exactly, and kubectl's Kustomize (when installed) must agree."""
    base = [o.data for o in group.objects]
    wanted = [o.data for o in final.objects]
    result.patches = build(base, wanted)
    if not result.patches:
        return  # nothing to offer, nothing to prove
    try:
        own = apply_set(base, result.patches)
        result.problems += [f"kubevet's JSON Patch: {p}" for p in same_objects(wanted, own)]
        theirs = kustomize(base, result.patches)
    except PatchError as exc:
        result.problems.append(str(exc))
        return
    if theirs is None:
        result.proof = "kubevet's JSON Patch (kubectl not installed)"
        return
    result.proof = "kubectl kustomize and kubevet's JSON Patch"
    result.problems += [f"kubectl kustomize: {p}" for p in same_objects(own, theirs)]


def write_overlay(patches: PatchSet, directory: str, inside: list[list[str]]) -> str | None:
    """Write the set's files under `directory` (each atomically, the script executable),
    each within every list of roots in `inside`; the error, naming the file, when one
    cannot be written."""
    import os

    from kubevet.fix.postrender import files
    from kubevet.safewrite import WriteError, check_target, write_text

    for rel, text in files(patches, directory).items():
        path = os.path.join(directory, rel)
        try:
            for roots in inside:
                check_target(path, roots)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_text(path, text, inside[0] if inside else (), executable=rel.endswith(".sh"))
        except WriteError as exc:
            return str(exc)
        except OSError as exc:
            return f"{os.path.dirname(path)}: not written: {exc.strerror}"
    return None
