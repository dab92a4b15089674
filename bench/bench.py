"""kubevet's benchmark: the chart corpus, pre-rendered YAML, Checkov on the same YAML,
a per-phase breakdown, the parse-only floor and a scaling run. Run by hand, never in tests.

    python bench/bench.py [--runs 3] [--checkov PATH] [--scale 1000,10000] [--write]
                          [--only PART,...]

`--only` measures some parts (startup, charts: the two 60-chart rows, prerendered: kubevet
and, with --checkov, Checkov on the same YAML, phases, floor, floor-ir: the parse floor in
instructions under valgrind (bench/parse_ir.py), scale: --scale counts, by default
1000,10000, upgrade: `upgrade --to 1.29` over the corpus, this code and that of
--upgrade-baseline, bench/upgrade_bench.py) and `--write` then replaces
just those rows and sections, naming the partial run under the header; a ratio is written
only when both of its rows come from this run.

Needs the shared corpus (../shared/corpus/mycharts/charts). Checkov is optional: install it
in its own virtualenv (`python -m venv /tmp/ck && /tmp/ck/bin/pip install checkov`) and pass
`--checkov /tmp/ck/bin/checkov`. `--write` replaces the tables in docs/performance.md.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus_args import code_commit
from upgrade_bench import BASELINE, upgrade_md, upgrade_rows

ROOT = Path(__file__).resolve().parent.parent
CHARTS = ROOT.parent / "shared" / "corpus" / "mycharts" / "charts"
RENDERED = ROOT / "bench" / "out" / "rendered"
KUBEVET = [sys.executable, "-m", "kubevet"]
# docs/performance.md from this heading on is prose kept by --write; the figures it reads
# are the tables above it, which --write replaces.
NOTES = "## Reading the figures"
NO_TRACE = "kubevet, 60 charts (render + check), -j 2, --no-trace"
TRACED = "kubevet, 60 charts (render + check, tracing: the default), -j 2"
TRACED_KEPT = "kubevet, 60 charts, tracing, the traces kept by an earlier run, -j 2"
PRE_RENDERED = "kubevet, pre-rendered YAML (check only), -j 1"


def measure(
    cmd: list[str],
    runs: int,
    env: dict[str, str] | None = None,
    kept: str | None = None,
    ok: tuple[int, ...] = (0, 1),  # 1: findings (a check); 2: an input error
) -> dict[str, float]:
    """Wall seconds (median/min/max), CPU seconds (user + system, median) and peak RSS
    (MiB, max) of a whole process. Each run keeps chart traces in a folder of its own,
    empty (a first run), or in `kept` (a run after one that kept them)."""
    times, cpus, peaks, loads = [], [], [], []
    for _ in range(runs):
        loads.append(os.getloadavg()[0])
        cache = tempfile.mkdtemp(prefix="kubevet-bench-cache-")
        run_env = {**(env or os.environ), "KUBEVET_CACHE_DIR": kept or cache}
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=run_env, cwd=ROOT
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) not in ok:
            sys.exit(f"bench: {' '.join(cmd)} exited {os.waitstatus_to_exitcode(status)}")
        times.append(time.perf_counter() - start)
        shutil.rmtree(cache, ignore_errors=True)
        cpus.append(usage.ru_utime + usage.ru_stime)
        peaks.append(usage.ru_maxrss / 1024)
    return {
        "median": statistics.median(times),
        "cpu": statistics.median(cpus),
        "min": min(times),
        "max": max(times),
        "peak_mib": max(peaks),
        "load": statistics.median(loads),
    }


def per_input(cmd: list[str]) -> tuple[float, list[tuple[float, str]]]:
    """One run with -v: its wall seconds and each input's seconds, slowest first."""
    cache = tempfile.mkdtemp(prefix="kubevet-bench-cache-")  # a first run
    env = {**os.environ, "KUBEVET_CACHE_DIR": cache}
    start = time.perf_counter()
    proc = subprocess.run([*cmd, "-v"], capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    shutil.rmtree(cache, ignore_errors=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"bench: {' '.join(cmd)} exited {proc.returncode}")
    timed = []
    for line in proc.stderr.splitlines():  # "kubevet:    1.23 s  LABEL (n objects, ...)"
        m = re.match(r"kubevet:\s+([\d.]+) s  (.*) \(", line)
        if m:
            timed.append((float(m.group(1)), os.path.basename(m.group(2))))
    return wall, sorted(timed, reverse=True)


def chart_rows(charts: list[str], runs: int) -> list[tuple[str, dict[str, float]]]:
    """The three 60-chart rows, their runs in turn: --no-trace, traced (a first run), traced
    after a run that kept the traces (its own, untimed), and again. Timed row after row, a
    load that came or went during the bench weighed on one side of a ratio only; in turn,
    it weighs on both, as for kubevet and Checkov on the pre-rendered YAML."""
    kept = tempfile.mkdtemp(prefix="kubevet-bench-kept-")
    try:
        subprocess.run(
            charts, env={**os.environ, "KUBEVET_CACHE_DIR": kept}, cwd=ROOT, capture_output=True
        )
        timed: dict[str, list[dict[str, float]]] = {NO_TRACE: [], TRACED: [], TRACED_KEPT: []}
        for _ in range(runs):
            timed[NO_TRACE].append(measure([*charts, "--no-trace"], 1))
            timed[TRACED].append(measure(charts, 1))
            timed[TRACED_KEPT].append(measure(charts, 1, kept=kept))
        return [(name, combine(each)) for name, each in timed.items()]
    finally:
        shutil.rmtree(kept, ignore_errors=True)


def slowest_runs(charts: list[str]) -> dict:  # type: ignore[type-arg]
    """One -v run traced and one not, with the load when they started."""
    load = os.getloadavg()[0]
    return {
        "load": load,
        "traced": per_input(charts),
        "untraced": per_input([*charts, "--no-trace"]),
    }


def phases(rendered: Path) -> dict[str, float]:
    """In-process CPU seconds per phase of `kubevet check` on the pre-rendered YAML, with
    the cycle collector off as `kubevet check` runs (on, its passes land in whichever
    phase is running and make those rows jump)."""
    import gc

    gc.disable()
    try:
        return _phases(rendered)
    finally:
        gc.enable()


def _phases(rendered: Path) -> dict[str, float]:
    t0 = time.process_time()
    from kubevet.context import InputGroup, Options
    from kubevet.engine import check_group
    from kubevet.report import render
    from kubevet.rules.registry import select_rules
    from kubevet.runner import GroupSummary, Report, locate_lines
    from kubevet.sources.manifests import _objects
    from kubevet.sources.yamldocs import parse_stream

    rules = select_rules()
    out = {"imports and rule registry": time.process_time() - t0, "_rules": len(rules)}
    t = time.process_time()
    texts = [(str(p), p.read_text("utf-8")) for p in sorted(rendered.glob("*.yaml"))]
    out["load (read files)"] = time.process_time() - t
    t = time.process_time()
    parsed = [(name, parse_stream(text, name)[0]) for name, text in texts]
    out["parse"] = time.process_time() - t
    t = time.process_time()
    from kubevet.model import K8sObject, Origin

    group = InputGroup(label=str(rendered), source="manifests")
    for name, docs in parsed:
        for doc in docs:
            for data, err, _at in _objects(doc.data):  # the corpus has no List items
                if not err:
                    group.objects.append(K8sObject(data, Origin(name, doc.line), doc))
    out["model (objects and pod views)"] = time.process_time() - t
    t = time.process_time()
    findings = check_group(group, rules, Options())
    out["rules (incl. suppressions, dedup, sort)"] = time.process_time() - t
    t = time.process_time()
    locate_lines(findings)
    out["field lines"] = time.process_time() - t
    t = time.process_time()
    report = Report(findings=findings, rules=rules)
    report.groups.append(GroupSummary(str(rendered), "manifests", len(group.objects)))
    render("json", report)
    out["report (json)"] = time.process_time() - t
    out["_findings"] = len(findings)
    out["_objects"] = len(group.objects)
    return out


def parse_floor(rendered: Path, runs: int) -> dict[str, float]:
    """CPU seconds (best of `runs`, which damps a shared machine's noise) to parse the same
    bytes: kubevet's parse (rapidyaml, the YAML 1.1 pass, checks), rapidyaml alone, and
    PyYAML's C parser composing nodes."""
    import yaml

    from kubevet.quiet import quiet_stderr
    from kubevet.sources.yamldocs import parse_stream

    texts = [p.read_text("utf-8") for p in sorted(rendered.glob("*.yaml"))]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def best(fn: object) -> float:
        spent = []
        for _ in range(runs):
            t = time.process_time()
            fn()  # type: ignore[operator]
            spent.append(time.process_time() - t)
        return min(spent)

    out = {"kubevet parse (parse_stream)": best(lambda: [parse_stream(t, "x") for t in texts])}
    try:
        import ryml

        failed = 0

        def rapidyaml() -> None:
            nonlocal failed
            failed = 0
            for text in texts:
                try:
                    ryml.parse_in_arena(text.encode())
                except Exception:  # rapidyaml rejects vault's render (comments in a flow seq)
                    failed += 1

        with quiet_stderr():
            spent = best(rapidyaml)
        out[f"rapidyaml parse only ({failed} file(s) rejected)"] = spent
    except ImportError:
        pass
    out["PyYAML C compose_all (keeps lines)"] = best(
        lambda: [list(yaml.compose_all(t, Loader=loader)) for t in texts]
    )
    return out


def scaling(sizes: list[int], runs: int) -> list[tuple[int, int, dict[str, float]]]:
    """Copies of the rendered corpus, one directory per chart copy, checked in one run."""
    charts = sorted(RENDERED.glob("*.yaml"))
    rows = []
    for size in sizes:
        tmp = Path(tempfile.mkdtemp(prefix="kubevet-scale-"))
        try:
            for i in range(size):
                src = charts[i % len(charts)]
                d = tmp / f"c{i:05d}"
                d.mkdir()
                os.link(src, d / src.name) if hasattr(os, "link") else shutil.copy(src, d)
            cmd = [*KUBEVET, "check", str(tmp), "--format", "json", "-o", os.devnull, "-j", "1"]
            m = measure(cmd, runs)
            rows.append((size, sum(1 for _ in tmp.iterdir()), m))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--checkov", help="path to a checkov executable")
    ap.add_argument("--scale", default="", help="comma-separated chart counts, e.g. 1000,10000")
    ap.add_argument("--write", action="store_true", help="write docs/performance.md")
    ap.add_argument("--only", default="", help=f"comma-separated parts of: {', '.join(PARTS)}")
    ap.add_argument(
        "--upgrade-baseline",
        default=BASELINE,
        help="commit whose `upgrade` the upgrade rows compare with (default: before issue 22)",
    )
    args = ap.parse_args()
    only = [p for p in args.only.split(",") if p]
    if any(p not in PARTS for p in only):
        sys.exit(f"--only takes {', '.join(PARTS)}")
    if only:
        return partial(args, only)
    if not CHARTS.is_dir():
        sys.exit(f"no chart corpus at {CHARTS}")
    args.load = os.getloadavg()[0]
    args.started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    # Byte-compile kubevet first: an installed package has its .pyc files (pip writes them),
    # while an editable checkout under PYTHONDONTWRITEBYTECODE=1 would compile every module
    # on every run and time the compiler instead of kubevet.
    docs = prepare()
    rows: list[tuple[str, dict[str, float]]] = []
    # The corpus sits in a directory this repository's .gitignore names, so a walk would
    # compile its patterns (pathspec's import); a walk of a directory no pattern can match,
    # the usual case in a user's repository, never does (sources/ignore.py: Patterns).
    check = [*KUBEVET, "check", "--format", "json", "-o", os.devnull, "--no-gitignore"]
    rows.append(("kubevet --version (start-up)", measure([*KUBEVET, "--version"], args.runs)))
    charts = [*check, str(CHARTS), "-j", "2"]
    rows += chart_rows(charts, args.runs)  # the three rows' runs in turn
    rows += prerendered_rows(check, args)  # kubevet and Checkov alternating, run by run
    rows += upgrade_rows(ROOT, CHARTS, KUBEVET, args.runs, args.upgrade_baseline, measure, combine)
    slowest = slowest_runs(charts)
    # Before the in-process parts: a child forked from this process once it has parsed the
    # corpus starts with this process's pages, and its peak RSS counted them (134 MiB)
    scale = scaling([int(s) for s in args.scale.split(",") if s], 1) if args.scale else []
    phase = phases(RENDERED)
    floor = parse_floor(RENDERED, max(args.runs, 3))
    text = report_md(rows, phase, floor, scale, docs, args, slowest)
    print(text)
    if args.write:
        doc = ROOT / "docs" / "performance.md"
        old = doc.read_text(encoding="utf-8") if doc.exists() else ""
        notes = old[old.find(NOTES) :] if NOTES in old else ""
        doc.write_text(text + ("\n" + notes if notes else ""), encoding="utf-8")
    return 0


PARTS = ("startup", "charts", "prerendered", "phases", "floor", "floor-ir", "scale", "upgrade")


def prepare() -> int:
    """Byte-compile kubevet (see main) and pre-render the corpus; the document count."""
    compileall.compile_dir(str(ROOT / "src"), quiet=1)
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "prerender.py")],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return sum(p.read_text().count("\n---") + 1 for p in RENDERED.glob("*.yaml"))


