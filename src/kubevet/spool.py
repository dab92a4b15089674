"""Findings of a whole run with bounded memory: in input order, in memory up to a limit and
pickled into an unnamed temporary file past it, one chunk per batch.

A run over thousands of charts produces hundreds of thousands of findings; reporters read
them once, in order, so they need not all be alive at once. Small runs never touch the
disk. Reads use positioned reads (`os.pread`), so several iterations may be open at once
(a reporter counting the active findings while writing them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import IO

from kubevet.findings import Finding

SPILL_AT = 20_000  # findings kept in memory before the batch goes to disk


class FindingSpool:
    def __init__(self, limit: int | None = None) -> None:
        self.limit = SPILL_AT if limit is None else limit
        self._memory: list[Finding] = []
        self._file: IO[bytes] | None = None
        self._chunks: list[tuple[int, int]] = []  # (offset, length) of each pickled batch
        self._end = 0
        self._spilled = 0

    def extend(self, findings: Iterable[Finding]) -> None:
        self._memory.extend(findings)
        if len(self._memory) > self.limit:
            self._spill()

    def append(self, finding: Finding) -> None:
        self.extend((finding,))

    def __len__(self) -> int:
        return self._spilled + len(self._memory)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self) -> Iterator[Finding]:
        for chunk in self._read():
            yield from chunk
        yield from list(self._memory)

    def __getitem__(self, index: int) -> Finding:
        """Read through the spool: for the occasional look, not for loops."""
        if index < 0:
            index += len(self)
        for i, f in enumerate(self):
            if i == index:
                return f
        raise IndexError(index)

    def rewrite(self) -> Iterator[Finding]:
        """Every finding, for changing them in place (suppressions): each batch read from
        disk is written back once the loop has passed it."""
        if self._file is None:
            yield from self._memory
            return
        import pickle

        old, chunks = self._file, self._chunks
        self._file, self._chunks, self._end = None, [], 0
        memory, self._memory, spilled = self._memory, [], self._spilled
        self._spilled = 0
        try:
            for offset, length in chunks:
                batch: list[Finding] = pickle.loads(os.pread(old.fileno(), length, offset))
                yield from batch
                self._memory = batch
                self._spill()
        finally:
            old.close()
        self._memory = memory
        self._spilled = spilled
        yield from memory

    def active(self) -> ActiveFindings:
        return ActiveFindings(self)

    def _read(self) -> Iterator[list[Finding]]:
        if self._file is None:
            return
        import pickle

        fd = self._file.fileno()
        for offset, length in list(self._chunks):
            yield pickle.loads(os.pread(fd, length, offset))

    def _spill(self) -> None:
        # Only a run that spills pays for these imports (pickle: ~9M instructions).
        import pickle

        if self._file is None:
            import tempfile  # (it imports shutil, random)

            self._file = tempfile.TemporaryFile(prefix="kubevet-findings-")  # noqa: SIM115
        data = pickle.dumps(self._memory, protocol=pickle.HIGHEST_PROTOCOL)
        os.pwrite(self._file.fileno(), data, self._end)
        self._chunks.append((self._end, len(data)))
        self._end += len(data)
        self._spilled += len(self._memory)
        self._memory = []


class ActiveFindings:
    """The findings not suppressed, read through the spool each time (counting included)."""

    def __init__(self, spool: FindingSpool) -> None:
        self._spool = spool

    def __iter__(self) -> Iterator[Finding]:
        return (f for f in self._spool if f.suppressed is None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return any(True for _ in self)
