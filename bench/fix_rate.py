"""How much of the chart corpus `kubevet fix --unsafe-fixes` fixes, by lever.

    python bench/fix_rate.py [CHARTS_DIR] [--jobs N] [--json OUT.json] [--placeholder-lock]
                             [--only NAME,NAME...] [--skip NAME,NAME...]

Each chart is fixed as `kubevet fix CHART --unsafe-fixes --output /tmp/...` would (default
values); the override, the post-render patch set and the template patch are written under
a temporary directory, never into the corpus. Prints the findings that have a fix, how
many the override removed, how many need a template change and how many verification
refused, by rule and by reason; then the share of ALL findings each lever removed, per
rule, and the gate's figures (findings introduced, schema-invalid and lost objects).

KV502 (digest pinning) needs a digest per image, which only a lock file or the registry
(--resolve-digests) gives; neither is here. `--placeholder-lock` gives each chart a lock
with a made-up digest per image (sha256 of the reference): the figure then says how far
the levers carry a pin, not what any registry holds. RBAC narrowing (KV401/KV402) needs an
audit log: the bench counts the findings on roles whose every binding subject is a
ServiceAccount, the ones a log covering those accounts could narrow.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from corpus_args import parse


def fix_one(chart: str, outdir: str, placeholder_lock: bool = False) -> dict:
    from kubevet.cli import build_parser
    from kubevet.commands._common import build_settings
    from kubevet.fix.run import FixOptions, run_fix

    stem = str(Path(outdir) / Path(chart).name.replace(" ", "_"))
    out = stem + ".values.yaml"
    args = build_parser().parse_args(["fix", chart, "--unsafe-fixes", "--output", out])
    settings, _ = build_settings(args)
    if placeholder_lock:
        settings.options.settings["image_lock"] = write_placeholder_lock(chart, settings, stem)
    opts = FixOptions(
        unsafe=True,
        output=out,
        post_render_dir=stem + ".postrender",
        template_patch=stem + ".patch",
    )
    report = run_fix([chart], settings, opts)
    row: dict = {"chart": Path(chart).name, "applied": 0, "removed": 0, "template": 0}
    row["levers"] = [lever_row(cr, settings) for cr in report.charts]
    row["blocked"] = []
    row["rejected"], row["problems"], row["errors"] = [], [], list(report.errors)
    row["not_removed"] = []
    for cr in report.charts:
        row["applied"] += len(cr.applied)
        row["removed"] += len(cr.removed)
        row["template"] += len(cr.template)
        row["errors"] += cr.errors
        row["problems"] += cr.problems
        row["rejected"] += [
            {"code": f.code, "object": str(f.object), "path": f.path_text, "why": why}
            for f, why in cr.rejected
        ]
        row["blocked"] += [
            {"code": f.code, "object": str(f.object), "path": f.path_text, "why": why}
            for f, why in cr.blocked
        ]
        gone = {id(f) for f in cr.removed}
        row["not_removed"] += [
            {"code": f.code, "object": str(f.object), "path": f.path_text}
            for f in cr.applied
            if id(f) not in gone
        ]
    return row


def write_placeholder_lock(chart: str, settings, stem: str) -> str:
    """A lock naming a made-up digest (sha256 of the reference) for every unpinned image of
    the chart's render: what the levers do with a digest, not what a registry holds."""
    import hashlib

    from kubevet.images import ImageRefError, parse_image
    from kubevet.sources.helm import load_chart

    lock = {}
    for obj in load_chart(chart, settings.helm).objects:
        for c in obj.pod.containers if obj.pod else ():
            try:
                ref = parse_image(str(c.data.get("image", "")))
            except ImageRefError:
                continue
            if not ref.pinned:
                lock[ref.tag_key] = "sha256:" + hashlib.sha256(ref.normalized.encode()).hexdigest()
    path = stem + ".lock.json"
    Path(path).write_text(json.dumps(lock), encoding="utf-8")
    return path


class AnyAccount(dict):
    """An audit-log usage in which every ServiceAccount appears (with one request that no
    role grants): `narrow` then refuses only for what no log can speak for."""

    def get(self, key, default=None):
        return {("", "", "", "")}