def partial(args: argparse.Namespace, only: list[str]) -> int:
    """Measure the parts named by --only; with --write, replace only what was measured."""
    load = os.getloadavg()[0]
    prepare()
    # --no-gitignore: as in the full run (see there)
    check = [*KUBEVET, "check", "--format", "json", "-o", os.devnull, "--no-gitignore"]
    rows: list[tuple[str, dict[str, float]]] = []
    if "startup" in only:
        rows.append(("kubevet --version (start-up)", measure([*KUBEVET, "--version"], args.runs)))
    if "charts" in only:
        charts = [*check, str(CHARTS), "-j", "2"]
        rows += chart_rows(charts, args.runs)
    if "prerendered" in only:
        rows += prerendered_rows(check, args)
    if "upgrade" in only:
        baseline = args.upgrade_baseline
        rows += upgrade_rows(ROOT, CHARTS, KUBEVET, args.runs, baseline, measure, combine)
    lines = [f"| {name} | {row_md(m)} |" for name, m in rows]
    sections: dict[str, list[str]] = {}
    named = dict(rows)
    if "prerendered" in only and args.checkov:
        sections["**Checkov / kubevet"] = checkov_md(named)
    if "charts" in only:
        sections["**Tracing on"] = [trace_ratio_md(named[TRACED], named[NO_TRACE], named)]
        sections["One `-v` run"] = [slowest_md(slowest_runs(charts))]
    if "upgrade" in only:
        sections["**`upgrade --to"] = upgrade_md(named, args.upgrade_baseline)
    if "scale" in only:  # before the in-process parts (see main)
        sizes = [int(x) for x in (args.scale or "1000,10000").split(",") if x]
        sections["## Scaling"] = scale_md(scaling(sizes, 1))
    if "phases" in only:
        sections["## kubevet phases"] = phases_md(phases(RENDERED))
    if "floor" in only:
        sections["## Parse-only floor"] = floor_md(parse_floor(RENDERED, max(args.runs, 3)))
    if "floor-ir" in only:
        sections["## Parse floor in instructions"] = floor_ir_md()
    cmd = f"python bench/bench.py --runs {args.runs} --only {','.join(only)}"
    cmd += f" --checkov {args.checkov}" if args.checkov else ""
    cmd += f" --scale {args.scale}" if args.scale and "scale" in only else ""
    if "upgrade" in only and args.upgrade_baseline != BASELINE:
        cmd += f" --upgrade-baseline {args.upgrade_baseline}"
    note = (
        f"Partial run: `{cmd}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"(code of {code_commit()}, load {load:.1f} at its start) replaced: "
        f"{', '.join(only)}."
    )
    print("\n".join([note, *lines, *(x for v in sections.values() for x in v)]))
    if args.write:
        doc = ROOT / "docs" / "performance.md"
        doc.write_text(merge_md(doc.read_text(encoding="utf-8"), note, rows, sections), "utf-8")
    return 0


