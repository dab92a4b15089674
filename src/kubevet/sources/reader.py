"""The one way input files are read: regular files only, up to a size bound.

A FIFO named `x.yaml` would block a plain `open()` forever and a link to `/dev/zero`
would be read until memory runs out, so the file is opened non-blocking, checked to be
a regular file on the opened descriptor (no race with a swap after a `stat`), and read
no further than the `limits.max-file-size` bound.

Fault injection: `KUBEVET_FAULT_READ="EACCES:/abs/path"` (one `ERRNO:path` per line)
makes opening that path fail with that errno, so the error path is testable even as
root, who can open any file whatever its mode.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

from kubevet import limits
from kubevet.findings import InputError

FAULT_ENV = "KUBEVET_FAULT_READ"
_CHUNK = 1024 * 1024


def open_regular(path: str) -> BinaryIO:
    """The regular file at `path` opened for reading (with no size bound: for streams read
    line by line, such as audit logs); InputError naming it otherwise."""
    fd = _open_fd(path)
    try:
        check_regular(path, os.fstat(fd).st_mode)
        os.set_blocking(fd, True)
    except (OSError, InputError) as exc:
        os.close(fd)
        if isinstance(exc, InputError):
            raise
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    return os.fdopen(fd, "rb")


def _open_fd(path: str) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        _injected_fault(path)
        return os.open(path, flags)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None


def read_bytes(path: str, max_size: int | None = None) -> bytes:
    """The bytes of the regular file at `path`; InputError naming it otherwise."""
    bound = max_size if max_size is not None else limits.current().max_file_size
    fd = _open_fd(path)
    try:
        info = os.fstat(fd)
        check_regular(path, info.st_mode)
        check_size(path, info.st_size, bound)
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        # A regular file in one read of its size (and one more byte: it may have grown),
        # which join hands back uncopied; 1 MiB reads then copied whole were about 2% of
        # a check of the pre-rendered corpus (8 MB).
        size = max(_CHUNK, info.st_size + 1)
        while chunk := os.read(fd, min(size, bound + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            check_size(path, total, bound)  # the file grew while being read
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text(path: str) -> str:
    """Read a file as UTF-8 text; raise InputError with a clear reason otherwise."""
    return decode_text(path, read_bytes(path))


def decode_text(path: str, raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise InputError(path, "binary file (NUL bytes), not YAML or JSON")
    # "utf-8-sig", without its codec's import and Python-level decode: a BOM dropped
    text = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:  # its offset counts from after the BOM
        line = text[: exc.start].count(b"\n") + 1
        raise InputError(path, "not UTF-8 text", line) from None


def check_regular(path: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = file_type(mode)
        raise InputError(path, f"not a regular file ({kind}); only regular files are read")


def check_size(path: str, size: int, bound: int) -> None:
    if size > bound:
        raise InputError(
            path,
            f"file is larger than the {limits.describe_size(bound)} limit "
            "(config limits.max-file-size)",
        )


def file_type(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def leaves(base: str, path: str) -> bool:
    """Does `path` lead out of the real directory `base` (through links too)?"""
    real = os.path.realpath(path)
    return real != base and not real.startswith(base.rstrip(os.sep) + os.sep)


def link_leaves(base: str, path: str) -> bool:
    """`leaves` for a name met on a walk down `base` that enters no linked folder: only a
    link can lead out, and `leaves` costs a realpath, a call per folder of the path (90 ms
    over the corpus's chart files when asked of each)."""
    return os.path.islink(path) and leaves(base, path)


def _injected_fault(path: str) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    target = os.path.abspath(path)
    for entry in spec.splitlines():
        name, _, where = entry.partition(":")
        code = getattr(errno, name.strip(), None)
        if code is not None and where and os.path.abspath(where) == target:
            raise OSError(code, os.strerror(code), path)


def read_stdin() -> bytes:
    """Standard input, up to the size bound; InputError if it is closed or unreadable."""
    import sys

    stream = getattr(sys.stdin, "buffer", sys.stdin)
    if stream is None:
        raise InputError("-", "cannot read: standard input is closed")
    bound = limits.current().max_file_size
    try:
        data = stream.read(bound + 1)
    except (OSError, ValueError) as exc:  # ValueError: read on a closed stream
        raise InputError("-", f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if isinstance(data, str):  # a text stream stood in for stdin (tests, embedders)
        data = data.encode("utf-8")
    check_size("-", len(data), bound)
    return data