def rbac_coverable(cr) -> int:
    """KV401/KV402 findings an audit log could narrow: roles whose every binding subject
    is a ServiceAccount (an aggregated or unbound role, a user or a group: never)."""
    from kubevet.fix.rbacnarrow import RULES, narrow

    group = cr.first_render
    if group is None:
        return 0
    return sum(
        1
        for f in cr.findings
        if f.code in RULES and isinstance(narrow(f.obj, group, AnyAccount()), list)
    )


def lever_row(cr, settings) -> dict:
    """Every finding of the chart with the lever that removed it (values, post-render,
    template, or none), and what the user levers together left against the gate."""
    from kubevet.fix.gate import rises
    from kubevet.fix.levers import lever_rows
    from kubevet.fix.postrender import apply_set
    from kubevet.fix.verify import identity, schema_errors

    ov, tp = cr.overlay, cr.maintainer
    # the same lever per finding as `kubevet fix --format json` gives
    findings = [
        {k: r[k] for k in ("code", "lever", "object", "path", "whyNot")} for r in lever_rows(cr)
    ]
    final_findings = ov.after if ov and not ov.problems else cr.after
    introduced = sum(len(v) for v in rises(cr.findings, final_findings).values())
    invalid = lost = 0
    if cr.render is not None and cr.first_render is not None:
        version = settings.options.kube_version
        first = [o.data for o in cr.first_render.objects]
        final = [o.data for o in cr.render.objects]
        if ov and ov.patches and not ov.problems:
            final = apply_set(final, ov.patches)
        before = {identity(d): schema_errors(d, version) for d in first}
        invalid = sum(
            1
            for d in final
            if (err := schema_errors(d, version)) and err != before.get(identity(d))
        )
        # per kind: an object with a random name (a test Pod's suffix) comes back renamed
        kinds = Counter(identity(d)[0] for d in first)
        kinds.subtract(Counter(identity(d)[0] for d in final))
        lost = sum(n for n in kinds.values() if n > 0)
    return {
        "findings": findings,
        "introduced": introduced,
        "invalid": invalid,
        "lost": lost,
        "outcome": bool(cr.values or (ov and ov.patches) or (tp and tp.diff)) or not cr.findings,
        "withdrawn": [f.code for f, _w in [*cr.withdrawn, *(ov.withdrawn if ov else [])]],
        "rbac_coverable": rbac_coverable(cr),
    }