def prerendered_rows(check: list[str], args: argparse.Namespace) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    """kubevet and Checkov on the pre-rendered YAML, alternating run by run so that both
    see the same load."""
    kv_cmd = [*check, str(RENDERED), "-j", "1"]
    ck_cmd = checkov_cmd(args.checkov) if args.checkov else None
    kv, ck = [], []
    for _ in range(args.runs):
        kv.append(measure(kv_cmd, 1))
        if ck_cmd:
            ck.append(measure(ck_cmd, 1))
    rows = [(PRE_RENDERED, combine(kv))]
    return rows + ([("Checkov, pre-rendered YAML", combine(ck))] if ck else [])


def combine(runs: list[dict[str, float]]) -> dict[str, float]:
    """Single-run measurements as one row (medians; min, max of wall; max of peak)."""
    walls = [r["median"] for r in runs]
    return {
        "median": statistics.median(walls),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "min": min(walls),
        "max": max(walls),
        "peak_mib": max(r["peak_mib"] for r in runs),
        "load": statistics.median(r["load"] for r in runs),
    }


def checkov_cmd(checkov: str) -> list[str]:
    return [
        checkov,
        *("-d", str(RENDERED), "--framework", "kubernetes", "-o", "json"),
        *("--quiet", "--skip-download"),
    ]


