"""`python bench/scale.py [CHARTS_DIR] [--charts 2000] [--merge-inputs 10000] [--merge-only |
--shards-only] [--no-trace] [--legs j2,n2,n7,n1,j2] [--no-merge-memory] [--json OUT]`:
kubevet past one process, timed and checked for identity on many chart directories.

The inputs are CHARTS_DIR's charts whose templates render nothing random (no rand*, uuid,
gen*, now), each linked under its own name until there are --charts of them. Each way of
running writes JSON and SARIF, which must be byte-identical to `check -j 1` (and give its
exit code; with --shards-only, to the first `-j 2`'s, which the full run shows to be
`-j 1`'s):

- `-j 2` (processes on this machine), the reference for time;
- `--engine ray --address local -j 2` (a throwaway 2-CPU Ray cluster; its start counts);
- `--shard I/N` for N = 1, 2, 7 (all N shard processes at once, started in reverse order,
  `-j 2` for one shard and `-j 1` each for more) plus `kubevet merge`.

With --shards-only the legs run in the order --legs gives (default j2,n2,n7,n1,j2: the
machine is shared, so the reference is taken before and after the shards and each ratio
is to the mean of the -j 2 legs). --no-trace is passed to every leg alike. Each leg says
its wall and CPU seconds (user + system, its own and its children's) and the 1-minute load
average when it started and ended.

kubevet is started from compiled bytecode in every leg (a private PYTHONPYCACHEPREFIX,
filled before the first leg), as an installed package or an image is: with
PYTHONDONTWRITEBYTECODE set, every process would compile kubevet's modules again, a cost
that grows with the number of processes (N shards) and no deployment pays.

Then merge memory (unless --no-merge-memory): shard files for 2,000 and --merge-inputs
inputs, made by repeating the records of the real run (merge reads records, it does not
render: the records are real, their count is what grows), merged to JSON and SARIF; peak
RSS of each merge.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from corpus_args import DEFAULT_CHARTS  # noqa: E402
from scale_inputs import deterministic, link_charts  # noqa: E402

KUBEVET = [sys.executable, "-m", "kubevet"]
CHILD_ENV = dict(os.environ)  # every leg's environment (bytecode: see use_bytecode)
CHILD_ENV["KUBEVET_NO_CACHE"] = "1"  # every leg traces (if it does) from scratch


def report(name: str, run: dict[str, float]) -> dict[str, float]:
    """Say each figure as it comes (a long run stopped early still told something)."""
    print(f"{name}: {json.dumps(run)} load={os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    return run


def use_bytecode(work: Path, warm_up: list[str]) -> None:
    """Every leg starts kubevet from bytecode kept under `work`, compiled before the first
    leg (kubevet's package whole, and what one small check imports, render worker
    included), so no leg pays for compiling and none for the others."""
    CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    import kubevet

    package = str(Path(kubevet.__file__).parent)
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], env=CHILD_ENV, check=True)
    subprocess.run(
        [*KUBEVET, "check", *warm_up, "-j", "1", "-q"],
        cwd=work,
        env=CHILD_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


def cpu_seconds(usage: os.struct_rusage | Any) -> float:
    """User + system time of a waited-for child and the children it waited for."""
    return float(usage.ru_utime + usage.ru_stime)


def timed(argv: list[str], cwd: Path, watch_ray: bool = False) -> dict[str, float]:
    """Wall seconds, peak RSS (MiB) and exit code of one command (and, with watch_ray,
    the largest resident sizes a Ray worker and a render process it started reached)."""
    stop, ray_peak = threading.Event(), [0, 0]
    watcher = threading.Thread(target=_watch_ray, args=(stop, ray_peak), daemon=True)
    if watch_ray:
        watcher.start()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # a pipe could fill and block the child
        proc = subprocess.Popen(
            argv, cwd=cwd, env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        stop.set()
        errors.seek(0)
        err = errors.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1, 2) or "Traceback" in err:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err[-3000:]}")
    out = {"wall": wall, "cpu": cpu_seconds(usage), "rss": usage.ru_maxrss / 1024}
    out |= {"code": proc.returncode, "load_start": load, "load_end": os.getloadavg()[0]}
    if watch_ray:
        watcher.join()
        out["ray_worker_rss"] = ray_peak[0] / 1024
        out["ray_render_rss"] = ray_peak[1] / 1024
    return out


def _watch_ray(stop: threading.Event, peak: list[int]) -> None:
    """peak[0]: the largest RSS (KiB) of a Ray worker (`ray::` title); peak[1]: of a
    process one of them started (its chart render worker)."""
    while not stop.wait(0.25):
        workers, children = set(), {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kib = re.search(r"VmRSS:\s+(\d+)", status)
            parent = re.search(r"PPid:\s+(\d+)", status)
            rss = int(kib.group(1)) if kib else 0
            if title.startswith(b"ray::"):
                workers.add(pid)
                peak[0] = max(peak[0], rss)
            elif parent:
                children[pid] = (parent.group(1), rss)
        for parent_pid, rss in children.values():
            if parent_pid in workers:
                peak[1] = max(peak[1], rss)


def reports(out: Path) -> list[str]:
    return [f"--format=json={out}/report.json", f"--format=sarif={out}/report.sarif"]


def same(a: Path, b: Path) -> bool:
    return all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in ("report.json", "report.sarif")
    )


def shards_then_merge(
    paths: list[str], count: int, work: Path, out: Path, flags: list[str]
) -> dict[str, float]:
    """All `count` shards at once (as an Indexed Job with parallelism = completions runs
    them), started in reverse order, sharing the machine's 2 cores: one shard gets -j 2,
    more get -j 1 each. Then the merge; wall and CPU time of the whole and of the merge."""
    shard_dir = work / f"shards-{count}"
    if shard_dir.exists():  # a leg run twice
        shutil.rmtree(shard_dir)
    shard_dir.mkdir()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    jobs = "2" if count == 1 else "1"
    running = []
    for index in reversed(range(count)):  # the order shards finish in does not matter
        argv = [*KUBEVET, "check", *paths, *flags, "-j", jobs, "--shard", f"{index}/{count}"]
        running.append(
            subprocess.Popen(
                [*argv, "-o", str(shard_dir)], cwd=work, env=CHILD_ENV, stderr=subprocess.DEVNULL
            )
        )
    codes, cpu = [], 0.0
    for proc in running:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        codes.append(proc.returncode)
        cpu += cpu_seconds(usage)
    if codes != [0] * count:
        sys.exit(f"shards of {count} exited {codes}")
    shards_wall = time.perf_counter() - start
    merged = timed([*KUBEVET, "merge", str(shard_dir), *reports(out)], work)
    return {
        "wall": time.perf_counter() - start,
        "cpu": cpu + merged["cpu"],
        "shards_wall": shards_wall,
        "merge_wall": merged["wall"],
        "merge_cpu": merged["cpu"],
        "rss": merged["rss"],
        "code": merged["code"],
        "load_start": load,
        "load_end": merged["load_end"],
    }


def synthetic_shards(source: Path, total: int, count: int, target: Path) -> None:
    """Shard files for `total` inputs from the records of one real shard file, repeated."""
    lines = source.read_text(encoding="utf-8").splitlines()
    head, records = json.loads(lines[0]), lines[1:]
    target.mkdir()
    files = []
    for index in range(count):
        header = {**head, "shard": index, "of": count, "total": total, "inputs": f"x{total}"}
        header["counts"] = {"inputs": len(range(index, total, count))}
        path = target / f"shard-{index:05d}-of-{count:05d}.kvshard.jsonl"
        fh = path.open("w", encoding="utf-8")
        fh.write(json.dumps(header) + "\n")
        files.append(fh)
    for k in range(total):
        item = json.loads(records[k % len(records)])
        item["index"] = k
        files[k % count].write(json.dumps(item, ensure_ascii=False) + "\n")
    for fh in files:
        fh.close()


def main(argv: list[str]) -> int:
    args = {"--charts": "2000", "--merge-inputs": "10000", "--json": "", "--legs": ""}
    charts_dir, switches = DEFAULT_CHARTS, set()
    it = iter(argv)
    for a in it:
        if a in args:
            args[a] = next(it)
        elif a in ("--merge-only", "--shards-only", "--no-trace", "--no-merge-memory"):
            switches.add(a)  # --merge-only: only the merge memory, from one shard's records
        else:
            charts_dir = Path(a)
    flags = ["--no-trace"] if "--no-trace" in switches else []
    count = int(args["--charts"])
    sources = deterministic(charts_dir)
    work = Path(tempfile.mkdtemp(prefix="kv-scale-", dir="/tmp"))
    results: dict[str, object] = {"charts": count, "sources": [p.name for p in sources]}
    results["flags"] = flags
    try:
        paths = link_charts(sources, work, count)
        use_bytecode(work, [*paths[:1], *flags])
        if "--merge-only" in switches:
            (work / "one").mkdir()
            shards_then_merge(paths, 1, work, work / "one", flags)
            results["merge"] = merge_memory(work, int(args["--merge-inputs"]))
            return _done(results, args["--json"])
        if "--shards-only" in switches:
            legs = (args["--legs"] or "j2,n2,n7,n1,j2").split(",")
            results["runs"] = interleaved(paths, work, flags, legs)
        else:
            results["runs"] = every_engine(paths, work, flags)
        if "--no-merge-memory" not in switches:
            results["merge"] = merge_memory(work, int(args["--merge-inputs"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _done(results, args["--json"])


def every_engine(paths: list[str], work: Path, flags: list[str]) -> dict[str, dict[str, float]]:
    """-j 1 (the reference), -j 2, Ray, then shards N = 1, 2, 7 + merge."""
    runs = {}
    ref = work / "out-ref"
    ref.mkdir()
    runs["-j 1"] = report(
        "-j 1", timed([*KUBEVET, "check", *paths, *flags, "-j", "1", *reports(ref)], work)
    )
    ways = (
        ("-j 2", ["-j", "2"]),
        ("ray local -j 2", ["--engine", "ray", "--address", "local", "-j", "2"]),
    )
    for name, extra in ways:
        out = work / f"out-{len(runs)}"
        out.mkdir()
        argv = [*KUBEVET, "check", *paths, *flags, *extra, *reports(out)]
        runs[name] = timed(argv, work, watch_ray="ray" in name)
        runs[name]["identical"] = same(ref, out) and runs[name]["code"] == runs["-j 1"]["code"]
        report(name, runs[name])
    for n in (1, 2, 7):
        out = work / f"out-shards-{n}"
        out.mkdir()
        run = runs[f"shards N={n} + merge"] = shards_then_merge(paths, n, work, out, flags)
        run["identical"] = same(ref, out) and run["code"] == runs["-j 1"]["code"]
        report(f"shards N={n} + merge", run)
    return runs


def interleaved(
    paths: list[str], work: Path, flags: list[str], legs: list[str]
) -> dict[str, dict[str, float]]:
    """The legs in the order given (`j2`: check -j 2; `nK`: K shards + merge), each checked
    against the first -j 2's bytes and exit code; ratios to the mean -j 2 wall time."""
    runs: dict[str, dict[str, float]] = {}
    ref: Path | None = None
    for number, leg in enumerate(legs, start=1):
        out = work / f"out-{number}"
        out.mkdir()
        if leg == "j2":
            run = timed([*KUBEVET, "check", *paths, *flags, "-j", "2", *reports(out)], work)
        else:
            run = shards_then_merge(paths, int(leg.removeprefix("n")), work, out, flags)
        ref = ref or (out if leg == "j2" else None)
        if ref is not None and ref != out:
            first = runs[next(name for name in runs if name.endswith("-j 2"))]
            run["identical"] = same(ref, out) and run["code"] == first["code"]
        name = f"{number}. " + ("-j 2" if leg == "j2" else f"shards N={leg[1:]} + merge")
        runs[name] = report(name, run)
    reference = [r["wall"] for name, r in runs.items() if name.endswith("-j 2")]
    if reference:
        mean = sum(reference) / len(reference)
        for run in runs.values():
            run["ratio"] = run["wall"] / mean
    return runs


def _done(results: dict[str, object], json_out: str) -> int:
    results["load"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    if json_out:
        Path(json_out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def merge_memory(work: Path, large: int) -> dict[str, dict[str, float]]:
    source = next((work / "shards-1").glob("*.kvshard.jsonl"))
    out = {}
    for total in (2000, large):
        target = work / f"synthetic-{total}"
        synthetic_shards(source, total, 7, target)
        dest = work / f"merged-{total}"
        dest.mkdir()
        out[str(total)] = report(
            f"merge {total}", timed([*KUBEVET, "merge", str(target), *reports(dest)], work)
        )
        shutil.rmtree(target)
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
