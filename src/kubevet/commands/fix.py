"""`kubevet fix PATH...`: apply the fixes kubevet can prove, keeping formatting."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from kubevet.commands._common import add_input_arguments, build_settings, values_unused_by_paths
from kubevet.plurals import counted

if TYPE_CHECKING:
    from kubevet.findings import Finding
    from kubevet.fix.chart import ChartResult
    from kubevet.fix.profile import Profile
    from kubevet.fix.run import FixReport
    from kubevet.runner import RunSettings


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p)
    p.add_argument("--select", action="append", metavar="RULES", help="only these rules")
    p.add_argument("--ignore", action="append", metavar="RULES", help="skip these rules")
    p.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    p.add_argument("--diff", action="store_true", help="print a unified diff, write nothing")
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: per chart, each finding with the lever that removed it and why the "
        "others did not fit",
    )
    p.add_argument(
        "--output",
        metavar="FILE",
        help="values override for a chart (default: kubevet.values.yaml beside the chart)",
    )
    p.add_argument(
        "--post-render-dir",
        metavar="DIR",
        help="where a chart's post-render patch set goes (default: kubevet-postrender beside "
        "the values override)",
    )
    p.add_argument(
        "--template-patch",
        metavar="FILE",
        help="where a chart's template patch for its maintainer goes (default: "
        "kubevet-template.patch beside the values override)",
    )
    p.add_argument("--profile", metavar="FILE", help="functionality profile (JSON)")
    p.add_argument("--image-lock", metavar="FILE", help="image lock file for pinning fixes")
    p.add_argument(
        "--audit-log",
        metavar="FILE",
        help="API audit log (JSON lines): roles with a wildcard or dangerous grant get an "
        "unsafe fix narrowing them to the requests their ServiceAccounts made",
    )
    p.add_argument(
        "--resolve-digests",
        action="store_true",
        help="ask each image's registry for the digest its tag points at (one HEAD request "
        "per tag, OCI distribution API) and pin to it; entries of --image-lock win",
    )
    p.add_argument(
        "--network-policies",
        action="store_true",
        help="write NetworkPolicies (default deny of ingress + one allow per Service, kept "
        "reachable from its users) to --output (default kubevet.networkpolicies.yaml), "
        "proven with the reachability analysis",
    )
    p.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even when findings are left unfixed (errors still exit 2)",
    )


def run(args: argparse.Namespace) -> int:
    from kubevet.commands.exits import UsageError
    from kubevet.fix.profile import Profile, ProfileError

    settings, _config = build_settings(args)
    if args.output:
        _check_output(args)
    if args.template_patch:
        from kubevet.commands._output import check_target

        check_target(args.template_patch, args, "--template-patch")
    if args.network_policies:
        return run_network_policies(args, settings)
    if args.image_lock:
        from kubevet.supplychain.lock import LockError, load_lock

        try:  # read now: a rule that reads it lazily may never run, and its error be lost
            load_lock(args.image_lock)
        except LockError as exc:
            raise UsageError(str(exc)) from None
        settings.options.settings["image_lock"] = args.image_lock
    audit_errors: list[str] = []
    if args.audit_log:
        from kubevet.fix.choose import RBAC_USAGE
        from kubevet.fix.rbacnarrow import read_usage

        usage, errors = read_usage(args.audit_log)
        settings.options.settings[RBAC_USAGE] = usage
        audit_errors = [str(e) for e in errors]
    try:
        profile = Profile.load(args.profile) if args.profile else None
    except ProfileError as exc:
        raise UsageError(str(exc)) from None
    if args.resolve_digests:
        with resolved_lock(args, settings) as problems:
            return _run(args, settings, profile, audit_errors + problems)
    return _run(args, settings, profile, audit_errors)


def _check_output(args: argparse.Namespace) -> None:
    """--output replaces its file: never an input of the run (a manifest, a values file,
    a chart's own values.yaml), and, for a values override, only a file kubevet wrote (an
    override is layered over the user's values, not a copy of them: written over a chart's
    values.yaml it dropped every default and comment)."""
    import os

    from kubevet.commands._output import check_not_an_input, check_writable
    from kubevet.commands.exits import UsageError
    from kubevet.fix.chart import OWNED_HEADER

    check_writable(args.output)
    if _last_values_file(args):
        return  # edited in place, comments kept (fix.inplace)
    check_not_an_input(args.output, args, "--output")
    if args.network_policies or not os.path.isfile(args.output):
        return
    with open(args.output, encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    if not first.startswith(OWNED_HEADER):
        raise UsageError(
            f"--output {args.output}: the file exists and kubevet did not write it; the "
            "override is a file of its own, given after your values "
            "(helm install -f YOUR-VALUES -f OVERRIDE): name a new file"
        )


def _last_values_file(args: argparse.Namespace) -> bool:
    """--output names the last -f file: the override goes into it (its last layer)."""
    import os

    last = (args.values or [None])[-1]
    return bool(
        last
        and not args.network_policies
        and os.path.isfile(args.output)
        and os.path.isfile(last)
        and os.path.samefile(last, args.output)
    )


def _run(
    args: argparse.Namespace, settings: RunSettings, profile: Profile | None, problems: list[str]
) -> int:
    import sys

    from kubevet.commands._output import diagnostics, exit_code
    from kubevet.fix.run import FixOptions, run_fix

    opts = FixOptions(
        args.unsafe_fixes,
        args.diff,
        args.output,
        profile,
        args.post_render_dir,
        args.template_patch,
        in_place=bool(args.output) and _last_values_file(args),
    )
    unused_errors, unused_warnings = values_unused_by_paths(args.paths, settings)
    diagnostics(unused_errors, unused_warnings, args)
    if unused_errors:  # the command is not what was meant: nothing is written
        return exit_code(args, True, False)
    report = run_fix(args.paths, settings, opts)
    report.errors[:0] = problems
    if args.format == "json":
        sys.stdout.write(render_json(report))
    else:
        sys.stdout.write(render(report, args.diff))
    errors = [*report.errors, *(e for c in report.charts for e in c.errors)]
    diagnostics(errors, [], args)
    left = (
        bool(report.withdrawn)
        or any(f.rejected for f in report.files)
        or any(
            c.template or c.rejected or c.blocked or c.problems or c.withdrawn
            for c in report.charts
        )
    )
    return exit_code(args, bool(errors), left)


@contextmanager
def resolved_lock(args: argparse.Namespace, settings: RunSettings) -> Iterator[list[str]]:
    """For the block, settings.image_lock names a lock of the inputs' unpinned images with
    the digests their registries give (the user's --image-lock entries first); yields
    one error line per image that could not be resolved."""
    import json
    import os
    import tempfile

    from kubevet.images import ImageRefError, parse_image
    from kubevet.sources import discover, load_input
    from kubevet.supplychain.lock import LockError, load_lock
    from kubevet.supplychain.resolve import resolve_all

    locked: dict[str, str] = {}
    problems: list[str] = []
    if args.image_lock:
        try:
            locked = dict(load_lock(args.image_lock))
        except LockError as exc:
            problems.append(str(exc))
    refs = []
    for item in discover(args.paths):
        for obj in load_input(item, settings.helm).objects:
            for c in obj.pod.containers if obj.pod else ():
                try:
                    refs.append(parse_image(str(c.data.get("image", ""))))
                except ImageRefError:
                    continue  # KV5xx rules report it; nothing to ask for
    found, errors = resolve_all(r for r in refs if r.tag_key not in locked)
    fd, path = tempfile.mkstemp(prefix="kubevet-resolved-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(found | locked, fh)
        settings.options.settings["image_lock"] = path
        yield problems + errors
    finally:
        os.remove(path)


def render(report: FixReport, diff: bool) -> str:
    out: list[str] = [f"error: {e}" for e in report.errors]
    for fr in report.files:
        if diff:
            out.append(fr.diff().rstrip("\n"))
        verb = "would fix" if diff else "fixed"
        note = " (a flow or replaced node re-emitted on its own lines)" if fr.reformatted else ""
        count = len(fr.applied)
        out.append(f"{fr.path}: {verb} {count} finding{'' if count == 1 else 's'}{note}")
        out += [f"  not fixed {_name(f)}: {why}" for f, why in fr.rejected]
    for cr in report.charts:
        out += _chart_lines(cr, diff)
    out += [f"not fixed {_name(f)}: {why}" for f, why in report.withdrawn]
    for f, why in report.skipped:
        out.append(f"skipped {_name(f)}: {why}")
    if report.no_fix:
        out.append(_no_fix_line(report.no_fix))
    return "\n".join(x for x in out if x) + "\n"


def _no_fix_line(findings: list[Finding]) -> str:
    from collections import Counter

    by_code = Counter(f.code for f in findings)
    codes = ", ".join(f"{code} x{n}" for code, n in sorted(by_code.items()))
    n = len(findings)
    return f"no fix offered for {n} finding{'' if n == 1 else 's'} ({codes}): see `kubevet check`"


def render_json(report: FixReport) -> str:
    import json

    from kubevet.fix.levers import lever_rows

    doc = {
        "errors": [*report.errors, *(e for c in report.charts for e in c.errors)],
        "files": [
            {
                "path": fr.path,
                "fixed": [_ref(f) for f in fr.applied],
                "notFixed": [_ref(f) | {"why": why} for f, why in fr.rejected],
            }
            for fr in report.files
        ],
        "withdrawn": [_ref(f) | {"why": why} for f, why in report.withdrawn],
        "noFix": [_ref(f) for f in report.no_fix],  # manifests' findings no rule fixes
        "charts": [
            {
                "chart": cr.chart,
                "valuesOverride": cr.output if cr.values else None,
                "postRender": cr.overlay_dir if cr.overlay and cr.overlay.patches else None,
                "templatePatch": cr.template_patch
                if cr.maintainer and cr.maintainer.diff
                else None,
                "findings": lever_rows(cr),
            }
            for cr in report.charts
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def _ref(f: Finding) -> dict[str, str]:
    return {"code": f.code, "object": str(f.object), "path": f.path_text}


def _chart_lines(cr: ChartResult, diff: bool) -> list[str]:
    from kubevet.fix.yamlout import dump

    out = [f"error: {e}" for e in cr.errors]
    if cr.values and diff:
        out.append(f"--- {cr.output}\n" + dump(cr.values))
    elif cr.values and not cr.errors:
        out.append(f"{cr.chart}: wrote {cr.output}")
    out.append(
        f"{cr.chart}: override sets {counted(len(cr.applied), 'fix', 'fixes')}; re-render and "
        f"re-check: {counted(len(cr.removed), 'finding')} removed"
    )
    out += [f"  removed {_name(f)}" for f in cr.removed]
    out += [f"  verification: {p}" for p in cr.problems]
    out += [f"  not fixed {_name(f)}: {why}" for f, why in cr.rejected]
    out += [f"  no override can fix {_name(f)}: {why}" for f, why in cr.blocked]
    out += [f"  not fixed {_name(f)}: {why}" for f, why in cr.withdrawn]
    if cr.overlay is not None:
        out += _overlay_lines(cr, diff)
    if cr.maintainer is not None:
        out += _maintainer_lines(cr, diff)
    if cr.findings and not cr.errors:
        from collections import Counter

        from kubevet.fix.levers import lever_rows

        got = Counter(r["lever"] for r in lever_rows(cr))
        shown = ", ".join(f"{k} {got[k]}" for k in ("values", "post-render", "template", "none"))
        out.append(f"{cr.chart}: {counted(len(cr.findings), 'finding')} by lever: {shown}")
    return out


def _maintainer_lines(cr: ChartResult, diff: bool) -> list[str]:
    """Lever 3: the template patch, proven on a copy of the chart."""
    tp = cr.maintainer
    out = [f"  no template patch for {_name(f)}: {why}" for f, why in tp.refused]
    if not tp.diff:
        return out
    where = "would write" if diff else "wrote"
    out.append(
        f"{cr.chart}: template patch for the maintainer ({where} {cr.template_patch}; "
        f"`git apply` it in {tp.base}): {counted(len(tp.files), 'file')}; applied to a copy, "
        f"re-rendered and re-checked: {counted(len(tp.fixed), 'finding')} removed"
    )
    out += [f"  removed {_name(f)} (template)" for f in tp.fixed]
    if diff:
        out.append(tp.diff.rstrip("\n"))
    return out


def _overlay_lines(cr: ChartResult, diff: bool) -> list[str]:
    """Lever 2: the post-render patch set, proven on the final render."""
    from kubevet.fix.postrender import files

    ov = cr.overlay
    out = [f"  not fixed {_name(f)}: {why}" for f, why in [*ov.withdrawn, *ov.renamed]]
    if ov.problems:
        out += [f"  post-render patches not offered: {p}" for p in ov.problems]
        return out
    if not ov.patches:
        return out
    where = "would write" if diff else "wrote"
    out.append(
        f"{cr.chart}: post-render patches ({where} {cr.overlay_dir}): "
        f"{counted(len(ov.applied), 'fix', 'fixes')}, {counted(len(ov.added), 'object')} added; "
        f"applied with {ov.proof} and re-checked: {counted(len(ov.removed), 'finding')} removed"
    )
    out += [f"  removed {_name(f)} (post-render)" for f in ov.removed]
    if diff:
        for rel, text in files(ov.patches, cr.overlay_dir).items():
            out.append(f"--- {cr.overlay_dir}/{rel}\n{text.rstrip()}")
    else:
        out.append(
            f"  helm install RELEASE {cr.chart} --post-renderer {cr.overlay_dir}/kustomize.sh"
        )
        out.append(f"  Flux: spec.postRenderers in {cr.overlay_dir}/flux-postrenderers.yaml")
    return out


def _name(f: Finding) -> str:
    return f"{f.code} {f.object} {f.path_text}"


def run_network_policies(args: argparse.Namespace, settings: object) -> int:
    """Generate, prove, then write (or with --diff print) the policies."""
    import sys

    from kubevet.commands._output import diagnostics
    from kubevet.commands.exits import EXIT_ERROR, EXIT_OK, UsageError
    from kubevet.fix.netpolgen import plan, prove
    from kubevet.fix.yamlout import dump_all
    from kubevet.safewrite import WriteError, write_text
    from kubevet.sources import discover, load_input

    objects, errors = [], []
    for item in discover(args.paths):
        group = load_input(item, settings.helm)  # type: ignore[attr-defined]
        objects += group.objects
        errors += group.errors
    p = plan(objects)
    proof = prove(objects, p)
    text = dump_all(p.policies)
    out = sys.stdout
    out.write(
        f"{len(p.policies)} NetworkPolicies; {len(proof.kept)} intended connections kept, "
        f"{proof.closed} others closed\n"
    )
    for src, dst in proof.kept:
        out.write(f"  keeps {src} -> {dst}\n")
    for svc in p.open_to_cluster:
        out.write(f"  {svc}: no user found in the inputs; left open to every pod on its ports\n")
    for note in p.notes:
        out.write(f"  {note}\n")
    if not proof.ok:
        diagnostics(errors, [], args)
        lost = ", ".join(f"{s} -> {d}" for s, d in proof.lost)
        print(
            f"kubevet: error: not written: the policies would cut {lost or 'nothing'} and "
            f"open {len(proof.opened)} connection(s)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if args.diff:
        out.write(text)
    elif p.policies:
        path = args.output or "kubevet.networkpolicies.yaml"
        try:
            write_text(path, text)
        except WriteError as exc:
            raise UsageError(str(exc)) from None
        out.write(f"wrote {path}\n")
    diagnostics(errors, [], args)
    return EXIT_ERROR if errors else EXIT_OK