def row_md(m: dict[str, float]) -> str:
    return (
        f"{m['median']:.3f} | {m['min']:.3f} | {m['max']:.3f} | "
        f"{m['cpu']:.3f} | {m['peak_mib']:.0f} | {m['load']:.1f}"
    )


def merge_md(
    old: str,
    note: str,
    rows: list[tuple[str, dict[str, float]]],
    sections: dict[str, list[str]],
) -> str:
    """docs/performance.md with the measured rows and sections replaced (a section is the
    line starting with its key, or for a heading, everything up to the next heading) and
    the partial run's note after the header (replacing an earlier note for the same parts)."""
    lines = old.split("\n")
    for name, m in rows:
        at = [i for i, x in enumerate(lines) if x.startswith(f"| {name} |")]
        new = f"| {name} | {row_md(m)} |"
        if at:
            lines[at[0]] = new
        else:  # a row the table did not have yet: at the table's end
            end = next(i for i, x in enumerate(lines) if x.startswith("| ---")) + 1
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            lines.insert(end, new)
    for key, body in sections.items():
        at = next((i for i, x in enumerate(lines) if x.startswith(key)), None)
        if at is None and key.startswith("## "):  # a new section: before the prose
            at = lines.index(NOTES) if NOTES in lines else len(lines)
            lines[at:at] = [*body, ""]
            continue
        if at is None:  # a new line of the whole-process section: at its end
            start = lines.index("## Whole process") + 1
            end = next(i for i in range(start, len(lines)) if lines[i].startswith("## "))
            lines[end:end] = [*body, ""]
            continue
        stop = at + 1
        if key.startswith("## "):
            while stop < len(lines) and not lines[stop].startswith("## "):
                stop += 1
            body = [*body, ""]
        lines[at:stop] = body
    parts = note.split(" replaced: ")[1]
    lines = [x for x in lines if not (x.startswith("Partial run: ") and x.endswith(parts))]
    header_end = lines.index("## Whole process")
    # a replaced note leaves its blank line: one blank line between the header's paragraphs
    head = [x for i, x in enumerate(lines[:header_end]) if x or (i and lines[i - 1])]
    lines[:header_end] = [*head, note, ""]
    return "\n".join(lines)


