"""Where a first traced check of the corpus spends the CPU time that tracing adds.

    python bench/trace_cost.py [CHARTS_DIR] [--runs N] [--write]

Two measurements, both with `-j 1`, so that one check process and its render worker do all
the work and their CPU times add up to the run's:
1. whole runs, `--no-trace` and traced in turn (each traced run a first run, with a cache
   folder of its own, its marker renders one after another as in a -j 2 run with both
   cores busy): the CPU time of the check process and that of its render worker (Helm's
   Go, and the chart copies the marker renders load), medians of the runs;
2. runs each way with the worker's operations made in the check process (each in a fresh
   interpreter, its Go collector set as the worker's) and timed one by one, in CPU time of
   the whole process (Go's collector runs on threads of its own), medians kind by kind:
   the check's own renders, the marker copies, the marker renders by outcome, the probe
   renders, and the rest (Python).
`--write` puts the tables into docs/performance.md, between its trace_cost markers.
Run by hand, never in tests; needs the shared corpus.
"""

from __future__ import annotations

import compileall
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from corpus_args import code_commit, parse, write_between

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"

# Run in a child: the check's CLI, then the CPU time of this process and of its render worker
# (read from /proc while the worker still runs), as one JSON line on stderr. Marker renders go
# one after another, as in a -j 2 run while the other core is busy: a -j 1 run alone on the
# machine would render a slow chart's markers two at a time (`kubevet.spare`).
_WHOLE_RUN = """
import json, os, resource, sys
from kubevet.cli import main
from kubevet.sources import renderworker
from kubevet.trace import render
render.spare_core = lambda: False
try:
    main(sys.argv[1:])
except SystemExit:
    pass
proc = renderworker._WORKER.get("proc")
worker = 0.0
if proc is not None:
    fields = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
    worker = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
me = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"check": me.ru_utime + me.ru_stime, "worker": worker}), file=sys.stderr)
"""


