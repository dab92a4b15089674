"""Progress on stderr: a line rewritten in place on a terminal (after about a second, never
in a pipe or with --quiet), and with -v one line per input with its time."""

from __future__ import annotations

import io
import re
import sys

from conftest import ROOT

from kubevet import progress
from kubevet.cli import build_parser, main

MANIFESTS = str(ROOT / "examples" / "manifests")
OVERLAYS = str(ROOT / "examples" / "overlays")
TIMING = re.compile(r"^kubevet: +\d+\.\d\d s  (.+) \((\d+) objects?, (\d+) findings?\)$", re.M)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_line_counts_inputs_names_the_next_one_and_is_cleared_at_the_end(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "REFRESH", 0.0)
    term = Terminal()
    p = progress.Progress(term, live=True, timings=False)
    p.start(["charts/a", "charts/b", "charts/c"])
    p.done("charts/a", 0.5, 3, 1)
    assert term.getvalue().endswith("kubevet: 1/3 inputs checked, charts/b")
    p.done("charts/b", 0.5, 3, 1)
    p.done("charts/c", 0.5, 3, 1)
    assert term.getvalue().endswith("kubevet: 3/3 inputs checked")
    p.close()
    assert term.getvalue().endswith("\r\033[K")  # nothing left on the terminal's line


def test_a_short_run_draws_nothing():
    term = Terminal()
    p = progress.Progress(term, live=True, timings=False)
    p.start(["a", "b"])
    p.done("a", 0.0, 1, 0)
    p.done("b", 0.0, 1, 0)
    p.close()
    assert term.getvalue() == ""  # done well within the first second


def test_no_terminal_or_quiet_means_no_line(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert progress.Progress.for_stderr(quiet=True, verbose=False) is None
    assert progress.Progress.for_stderr(quiet=False, verbose=False) is not None
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress.Progress.for_stderr(quiet=False, verbose=False) is None
    shown = progress.Progress.for_stderr(quiet=False, verbose=True)
    assert shown is not None and not shown.live  # timings only, never the rewritten line


def test_verbose_prints_each_inputs_time_in_input_order(capsys):
    code = main(["check", MANIFESTS, OVERLAYS, "-v", "-j", "1", "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1)
    timings = TIMING.findall(err)
    report = __import__("json").loads(out)
    assert [t[0] for t in timings] == [g["label"] for g in report["inputs"]]
    for (_, objects, findings), group in zip(timings, report["inputs"], strict=True):
        assert int(objects) == group["objects"]
        assert int(findings) == len([f for f in report["findings"] if f["input"] == group["label"]])
    assert "\r" not in err  # stderr is not a terminal here: no progress line


def test_without_verbose_a_pipe_gets_no_timings(capsys):
    main(["check", MANIFESTS, "--format", "json"])
    assert not TIMING.search(capsys.readouterr().err)


def test_a_note_clears_the_line_prints_and_the_line_comes_back(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "REFRESH", 0.0)
    term = Terminal()
    p = progress.Progress(term, live=True, timings=False)
    p.start(["a", "b"])
    p.done("a", 0.1, 1, 0)
    p.note("kubevet: warning: a worker died")
    text = term.getvalue()
    assert "kubevet: 1/2 inputs checked, b\r\033[Kkubevet: warning: a worker died\n" in text
    assert text.endswith("kubevet: 1/2 inputs checked, b")  # drawn again below the note
    p.close()


def test_the_line_says_what_the_input_is_at_and_no_phase_is_lost(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)  # the refresh interval stays: phases that
    term = Terminal()  # follow each other at once must each be drawn
    p = progress.Progress(term, live=True, timings=False)
    p.start(["charts/gitlab", "charts/b"])
    for phase in ("rendering", "checking", "tracing"):
        p.phase(phase)
        assert term.getvalue().endswith(f"kubevet: 0/2 inputs checked, {phase} charts/gitlab")
    p.done("charts/gitlab", 5.0, 3, 1)  # (drawn at most ten times a second)
    p.phase("reading")
    assert term.getvalue().endswith("kubevet: 1/2 inputs checked, reading charts/b")
    p.close()


def test_an_in_process_run_reports_its_phases_in_order(monkeypatch):
    """A chart checked in this process (one input, or -j 1): rendered, checked, traced."""
    from kubevet.commands._common import build_settings
    from kubevet.runner import run_check

    seen: list[tuple[str, str]] = []

    class Recorder(progress.Progress):
        def phase(self, text: str) -> None:
            seen.append((self._labels[self._done], text))

    chart = str(ROOT / "examples" / "chart")
    args = build_parser("check").parse_args(["check", chart, MANIFESTS, "-j", "1"])
    settings, _ = build_settings(args)
    settings.trace = True
    report = run_check([chart, MANIFESTS], settings, Recorder(io.StringIO(), False, False))
    assert report.findings
    assert seen == [
        (chart, "rendering"),
        (chart, "checking"),
        (chart, "tracing"),
        (MANIFESTS, "reading"),
        (MANIFESTS, "checking"),
    ]
