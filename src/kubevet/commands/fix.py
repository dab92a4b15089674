"""`kubevet fix PATH...`: apply the fixes kubevet can prove, keeping formatting."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kubevet.commands._common import add_input_arguments, build_settings

if TYPE_CHECKING:
    from kubevet.findings import Finding
    from kubevet.fix.chart import ChartResult
    from kubevet.fix.run import FixReport


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p)
    p.add_argument("--select", action="append", metavar="RULES", help="only these rules")
    p.add_argument("--ignore", action="append", metavar="RULES", help="skip these rules")
    p.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    p.add_argument("--diff", action="store_true", help="print a unified diff, write nothing")
    p.add_argument(
        "--output",
        metavar="FILE",
        help="values override for a chart (default: kubevet.values.yaml beside the chart)",
    )
    p.add_argument("--profile", metavar="FILE", help="functionality profile (JSON)")
    p.add_argument("--image-lock", metavar="FILE", help="image lock file for pinning fixes")
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
    import sys

    from kubevet.commands._output import diagnostics, exit_code
    from kubevet.commands.exits import UsageError
    from kubevet.fix.profile import Profile, ProfileError
    from kubevet.fix.run import FixOptions, run_fix

    settings, _config = build_settings(args)
    if args.network_policies:
        return run_network_policies(args, settings)
    if args.image_lock:
        settings.options.settings["image_lock"] = args.image_lock
    try:
        profile = Profile.load(args.profile) if args.profile else None
    except ProfileError as exc:
        raise UsageError(str(exc)) from None
    opts = FixOptions(args.unsafe_fixes, args.diff, args.output, profile)
    report = run_fix(args.paths, settings, opts)
    sys.stdout.write(render(report, args.diff))
    errors = [*report.errors, *(e for c in report.charts for e in c.errors)]
    diagnostics(errors, [], args)
    left = any(f.rejected for f in report.files) or any(
        c.template or c.rejected or c.blocked or c.problems for c in report.charts
    )
    return exit_code(args, bool(errors), left)


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
    for f, why in report.skipped:
        out.append(f"skipped {_name(f)}: {why}")
    return "\n".join(x for x in out if x) + "\n"


def _chart_lines(cr: ChartResult, diff: bool) -> list[str]:
    import yaml

    out = [f"error: {e}" for e in cr.errors]
    if cr.values and diff:
        out.append(f"--- {cr.output}\n" + yaml.safe_dump(cr.values, sort_keys=False))
    elif cr.values and not cr.errors:
        out.append(f"{cr.chart}: wrote {cr.output}")
    out.append(
        f"{cr.chart}: override sets {len(cr.applied)} fixes; re-render and re-check: "
        f"{len(cr.removed)} findings removed"
    )
    out += [f"  removed {_name(f)}" for f in cr.removed]
    out += [f"  verification: {p}" for p in cr.problems]
    out += [f"  not fixed {_name(f)}: {why}" for f, why in cr.rejected]
    out += [f"  no override can fix {_name(f)}: {why}" for f, why in cr.blocked]
    for f, patch in cr.template:
        out.append(f"  needs a template change: {_name(f)}")
        out += ["    " + ln for ln in patch.splitlines()]
    return out


def _name(f: Finding) -> str:
    return f"{f.code} {f.object} {f.path_text}"


def run_network_policies(args: argparse.Namespace, settings: object) -> int:
    """Generate, prove, then write (or with --diff print) the policies."""
    import sys

    import yaml

    from kubevet.commands._output import diagnostics
    from kubevet.commands.exits import EXIT_ERROR, EXIT_OK, UsageError
    from kubevet.fix.netpolgen import plan, prove
    from kubevet.safewrite import WriteError, write_text
    from kubevet.sources import discover, load_input

    objects, errors = [], []
    for item in discover(args.paths):
        group = load_input(item, settings.helm)  # type: ignore[attr-defined]
        objects += group.objects
        errors += group.errors
    p = plan(objects)
    proof = prove(objects, p)
    text = yaml.safe_dump_all(p.policies, sort_keys=False)
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
