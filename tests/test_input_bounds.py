"""Files that options name are read as inputs are: regular files only (a FIFO or a device
is an error naming it, not a hang). YAML and JSON that are not manifests (values, config,
kustomizations, baselines, profiles, audit logs, --set-json, image locks, release
annotations) get the guards manifests have: nesting deeper than 200 levels and alias
bombs are input errors naming the file, never a RecursionError, a hang or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import FIXTURES, ROOT

from kubevet import jsontext

INPUT = FIXTURES / "input"
OK = INPUT / "privileged.yaml"
CHART = INPUT / "chart"
DEEP_JSON = "[" * 5000 + "]" * 5000
NOT_SO_DEEP_JSON = "[" * 300 + "]" * 300  # under Python's limit, past kubevet's


def _bomb() -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


CASES = {
    # id: (file name, file text, kubevet arguments ({f} is the file), message part)
    "values-bomb": ("v.yaml", _bomb(), ["check", str(CHART), "-f", "{f}"], "alias expansion"),
    "values-deep": ("v.yaml", f"x: {DEEP_JSON}\n", ["check", str(CHART), "-f", "{f}"], "nesting"),
    "config-bomb": ("c.yaml", _bomb(), ["check", str(OK), "--config", "{f}"], "alias expansion"),
    "config-deep": (
        "c.yaml",
        f"x: {DEEP_JSON}\n",
        ["check", str(OK), "--config", "{f}"],
        "nesting",
    ),
    "baseline": ("b.json", DEEP_JSON, ["check", str(OK), "--baseline", "{f}"], "nesting"),
    "profile": ("p.json", NOT_SO_DEEP_JSON, ["fix", str(OK), "--profile", "{f}"], "nesting"),
    "audit-log": (
        "audit.log",
        '{"kind": ' + DEEP_JSON + "}\n",
        ["upgrade", str(OK), "--to", "1.29", "--audit-log", "{f}"],
        "nesting",
    ),
    "set-json": ("unused", "", ["check", str(CHART), "--set-json", f"a={DEEP_JSON}"], "nesting"),
}


def _kubevet(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """A run in its own process, with a time bound: a regression here is a hang."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "kubevet", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("case", sorted(CASES))
def test_deep_or_bombed_yaml_and_json_are_input_errors(tmp_path, case):
    name, text, args, part = CASES[case]
    path = tmp_path / name
    path.write_text(text)
    argv = [a.format(f=path) for a in args]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "kubevet", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    (error,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("kubevet: error:")]
    assert part in error
    assert (str(path) if name != "unused" else "--set") in error


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DEEP_JSON, "nesting deeper than 200 levels"),
        (NOT_SO_DEEP_JSON, "nesting deeper than 200 levels"),
        ("[" * 200 + "]" * 200, None),
    ],
)
def test_json_from_inputs_is_bounded_in_depth(text, message):
    if message is None:
        assert jsontext.loads(text) is not None
        return
    with pytest.raises(ValueError, match=message):
        jsontext.loads(text)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "{ok}", "--config", "{fifo}"],
        ["check", "{ok}", "--baseline", "{fifo}"],
        ["check", "{chart}", "--set-file", "note={fifo}"],
        ["check", "{chart}", "--set-file", "note=/dev/zero"],
        ["check", "{chart}", "-f", "{fifo}"],
        ["check", "{fifo_chart}"],
        ["fix", "{ok}", "--profile", "{fifo}"],
        ["upgrade", "{ok}", "--to", "1.29", "--audit-log", "{fifo}"],
    ],
    ids=[
        "config",
        "baseline",
        "set-file",
        "set-file-device",
        "values",
        "in-chart",
        "profile",
        "audit-log",
    ],
)
def test_every_file_an_option_names_is_read_only_if_regular(tmp_path, args):
    """Each file kubevet reads, whichever option names it, is opened non-blocking and
    checked to be a regular file: a FIFO or a device is an error naming it, not a hang."""
    import shutil

    fifo = tmp_path / "named.yaml"
    os.mkfifo(fifo)
    fifo_chart = tmp_path / "fifo-chart"
    shutil.copytree(CHART, fifo_chart)
    os.mkfifo(fifo_chart / "files" / "pipe")
    paths = {"ok": OK, "fifo": fifo, "chart": CHART, "fifo_chart": fifo_chart}
    argv = [a.format(**{k: str(v) for k, v in paths.items()}) for a in args]
    proc = _kubevet(argv)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    named = next(a for a in argv if "named.yaml" in a or "zero" in a or "fifo-chart" in a)
    shown = str(fifo_chart / "files" / "pipe") if "fifo-chart" in named else named.split("=")[-1]
    kind = "a character device" if "zero" in named else "a FIFO"
    assert f"{shown}: " in proc.stderr
    assert f"not a regular file ({kind}); only regular files are read" in proc.stderr