def checkov_md(named: dict[str, dict[str, float]]) -> list[str]:
    ck, kv = named["Checkov, pre-rendered YAML"], named[PRE_RENDERED]
    return [
        f"**Checkov / kubevet on identical pre-rendered input: "
        f"{ck['median'] / kv['median']:.1f}x wall time, {ck['cpu'] / kv['cpu']:.1f}x CPU "
        "time** (medians, whole process)."
    ]


def phases_md(phase: dict[str, float]) -> list[str]:
    out = ["## kubevet phases (in process, pre-rendered YAML)", ""]
    out += ["Cycle collector off, as in `kubevet check`.", "", "| phase | CPU s |"]
    out += ["| --- | ---: |"]
    out += [f"| {k} | {v:.3f} |" for k, v in phase.items() if not k.startswith("_")]
    rules_s = phase["rules (incl. suppressions, dedup, sort)"]
    summary = f"{phase['_objects']} objects, {phase['_findings']} findings, {phase['_rules']} "
    return [*out, "", summary + f"rules (the default selection) in {rules_s:.2f} CPU s."]


def floor_md(floor: dict[str, float]) -> list[str]:
    out = ["## Parse-only floor (CPU s, best of runs, same bytes)", "", "| parser | CPU s |"]
    out += ["| --- | ---: |"]
    out += [f"| {k} | {v:.3f} |" for k, v in floor.items()]
    ours = floor.get("kubevet parse (parse_stream)")
    ryml_s = next((v for k, v in floor.items() if k.startswith("rapidyaml")), None)
    if ours and ryml_s:
        out += ["", f"**kubevet's parse / rapidyaml's own parse: {ours / ryml_s:.1f}x.**"]
    return out


