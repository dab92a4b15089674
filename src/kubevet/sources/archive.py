"""Chart archives (`.tgz`) are checked before Helm or kubevet reads or expands them.

`helm package` stores regular files and directories only. An archive holding anything else
was made by hand: a symbolic or hard link can point anywhere once expanded (kubevet
expands archives to trace them), a device or FIFO member can block or feed a reader for
ever, an absolute or `..` name writes outside the directory it is expanded into, and a
small archive can inflate to gigabytes. Such an archive is refused whole, with one input
error per member that names the archive and the member; the bounds are `limits`
(`max-file-size` per member, `archive-size` in total, `archive-members`). Subchart
archives (`charts/*.tgz`, in a directory or nested in an archive) are checked the same way,
their sizes counted in the same total.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from dataclasses import dataclass

from kubevet import limits
from kubevet.findings import InputError
from kubevet.sources.reader import leaves, read_bytes

GZIP_MAGIC = b"\x1f\x8b"
MAX_NESTING = 5  # subchart archives inside subchart archives
MAX_REPORTED = 20  # member errors per archive; the rest are counted
_TAR_BLOCK = 512


class _Overflow(Exception):
    """The decompressed stream passed its bound (a decompression bomb)."""


class _Bounded(io.RawIOBase):
    """A read-only stream that raises `_Overflow` past `bound` bytes (the tar stream is
    only as long as its headers, data and padding: this is generous for any real chart)."""

    def __init__(self, inner: gzip.GzipFile, bound: int) -> None:
        self.inner, self.bound, self.seen = inner, bound, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        self.seen += len(data)
        if self.seen > self.bound:
            raise _Overflow
        buffer[: len(data)] = data
        return len(data)


@dataclass
class _Budget:
    """What the archive and its nested subchart archives may still inflate to."""

    size: int
    members: int
    errors: list[str]


def check_archive(path: str) -> list[InputError]:
    """Problems of the chart archive at `path`, one per member (empty when it is sound)."""
    bounds = limits.current()
    try:
        data = read_bytes(path)
    except InputError as err:
        return [err]
    budget = _Budget(bounds.archive_size, bounds.archive_members, [])
    _check(data, "", budget, 0)
    shown = [InputError(path, m) for m in budget.errors[:MAX_REPORTED]]
    if len(budget.errors) > MAX_REPORTED:
        more = len(budget.errors) - MAX_REPORTED
        shown.append(InputError(path, f"{more} more archive members refused"))
    return shown


def check_subchart_archives(root: str) -> list[InputError]:
    """Problems of the subchart archives vendored under the chart directory `root`."""
    base = os.path.realpath(root)
    charts = os.path.join(root, "charts")
    if not os.path.isdir(charts) or leaves(base, charts):
        return []
    found: list[InputError] = []
    for name in sorted(os.listdir(charts)):
        archive = os.path.join(charts, name)
        if name.endswith((".tgz", ".tar.gz")) and not leaves(base, archive):
            found.extend(check_archive(archive))  # a link out of the chart is not read
    return found


def _check(data: bytes, prefix: str, budget: _Budget, depth: int) -> None:
    """Walk the members of one gzip-compressed tar stream, appending problems."""
    if not data.startswith(GZIP_MAGIC):
        budget.errors.append(f"{_shown(prefix)}not a gzip-compressed tar archive")
        return
    headers = _TAR_BLOCK * 2 * (limits.current().archive_members + 2)
    stream = _Bounded(gzip.GzipFile(fileobj=io.BytesIO(data)), budget.size + headers)
    try:
        with tarfile.open(fileobj=io.BufferedReader(stream), mode="r|") as tar:
            for member in tar:
                if _member(tar, member, prefix, budget, depth):
                    return  # past a bound: reading on would inflate the rest
    except _Overflow:
        budget.errors.append(
            f"{_shown(prefix)}archive inflates past the "
            f"{_size(limits.current().archive_size)} limit (config limits.archive-size)"
        )
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        budget.errors.append(f"{_shown(prefix)}not a readable tar archive: {exc}")


def _member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, prefix: str, budget: _Budget, depth: int
) -> bool:
    """Check one member, appending its problem; True when the walk must stop there."""
    name = f"{prefix}{member.name}"
    budget.members -= 1
    if budget.members < 0:
        budget.errors.append(
            f"more than {limits.current().archive_members} archive members "
            "(config limits.archive-members)"
        )
        return True
    problem = _kind_problem(member) or _name_problem(member.name)
    if problem:
        budget.errors.append(f"archive member '{name}' {problem}; the chart is not read")
        return False
    if not member.isfile():
        return False
    if member.size > limits.current().max_file_size:
        budget.errors.append(
            f"archive member '{name}' is larger than the "
            f"{_size(limits.current().max_file_size)} limit (config limits.max-file-size)"
        )
        return True
    budget.size -= member.size
    if budget.size < 0:
        budget.errors.append(
            f"archive inflates past the {_size(limits.current().archive_size)} limit "
            f"at member '{name}' (config limits.archive-size)"
        )
        return True
    if _is_subchart_archive(member.name) and depth >= MAX_NESTING:
        budget.errors.append(
            f"archive member '{name}': subchart archives nested more than {MAX_NESTING} deep"
        )
        return True
    if _is_subchart_archive(member.name):
        inner = tar.extractfile(member)
        if inner is not None:
            _check(inner.read(), f"{name}!", budget, depth + 1)
    return budget.size < 0 or budget.members < 0  # a nested archive used the budget up


def _kind_problem(member: tarfile.TarInfo) -> str | None:
    if member.issym():
        return f"is a symbolic link to {member.linkname} (links are not read from archives)"
    if member.islnk():
        return f"is a hard link to {member.linkname} (links are not read from archives)"
    if member.isfile() or member.isdir():
        return None
    kinds = {
        tarfile.CHRTYPE: "a character device",
        tarfile.BLKTYPE: "a block device",
        tarfile.FIFOTYPE: "a FIFO",
    }
    kind = kinds.get(member.type, f"of tar type {member.type!r}")
    return f"is {kind} (only regular files are read)"


def _name_problem(name: str) -> str | None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(parts[0]) == 2 and parts[0][1] == ":"):
        return "has an absolute path"
    if ".." in parts:
        return "has a '..' path component (it would land outside the chart)"
    return None


def _is_subchart_archive(name: str) -> bool:
    parts = name.split("/")
    return len(parts) >= 2 and parts[-2] == "charts" and name.endswith((".tgz", ".tar.gz"))


def _shown(prefix: str) -> str:
    return f"archive member '{prefix[:-1]}': " if prefix else ""


def _size(n: int) -> str:
    return limits.describe_size(max(n, 0))
