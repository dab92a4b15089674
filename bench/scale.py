"""`python bench/scale.py [CHARTS_DIR] [--charts 2000] [--merge-inputs 10000] [--merge-only |
--shards-only] [--json OUT]`:
kubevet past one process, timed and checked for identity on many chart directories.

The inputs are CHARTS_DIR's charts whose templates render nothing random (no rand*, uuid,
gen*, now), each linked under its own name until there are --charts of them. Each way of
running writes JSON and SARIF, which must be byte-identical to `check -j 1` (and give its
exit code; with --shards-only, to `-j 2`'s, which the full run shows to be `-j 1`'s):

- `-j 2` (processes on this machine), the reference for time;
- `--engine ray --address local -j 2` (a throwaway 2-CPU Ray cluster; its start counts);
- `--shard I/N` for N = 1, 2, 7 (all N shard processes at once, started in reverse order,
  `-j 2` for one shard and `-j 1` each for more) plus `kubevet merge`.

Then merge memory: shard files for 2,000 and --merge-inputs inputs, made by repeating the
records of the real run (merge reads records, it does not render: the records are real,
their count is what grows), merged to JSON and SARIF; peak RSS of each merge.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from corpus_args import DEFAULT_CHARTS  # noqa: E402
from scale_inputs import deterministic, link_charts  # noqa: E402

KUBEVET = [sys.executable, "-m", "kubevet"]


def report(name: str, run: dict[str, float]) -> dict[str, float]:
    """Say each figure as it comes (a long run stopped early still told something)."""
    print(f"{name}: {json.dumps(run)} load={os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    return run


def timed(argv: list[str], cwd: Path, watch_ray: bool = False) -> dict[str, float]:
    """Wall seconds, peak RSS (MiB) and exit code of one command (and, with watch_ray,
    the largest resident sizes a Ray worker and a render process it started reached)."""
    stop, ray_peak = threading.Event(), [0, 0]
    watcher = threading.Thread(target=_watch_ray, args=(stop, ray_peak), daemon=True)
    if watch_ray:
        watcher.start()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stop.set()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1, 2) or "Traceback" in err:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err[-3000:]}")
    out = {"wall": wall, "rss": usage.ru_maxrss / 1024, "code": proc.returncode}
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


def shards_then_merge(paths: list[str], count: int, work: Path, out: Path) -> dict[str, float]:
    """All `count` shards at once (as an Indexed Job with parallelism = completions runs
    them), started in reverse order, sharing the machine's 2 cores: one shard gets -j 2,
    more get -j 1 each. Then the merge; wall time of the whole."""
    shard_dir = work / f"shards-{count}"
    shard_dir.mkdir()
    start = time.perf_counter()
    jobs = "2" if count == 1 else "1"
    running = []
    for index in reversed(range(count)):  # the order shards finish in does not matter
        argv = [*KUBEVET, "check", *paths, "-j", jobs, "--shard", f"{index}/{count}"]
        running.append(
            subprocess.Popen([*argv, "-o", str(shard_dir)], cwd=work, stderr=subprocess.DEVNULL)
        )
    codes = [proc.wait() for proc in running]
    if codes != [0] * count:
        sys.exit(f"shards of {count} exited {codes}")
    merged = timed([*KUBEVET, "merge", str(shard_dir), *reports(out)], work)
    merged["merge_wall"] = merged["wall"]
    merged["wall"] = time.perf_counter() - start
    return merged


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
    args = {"--charts": "2000", "--merge-inputs": "10000", "--json": ""}
    charts_dir, merge_only, shards_only = DEFAULT_CHARTS, False, False
    it = iter(argv)
    for a in it:
        if a in args:
            args[a] = next(it)
        elif a == "--merge-only":  # only the shard file merge memory is measured from
            merge_only = True
        elif a == "--shards-only":  # -j 2 (the reference), shards + merge, merge memory
            shards_only = True
        else:
            charts_dir = Path(a)
    count = int(args["--charts"])
    sources = deterministic(charts_dir)
    work = Path(tempfile.mkdtemp(prefix="kv-scale-", dir="/tmp"))
    results: dict[str, object] = {"charts": count, "sources": [p.name for p in sources]}
    try:
        paths = link_charts(sources, work, count)
        if merge_only:
            (work / "one").mkdir()
            shards_then_merge(paths, 1, work, work / "one")
            results["merge"] = merge_memory(work, int(args["--merge-inputs"]))
            return _done(results, args["--json"])
        runs = {}
        first = "-j 2" if shards_only else "-j 1"  # the reference (-j 2 gives -j 1's bytes)
        ref = work / "out-ref"
        ref.mkdir()
        argv = [*KUBEVET, "check", *paths, "-j", first[-1], *reports(ref)]
        runs[first] = report(first, timed(argv, work))
        ways = (
            ("-j 2", ["-j", "2"]),
            ("ray local -j 2", ["--engine", "ray", "--address", "local", "-j", "2"]),
        )
        for name, extra in () if shards_only else ways:
            out = work / f"out-{len(runs)}"
            out.mkdir()
            argv = [*KUBEVET, "check", *paths, *extra, *reports(out)]
            runs[name] = timed(argv, work, watch_ray="ray" in name)
            runs[name]["identical"] = same(ref, out) and runs[name]["code"] == runs[first]["code"]
            report(name, runs[name])
        for n in (1, 2, 7):
            out = work / f"out-shards-{n}"
            out.mkdir()
            run = runs[f"shards N={n} + merge"] = shards_then_merge(paths, n, work, out)
            run["identical"] = same(ref, out) and run["code"] == runs[first]["code"]
            report(f"shards N={n} + merge", run)
        results["runs"] = runs
        results["merge"] = merge_memory(work, int(args["--merge-inputs"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _done(results, args["--json"])


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