def floor_ir_md() -> list[str]:
    """The parse ratio in instructions (bench/parse_ir.py: callgrind, deterministic)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from parse_ir import measure as instructions
    from parse_ir import parse_path

    per_pass = instructions(RENDERED)
    kv, ry = per_pass["kubevet"], per_pass["rapidyaml"]
    how = parse_path()
    return [
        "## Parse floor in instructions (callgrind, one warm pass, same bytes)",
        "",
        "| parser | instructions |",
        "| --- | ---: |",
        f"| kubevet parse (parse_stream, {how}) | {kv:,} |",
        f"| rapidyaml parse only | {ry:,} |",
        "",
        f"**kubevet's parse / rapidyaml's own parse, in instructions: {kv / ry:.2f}x.**",
    ]


def report_md(rows, phase, floor, scale, docs, args, slowest) -> str:  # type: ignore[no-untyped-def]
    cmd = "python bench/bench.py --runs {} {}{}".format(
        args.runs,
        f"--checkov {args.checkov} " if args.checkov else "",
        f"--scale {args.scale}" if args.scale else "",
    )
    out = [
        "# Performance",
        "",
        f"Produced by `{cmd.strip()}` on {args.started} "
        f"(code of {code_commit()}, load {args.load:.1f} at its start), {os.cpu_count()} cores; "
        f"corpus: 60 charts, {docs} rendered documents.",
        "",
        "## Whole process",
        "",
        "| run | median s | min s | max s | CPU s | peak MiB | load |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    out += [f"| {name} | {row_md(m)} |" for name, m in rows]
    out.append("")
    out.append("Load: the 1-minute load average when each run started (median of the runs).")
    named = dict(rows)
    ck = named.get("Checkov, pre-rendered YAML")
    kv = named.get(PRE_RENDERED)
    if ck and kv:
        out += ["", *checkov_md(named)]
    out += trace_md(named, slowest)
    out += ["", *upgrade_md(named, args.upgrade_baseline)]
    out += ["", *phases_md(phase), "", *floor_md(floor)]
    if scale:
        out += ["", *scale_md(scale)]
    return "\n".join(out) + "\n"


def scale_md(scale: list[tuple[int, int, dict[str, float]]]) -> list[str]:
    out = [
        "## Scaling (copies of the rendered corpus, one directory per chart)",
        "",
        "| charts | inputs | s | CPU s | peak MiB | CPU s per 1,000 charts | load |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, inputs, m in scale:
        out.append(
            f"| {size} | {inputs} | {m['median']:.2f} | {m['cpu']:.2f} | {m['peak_mib']:.0f} | "
            f"{m['cpu'] / size * 1000:.2f} | {m['load']:.1f} |"
        )
    return out


def trace_ratio_md(
    traced: dict[str, float], plain: dict[str, float], named: dict[str, dict[str, float]]
) -> str:
    """The first run's ratio, and where measured, that of a run after one that kept the
    traces (one line: `merge_md` replaces it whole)."""
    out = (
        f"**Tracing on (the default) / `--no-trace`, 60 charts, -j 2, a first run: "
        f"{traced['median'] / plain['median']:.2f}x wall time, "
        f"{traced['cpu'] / plain['cpu']:.2f}x CPU time** (medians)."
    )
    kept = named.get(TRACED_KEPT)
    if kept:
        out += (
            f" **Run again with the traces kept (`kubevet.trace.cache`): "
            f"{kept['median'] / plain['median']:.2f}x wall time, "
            f"{kept['cpu'] / plain['cpu']:.2f}x CPU time.**"
        )
    return out


def trace_md(named: dict[str, dict[str, float]], slowest: dict) -> list[str]:  # type: ignore[type-arg]
    """Tracing's cost: whole-run ratios and the slowest charts of one -v run each way."""
    return ["", trace_ratio_md(named[TRACED], named[NO_TRACE], named), "", slowest_md(slowest)]


def slowest_md(slowest: dict) -> str:  # type: ignore[type-arg]
    """The slowest charts of one -v run each way."""
    wall_t, per_t = slowest["traced"]
    wall_u, per_u = slowest["untraced"]
    top = ", ".join(f"{name} {s:.2f} s" for s, name in per_t[:3])
    return (
        f"One `-v` run each way (load {slowest['load']:.1f}): {wall_t:.1f} s traced, "
        f"{wall_u:.1f} s not; slowest charts traced: {top}; slowest not traced: "
        f"{per_u[0][1]} {per_u[0][0]:.2f} s."
    )


if __name__ == "__main__":
    raise SystemExit(main())
