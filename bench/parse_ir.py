"""Instructions (callgrind's Ir) that kubevet's parse and rapidyaml's own parse execute on the
same bytes: the parse ratio without the noise of a shared machine's CPU time.

    python bench/parse_ir.py [DIR]          # DIR: bench/out/rendered (bench.py makes it)

Each parser runs under `valgrind --tool=callgrind` twice, over the files once and twice in
one process; the difference is one warm pass (start-up, imports and first-use caches
cancel out). Needs valgrind (Debian: `apt-get install valgrind`); about 2 minutes. Run by
hand or by `bench.py --only floor-ir`, never in tests.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RENDERED = ROOT / "bench" / "out" / "rendered"

# The measured program: `passes` passes of one parser over every file of a directory.
PROGRAM = """
import pathlib, sys
from kubevet.quiet import quiet_stderr
from kubevet.sources.yamldocs import parse_stream
import ryml
parser, passes, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
texts = [p.read_text("utf-8") for p in sorted(pathlib.Path(folder).glob("*.yaml"))]
with quiet_stderr():
    for _ in range(passes):
        for text in texts:
            if parser == "kubevet":
                parse_stream(text, "x")
            else:
                try:
                    ryml.parse_in_arena(text.encode())
                except Exception:  # rapidyaml rejects one render (as in bench.py)
                    pass
"""


def instructions(parser: str, passes: int, folder: Path, script: Path) -> int:
    """Instructions executed by `passes` passes of `parser`, start-up included."""
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run(
        [*valgrind, sys.executable, str(script), parser, str(passes), str(folder)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        sys.exit(f"parse_ir: no instruction count from callgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def parse_path() -> str:
    """How the measured kubevet's parse goes from rapidyaml's tree to objects (its C parts
    are built by `pip install -e .`, or in place by `python setup.py build_ext --inplace`;
    without them the parse takes its slower fallbacks)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import kubevet.sources.jsonscan as j, kubevet.sources.yamlfast as y; "
            "print(y._build is not None, j._scan_in_c is not None)",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    walk, scan = done.stdout.split()
    if walk == "True":
        return "reading rapidyaml's tree with its C walk"
    if scan == "True":
        return "through rapidyaml's JSON, with its C scan"
    return "through rapidyaml's JSON, without its C scan (not built)"


def measure(folder: Path = RENDERED) -> dict[str, int]:
    """Instructions per warm pass: {"kubevet": n, "rapidyaml": m}."""
    if shutil.which("valgrind") is None:
        sys.exit("parse_ir: valgrind is not installed (apt-get install valgrind)")
    if not any(folder.glob("*.yaml")):
        sys.exit(f"parse_ir: no *.yaml in {folder} (bench/bench.py pre-renders the corpus there)")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "parse_passes.py"
        script.write_text(PROGRAM, encoding="utf-8")
        runs = [(p, n) for p in ("kubevet", "rapidyaml") for n in (1, 2)]
        with ThreadPoolExecutor(max_workers=2) as pool:  # each run is one valgrind process
            counts = list(pool.map(lambda r: instructions(*r, folder, script), runs))
    got = dict(zip(runs, counts, strict=True))
    return {p: got[(p, 2)] - got[(p, 1)] for p in ("kubevet", "rapidyaml")}


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else RENDERED
    per_pass = measure(folder)
    ratio = round(per_pass["kubevet"] / per_pass["rapidyaml"], 2)
    print(json.dumps({**per_pass, "ratio": ratio, "parse": parse_path()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
