"""kubevet.exiting: a process ends at once only where Python's teardown had nothing to do,
with everything written out and the same exit code."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT

from kubevet.exiting import teardown_needed


def _run(body: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """A Python process that ends through exit_now, its output captured (pipes: buffered)."""
    code = "from kubevet.exiting import exit_now\n" + textwrap.dedent(body)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, *flags, "-c", code], capture_output=True, text=True, env=env
    )


def test_buffered_output_is_written_and_the_code_kept() -> None:
    out = _run(
        """
        import sys
        sys.stdout.write("report" * 1000)  # held in the buffer of a pipe
        sys.stderr.write("note")
        exit_now(1)
        """
    )
    assert (out.returncode, out.stdout, out.stderr) == (1, "report" * 1000, "note")


def test_atexit_callbacks_still_run() -> None:
    out = _run(
        """
        import atexit
        atexit.register(print, "cleaned up")
        exit_now(0)
        """
    )
    assert (out.returncode, out.stdout) == (0, "cleaned up\n")


def test_a_thread_that_is_not_a_daemon_is_waited_for() -> None:
    out = _run(
        """
        import threading, time
        threading.Thread(target=lambda: (time.sleep(0.2), print("thread done"))).start()
        exit_now(3)
        """
    )
    assert (out.returncode, out.stdout) == (3, "thread done\n")


def test_teardown_warnings_asked_for_are_shown() -> None:
    """-X dev (or -W) asks for the warnings of the teardown: an unclosed file is reported."""
    out = _run(
        """
        import sys
        handle = open(sys.executable, "rb")
        exit_now(0)
        """,
        "-X",
        "dev",
    )
    assert out.returncode == 0
    assert "ResourceWarning" in out.stderr


@pytest.mark.parametrize("flag", [[], ["-W", "default"]])
def test_teardown_needed_reads_the_interpreter(flag: list[str]) -> None:
    """In this test process (pytest registers atexit callbacks) the teardown is needed; in a
    bare interpreter it is not, unless warnings are asked for."""
    assert teardown_needed()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("PYTHONWARNINGS", None)
    code = "from kubevet.exiting import teardown_needed; print(teardown_needed())"
    out = subprocess.run(
        [sys.executable, "-E", *flag, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT / "src",
    )
    assert out.stdout.strip() == ("True" if flag else "False"), out.stderr


def test_the_command_ends_with_its_exit_code_and_report(tmp_path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
        "  containers:\n  - name: c\n    image: nginx:1.25\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "kubevet", "check", str(manifest), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 1, out.stderr
    assert out.stdout.rstrip().endswith("}") and '"code": "KV101"' in out.stdout


def test_keep_holds_only_in_the_process_that_ends_through_exit_now() -> None:
    out = _run(
        """
        import gc, os, sys, weakref
        from kubevet import exiting

        class Input:
            pass

        first, second = Input(), Input()
        gone = weakref.ref(first)
        print(exiting.keep("input", first), exiting.holds())  # not ending here: not kept
        exiting.ends_here()
        print(exiting.keep("input", first), exiting.holds())
        del first
        print(gone() is not None)  # held
        exiting.keep("input", second)
        print(gone() is None)  # replaced, so freed
        exiting.keep("input", None)
        print(exiting.holds())
        sys.stdout.flush()  # else a child's flush writes the lines above again (a pipe)
        if os.fork() == 0:  # a forked worker ends its own way: nothing is kept there
            print(exiting.keep("input", second), flush=True)
            os._exit(0)
        os.wait()
        exit_now(0)
        """
    )
    assert out.returncode == 0, out.stderr
    kept = ["False", "False", "True", "True", "True", "True", "False", "False"]
    assert out.stdout.split() == kept