def whole_run(charts: Path, traced: bool) -> dict[str, float]:
    """One run's CPU seconds: check process, render worker."""
    args = ["check", str(charts), "-j", "1", "--format", "json", "-o", os.devnull]
    args += ["--no-gitignore"] + ([] if traced else ["--no-trace"])
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, KUBEVET_CACHE_DIR=cache, PYTHONPATH=str(ROOT / "src"))
        out = subprocess.run(
            [sys.executable, "-c", _WHOLE_RUN, *args], env=env, capture_output=True, text=True
        )
    lines = [x for x in out.stderr.splitlines() if x.startswith('{"check"')]
    if not lines:
        sys.exit(f"kubevet {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def whole_runs(charts: Path, runs: int) -> dict[str, dict[str, float]]:
    """Medians of `runs` runs each way, made in turn so that both see the same load."""
    got: dict[str, list[dict[str, float]]] = {"untraced": [], "traced": []}
    for _ in range(runs):
        got["untraced"].append(whole_run(charts, False))
        got["traced"].append(whole_run(charts, True))
    return {
        way: {part: statistics.median(r[part] for r in rs) for part in ("check", "worker")}
        for way, rs in got.items()
    }


class Ledger:
    """CPU seconds and counts by kind of work, for the in-process run."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self.pending: list[dict[str, Any]] = []  # marker renders waiting for their verdict

    def add(self, kind: str, cpu: float, n: int = 1) -> None:
        self.cpu[kind] = self.cpu.get(kind, 0.0) + cpu
        self.count[kind] = self.count.get(kind, 0) + n


MARKER_CLEAN = "marker renders that gave landings"
MARKER_HELM = "marker renders that failed: Helm stopped at a template's error"
MARKER_JUDGED = "marker renders that failed: a YAML error or a lost object in the output"
PROBES = "probe renders (bool and number fields, list keys)"
PLAIN = "the check's own renders (as without tracing)"
COPIES = "marker copies of the charts, made and loaded"
OTHER_OPS = "other worker operations (values merge, close)"
REST = "the rest: Python (check, trace, report)"


def in_process(charts: Path, traced: bool) -> tuple[Ledger, float]:
    """A -j 1 run with the render worker's operations made here, timed one by one."""
    from kubevet.sources import goenv

    # as the run's worker has it (tracing sets its own)
    os.environ.setdefault("GOGC", goenv.GO_GC_TRACED if traced else goenv.GO_GC)
    os.environ["KUBEVET_CACHE_DIR"] = tempfile.mkdtemp()  # a first run
    args = ["check", str(charts), "-j", "1", "--format", "json", "-o", os.devnull]
    args += ["--no-gitignore"] + ([] if traced else ["--no-trace"])
    ledger = Ledger()
    with _instrumented(ledger):
        from kubevet.cli import main

        start = time.process_time()
        with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(SystemExit):
            main(args)
        total = time.process_time() - start
    return ledger, total


def in_child(charts: Path, traced: bool) -> tuple[Ledger, float]:
    """`in_process` in a fresh interpreter (nothing loaded or cached by another run)."""
    way = "traced" if traced else "untraced"
    out = subprocess.run(
        [sys.executable, __file__, str(charts), "--child", way],
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(out.stdout.splitlines()[-1])
    ledger = Ledger()
    ledger.cpu, ledger.count = got["cpu"], got["count"]
    return ledger, got["total"]


def in_children(charts: Path, traced: bool, runs: int) -> tuple[Ledger, float]:
    """The median of `runs` runs of `in_child`, kind by kind (Go's collector, on threads of
    its own, is counted to whatever runs beside it: the split varies from run to run)."""
    got = [in_child(charts, traced) for _ in range(runs)]
    ledger = Ledger()
    ledger.count = got[-1][0].count
    for kind in {k for led, _ in got for k in led.cpu}:
        ledger.cpu[kind] = statistics.median(led.cpu.get(kind, 0.0) for led, _ in got)
    return ledger, statistics.median(total for _, total in got)


@contextlib.contextmanager
def _instrumented(ledger: Ledger) -> Iterator[None]:
    """Patch the worker call, the marker renders and their verdicts to fill `ledger`."""
    from kubevet.sources import renderworker
    from kubevet.trace import markers, render

    kind = ["probe"]  # what a render_texts call now is: "batch" or "probe"
    saved = (
        renderworker.call,
        render.spare_core,
        render.LocalRenderer.render_texts,
        markers._render_batches,
        markers._judge,
    )
    ops = {
        "_run_engine": PLAIN,
        "open_local": COPIES,
        "texts_local": None,  # its renders are timed one by one below
    }

    def call(chart: str, op: Callable[..., Any], *args: Any) -> Any:
        what = ops.get(op.__name__, OTHER_OPS)
        start = time.process_time()
        try:
            return op(*args)
        finally:
            if what is not None:
                ledger.add(what, time.process_time() - start)

    def render_texts(self: Any, values: Any, chart: Any = None) -> Any:
        entry = {"cpu": 0.0}
        if kind[0] == "batch":
            ledger.pending.append(entry)
        start = time.process_time()
        try:
            return saved[2](self, values, chart)
        finally:
            entry["cpu"] = time.process_time() - start
            if kind[0] != "batch":
                ledger.add(PROBES, entry["cpu"])

    def render_batches(*args: Any, **kw: Any) -> Iterator[Any]:
        kind[0] = "batch" if kw.get("proof", args[7] if len(args) > 7 else None) else "probe"
        try:
            yield from saved[3](*args, **kw)
        finally:
            kind[0] = "probe"

    def judge(result: Any, base: Any, source_dir: Any) -> Any:
        out = saved[4](result, base, source_dir)
        if kind[0] != "batch":  # a list probe's render, already counted
            return out
        entry = ledger.pending.pop(0)
        if out[1] is None:
            ledger.add(MARKER_CLEAN, entry["cpu"])
        elif isinstance(result, render.RenderFailed):
            ledger.add(MARKER_HELM, entry["cpu"])
        else:
            ledger.add(MARKER_JUDGED, entry["cpu"])
        return out

    renderworker.call = call  # type: ignore[assignment]
    render.spare_core = lambda: False  # renders one after another, as with -j 2's cores busy
    render.LocalRenderer.render_texts = render_texts  # type: ignore[method-assign]
    markers._render_batches = render_batches  # type: ignore[assignment]
    markers._judge = judge  # type: ignore[assignment]
    try:
        yield
    finally:
        renderworker.call = saved[0]
        render.spare_core = saved[1]
        render.LocalRenderer.render_texts = saved[2]  # type: ignore[method-assign]
        markers._render_batches = saved[3]  # type: ignore[assignment]
        markers._judge = saved[4]  # type: ignore[assignment]


def report_md(
    whole: dict[str, dict[str, float]],
    split: dict[str, tuple[Ledger, float]],
    runs: int,
    load: float,
) -> list[str]:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    untraced, traced = whole["untraced"], whole["traced"]
    u_all, t_all = untraced["check"] + untraced["worker"], traced["check"] + traced["worker"]
    out = [
        f"Run of {when} with the code of {code_commit()} (`python bench/trace_cost.py "
        f"--runs {runs} --write`, load {load:.1f} at the start).",
        "",
        f"Whole runs, -j 1, CPU s (medians of {runs} runs each way, made in turn):",
        "",
        "| run | check process | render worker | both |",
        "| --- | ---: | ---: | ---: |",
        f"| `--no-trace` | {untraced['check']:.2f} | {untraced['worker']:.2f} | {u_all:.2f} |",
        f"| traced, a first run | {traced['check']:.2f} | {traced['worker']:.2f} | {t_all:.2f} |",
        f"| added by tracing | {traced['check'] - untraced['check']:.2f} | "
        f"{traced['worker'] - untraced['worker']:.2f} | {t_all - u_all:.2f} |",
        "",
        f"**Traced / untraced, CPU: {t_all / u_all:.2f}x.** At 2x, tracing could add as much "
        f"CPU as the whole untraced run: {u_all:.2f} s; it adds {t_all - u_all:.2f} s, "
        f"{traced['worker'] - untraced['worker']:.2f} s of it in the render worker.",
        "",
        f"Runs with the worker's operations made in the check process and timed one by one "
        f"(CPU s of the whole process, Go's collector included; medians of {runs} runs each "
        "way, kind by kind; one process holding both runs heavier than two, so read the "
        "split, not the totals):",
        "",
        "| work | count | `--no-trace` | traced | added |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    (u_led, u_total), (t_led, t_total) = split["untraced"], split["traced"]
    u_timed = t_timed = 0.0
    for kind in KINDS:
        u_cpu, t_cpu = u_led.cpu.get(kind, 0.0), t_led.cpu.get(kind, 0.0)
        u_timed, t_timed = u_timed + u_cpu, t_timed + t_cpu
        n = t_led.count.get(kind, 0)
        out.append(f"| {kind} | {n:,} | {u_cpu:.2f} | {t_cpu:.2f} | {t_cpu - u_cpu:.2f} |")
    u_rest, t_rest = u_total - u_timed, t_total - t_timed
    out += [
        f"| {REST} | | {u_rest:.2f} | {t_rest:.2f} | {t_rest - u_rest:.2f} |",
        f"| the whole run | | {u_total:.2f} | {t_total:.2f} | {t_total - u_total:.2f} |",
        "",
    ]
    clean = t_led.cpu.get(MARKER_CLEAN, 0.0)
    floor = clean + t_led.cpu.get(COPIES, 0.0) + t_rest - u_rest
    out.append(
        f"Without a failed render or a probe, tracing would still add {floor:.2f} s here (the "
        f"copies, the marker renders that gave landings and the Python), against "
        f"{u_total:.2f} s for the whole untraced run: {(u_total + floor) / u_total:.2f}x. "
        f"The marker renders that gave landings alone take {clean:.2f} s, "
        f"{clean / u_total:.0%} of the untraced run."
    )
    return out


KINDS = (PLAIN, COPIES, MARKER_CLEAN, MARKER_HELM, MARKER_JUDGED, PROBES, OTHER_OPS)


def main(argv: list[str]) -> int:
    if "--child" in argv:  # one in-process run, its ledger as JSON on stdout
        at = argv.index("--child")
        ledger, total = in_process(parse(argv[:at])[0], argv[at + 1] == "traced")
        print(json.dumps({"cpu": ledger.cpu, "count": ledger.count, "total": total}))
        return 0
    write = "--write" in argv
    argv = [a for a in argv if a != "--write"]
    runs = 3
    if "--runs" in argv:
        at = argv.index("--runs")
        runs = int(argv[at + 1])
        del argv[at : at + 2]
    charts, _jobs, _json = parse(argv)
    # as bench.py does: with PYTHONDONTWRITEBYTECODE=1, an editable checkout would compile
    # every changed module again in each run, and time the compiler
    compileall.compile_dir(str(ROOT / "src"), quiet=1)
    load = os.getloadavg()[0]
    whole = whole_runs(charts, runs)
    split = {way: in_children(charts, way == "traced", runs) for way in ("untraced", "traced")}
    lines = report_md(whole, split, runs, load)
    print("\n".join(lines))
    if write:
        write_between(DOC, "trace_cost", lines)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    raise SystemExit(main(sys.argv[1:]))