def print_levers(rows: list[dict]) -> None:
    charts = [lv for r in rows for lv in r["levers"]]
    found = [f for lv in charts for f in lv["findings"]]
    by_rule: dict[str, Counter] = {}
    for f in found:
        by_rule.setdefault(f["code"], Counter())[f["lever"]] += 1
    total = Counter(f["lever"] for f in found)
    done = len(found) - total["none"]
    print(f"ALL findings {len(found)}; removed by a lever {done} = {done / (len(found) or 1):.1%}")
    for name in ("values", "post-render", "template", "none"):
        print(f"  {name:12s} {total[name]:6d}")
    print(
        f"  introduced {sum(lv['introduced'] for lv in charts)}, schema-invalid "
        f"{sum(lv['invalid'] for lv in charts)}, lost {sum(lv['lost'] for lv in charts)}, "
        f"charts without an outcome {sum(1 for lv in charts if not lv['outcome'])}"
    )
    print_ceiling(found)
    rbac = Counter(f["code"] for f in found if f["code"] in ("KV401", "KV402"))
    coverable = sum(lv.get("rbac_coverable", 0) for lv in charts)
    print(
        f"  RBAC KV401/KV402 {sum(rbac.values())}: {coverable} on roles bound only to "
        "ServiceAccounts (narrowable with an audit log showing them)"
    )
    withdrawn = Counter(c for lv in charts for c in lv["withdrawn"])
    print("  withdrawn by the gate: " + ", ".join(f"{k} {v}" for k, v in withdrawn.most_common()))
    beyond = Counter(f["code"] for f in found if beyond_reach(f))
    print(
        "| rule | findings | values | post-render | template | none | of which beyond reach "
        "| removed |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for code in sorted(by_rule):
        c = by_rule[code]
        n = sum(c.values())
        print(
            f"| {code} | {n} | {c['values']} | {c['post-render']} | {c['template']} | "
            f"{c['none']} | {beyond[code]} | {(n - c['none']) / n:.0%} |"
        )


def beyond_reach(f: dict) -> str | None:
    """Why no lever can remove the finding here, or None: every lever's reason says the
    fix needs an input the corpus lacks (a digest, an audit log), or that every remedy
    breaks the workload (display-only)."""
    why = list((f.get("whyNot") or {}).values())
    if f["lever"] != "none" or not why:
        return None
    if all(w.startswith("needs") for w in why):
        return "needs an input"
    if all(w.startswith(("display-only", "needs")) for w in why):
        return "display-only"
    return None


def print_ceiling(found: list[dict]) -> None:
    """The findings no lever can remove here (`beyond_reach`); 100% minus their share is
    the most any run here reaches."""
    kinds: Counter = Counter(kind for f in found if (kind := beyond_reach(f)))
    total = len(found) or 1
    beyond = sum(kinds.values())
    print(
        f"  beyond reach here: {beyond} = {beyond / total:.1%} (needs an input the corpus lacks "
        f"{kinds['needs an input']}, display-only {kinds['display-only']}); "
        f"ceiling {1 - beyond / total:.1%}"
    )


def reason(why: str) -> str:
    """A rejection message without object names and values, to group by."""
    why = re.sub(r"^\S+ \S+: ", "", why)
    why = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", why)
    return re.sub(r"\d+", "N", why)[:110]


def pick(argv: list[str], flag: str) -> tuple[list[str], set[str]]:
    """argv without `flag NAMES`, and the comma-separated chart names it gave."""
    if flag not in argv:
        return argv, set()
    i = argv.index(flag)
    return argv[:i] + argv[i + 2 :], set(argv[i + 1].split(","))


def main(argv: list[str]) -> int:
    placeholder = "--placeholder-lock" in argv
    argv, only = pick([a for a in argv if a != "--placeholder-lock"], "--only")
    argv, skip = pick(argv, "--skip")
    charts_dir, jobs, json_out = parse(argv)
    charts = sorted(
        str(p)
        for p in charts_dir.iterdir()
        if (p / "Chart.yaml").exists() and (not only or p.name in only) and p.name not in skip
    )
    with (
        tempfile.TemporaryDirectory(prefix="kubevet-fixrate-") as outdir,
        ProcessPoolExecutor(max_workers=jobs) as pool,
    ):
        rows = []
        futures = [pool.submit(fix_one, c, outdir, placeholder) for c in charts]
        for future in as_completed(futures):  # each chart's row as it comes (--json: JSONL too)
            rows.append(future.result())
            if json_out:
                with open(json_out + "l", "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rows[-1]) + "\n")
        rows.sort(key=lambda r: r["chart"])
    if placeholder:
        print("with a placeholder digest for every image (--placeholder-lock)")
    applied = sum(r["applied"] for r in rows)
    removed = sum(r["removed"] for r in rows)
    template = sum(r["template"] for r in rows)
    rejected = [x | {"chart": r["chart"]} for r in rows for x in r["rejected"]]
    blocked = [x | {"chart": r["chart"]} for r in rows for x in r["blocked"]]
    total = applied + template + len(rejected) + len(blocked)
    print(f"charts {len(rows)}; findings with a fix {total}")
    print(f"  override applied {applied}, removed {removed}")
    print(f"  template change {template}; refused by verification {len(rejected)}")
    print(f"  no override can verify (the section alone changes the render) {len(blocked)}")
    tried = applied + len(rejected)
    print(f"  removed / (applied + refused) = {removed}/{tried} = {removed / (tried or 1):.1%}")
    worst = tried + len(blocked)
    print(f"  counting those as refused too: {removed}/{worst} = {removed / (worst or 1):.1%}")
    print(f"  charts with errors {sum(1 for r in rows if r['errors'])}")
    print(f"  verification problems left {sum(len(r['problems']) for r in rows)}")
    print(
        "no override by chart: "
        + ", ".join(f"{k} {v}" for k, v in Counter(x["chart"] for x in blocked).most_common())
    )
    by_rule = Counter(x["code"] for x in rejected)
    by_reason = Counter(reason(x["why"]) for x in rejected)
    print("refused by rule: " + ", ".join(f"{k} {v}" for k, v in by_rule.most_common()))
    print("refused by reason:")
    for k, v in by_reason.most_common():
        print(f"  {v:4d}  {k}")
    kept = Counter(x["code"] for r in rows for x in r["not_removed"])
    if kept:
        print("applied, not removed: " + ", ".join(f"{k} {v}" for k, v in kept.most_common()))
    print_levers(rows)
    if json_out:
        Path(json_out).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
