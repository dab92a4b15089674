"""What a long run is doing, on stderr: inputs done / total and the input being checked
(with what it is at when the run checks in this process: reading, rendering, checking,
tracing), on one line rewritten in place, only when stderr is a terminal and the run has lasted
about a second (a short run or a log file gets nothing); with -v, each input's time."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

from kubevet.plurals import counted

DELAY = 1.0  # seconds before the line first appears: short runs stay silent
REFRESH = 0.1  # at most ten redraws a second


class Progress:
    def __init__(self, stream: TextIO, live: bool, timings: bool) -> None:
        self.stream = stream
        self.live = live  # the rewritten line (a terminal, not --quiet)
        self.timings = timings  # one line per input (-v)
        self._labels: list[str] = []
        self._done = 0
        self._phase = ""  # what the input being checked is at
        self._start = time.perf_counter()
        self._drawn = 0.0  # when the line was last drawn; 0: not shown
        self._width = 0
        self._lock = threading.Lock()  # the first draw may come from a timer
        self._timer: threading.Timer | None = None

    @classmethod
    def for_stderr(cls, quiet: bool, verbose: bool) -> Progress | None:
        """None when there is nothing to show (no terminal or --quiet, and no -v)."""
        live = not quiet and _isatty(sys.stderr)
        return cls(sys.stderr, live, verbose) if live or verbose else None

    def start(self, labels: list[str]) -> None:
        """The inputs about to be checked, in the order their results will arrive."""
        self._labels = labels
        self._done = 0
        if self.live:  # shown after DELAY even while the first input is still running
            self._timer = threading.Timer(max(0.0, DELAY - self._elapsed()), self._draw)
            self._timer.daemon = True
            self._timer.start()

    def done(self, label: str, seconds: float, objects: int, findings: int) -> None:
        """One input finished (called in input order)."""
        things = f"{counted(objects, 'object')}, {counted(findings, 'finding')}"
        with self._lock:
            self._done += 1
            self._phase = ""
            if self.timings:
                self._clear()
                line = f"{seconds:7.2f} s  {label} ({things})"
                print(f"kubevet: {line}", file=self.stream)
                self._drawn = 0.0  # the line was cleared: draw it again now
        if self.live:
            self._draw()

    def phase(self, text: str) -> None:
        """What the input being checked is at now, shown before its name (drawn at once:
        a phase that follows another within the refresh interval must not be lost)."""
        with self._lock:
            self._phase = text
            self._drawn = 0.0
        if self.live:
            self._draw()

    def note(self, text: str) -> None:
        """A line for the log (a retry, a warning) that the progress line must not hide."""
        with self._lock:
            self._clear()
            print(text, file=self.stream, flush=True)
            self._drawn = 0.0
        if self.live:
            self._draw()

    def _elapsed(self) -> float:
        return time.perf_counter() - self._start

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self.live = False
            self._clear()

    def _draw(self) -> None:
        with self._lock:
            now = time.perf_counter()
            if not self.live or now - self._start < DELAY - 0.01:
                return
            if self._drawn and now - self._drawn < REFRESH:
                return
            total = len(self._labels)
            current = self._labels[self._done] if self._done < total else ""
            if current and self._phase:  # first: a long path is what a narrow line cuts
                current = f"{self._phase} {current}"
            text = f"kubevet: {self._done}/{total} inputs checked"
            text = (text + f", {current}" if current else text)[: _columns()]
            self._clear()
            self.stream.write(text)
            self.stream.flush()
            self._width = len(text)
            self._drawn = now

    def _clear(self) -> None:
        if self._width:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._width = 0


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _columns() -> int:
    return max(20, terminal_columns() - 1)


def terminal_columns() -> int:
    """The terminal's width as shutil.get_terminal_size gives it (COLUMNS, else standard
    output's terminal, else 80), without importing shutil (and bz2 and lzma with it)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80
