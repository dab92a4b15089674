"""The one way kubevet writes a user's file (`fix`, the chart values override, `upgrade --fix`).

The new bytes go to a temporary file in the target's own directory (same file system, so
the rename is atomic), are flushed and fsynced, take the original's mode (and owner where
allowed), and only then replace the original with `os.replace`. Whatever happens before
the rename (a kill, a full disk, a file-size limit), the original keeps its bytes; on an
error the temporary file is removed and a `WriteError` names the file.
"""

from __future__ import annotations

import codecs
import errno
import itertools
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress

from kubevet import lazy_compile

# Test hook: called as fault(stage, path) at "create", before each "write" of a chunk,
# at "sync" and at "replace"; it may raise OSError (a full disk) or kill the process.
fault: Callable[[str, str], None] | None = None
# The same from outside the process (tests run `kubevet fix` in a subprocess with it):
# "STAGE:ACTION", ACTION being `kill` (SIGKILL the process) or an errno name (`ENOSPC`).
FAULT_ENV = "KUBEVET_WRITE_FAULT"
TEMP_SUFFIX = ".kubevet-tmp"  # not a manifest extension: a leftover is never read as input
_CHUNK = 1 << 16


# What YAML counts as a line break (str.splitlines also splits at \v, \f and \x1c-\x1e).
LINE_BREAK = lazy_compile("\r\n|[\r\n\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """`text` cut after each line break, every byte kept."""
    starts = [0, *(m.end() for m in LINE_BREAK.finditer(text))]
    if starts[-1] != len(text):
        starts.append(len(text))
    return [text[a:b] for a, b in itertools.pairwise(starts)]


def newline_of(text: str) -> str:
    """The line ending most lines of `text` use (LF when there is none, or on a tie)."""
    crlf = text.count("\r\n")
    counts = {"\n": text.count("\n") - crlf, "\r\n": crlf, "\r": text.count("\r") - crlf}
    return max(counts, key=lambda k: (counts[k], k == "\n"))


class WriteError(Exception):
    """A file kubevet meant to write was left as it was; says which and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason

    def __str__(self) -> str:
        return f"{self.path}: not written, left as it was: {self.reason}"


def check_target(path: str, roots: Sequence[str] = ()) -> str:
    """The real file `path` names, which is where the write goes (a link stays a link).

    With `roots` (the paths the user named), a target reached through a symlink that
    leaves all of them is refused: `fix DIR` never rewrites a file outside DIR.
    """
    real = os.path.realpath(path)
    if roots and not any(_within(real, os.path.realpath(r)) for r in roots):
        named = ", ".join(roots)
        raise WriteError(path, f"a symlink leads it to {real}, outside {named}; not followed")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return real
    except OSError as exc:
        raise WriteError(path, _reason(exc)) from None
    if not stat.S_ISREG(st.st_mode):
        raise WriteError(path, "not a regular file")
    return real


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def has_bom(path: str) -> bool:
    """Does the file start with a UTF-8 byte order mark (which reading as text drops)?"""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    except OSError:
        return False


def write_text(
    path: str, text: str, roots: Sequence[str] = (), bom: bool = False, executable: bool = False
) -> None:
    """Write `text` as UTF-8 (after a byte order mark when the original had one)."""
    data = text.encode("utf-8")
    write_bytes(path, codecs.BOM_UTF8 + data if bom else data, roots, executable)


def write_bytes(
    path: str, data: bytes, roots: Sequence[str] = (), executable: bool = False
) -> None:
    """Replace `path` with `data` atomically; raise WriteError with the original intact.
    A new file gets the mode open() would give it (executable: as a script's)."""
    pieces = range(0, len(data), _CHUNK) or (0,)
    write_chunks(path, (data[at : at + _CHUNK] for at in pieces), roots, executable)


def write_text_chunks(path: str, chunks: Iterable[str], roots: Sequence[str] = ()) -> None:
    """write_text for text produced in pieces (a report): never held whole in memory."""
    write_chunks(path, (block.encode("utf-8") for block in _blocks(chunks)), roots)


def write_report(path: str, chunks: Iterable[str]) -> None:
    """A report: write_text_chunks, except that a character device or a FIFO (`-o
    /dev/null`, `-o /dev/stdout` on a pipe, a named pipe) is written straight through,
    as a shell redirect would: there is no file there to replace atomically."""
    if not is_stream(path):
        write_text_chunks(path, chunks)
        return
    try:
        # no O_CREAT: if the device was swapped for nothing meanwhile, nothing is created
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise WriteError(path, _reason(exc)) from None
    with os.fdopen(fd, "wb") as fh:
        if not _stream_mode(os.fstat(fd).st_mode):  # swapped for a file after the test
            raise WriteError(path, "not a character device or FIFO any more; not written")
        try:
            for block in _blocks(chunks):
                fh.write(block.encode("utf-8"))
            fh.flush()
        except OSError as exc:
            raise WriteError(path, _reason(exc)) from None


def is_stream(path: str) -> bool:
    """Does `path` (links followed) name a character device or a FIFO?"""
    try:
        return _stream_mode(os.stat(path).st_mode)
    except OSError:
        return False


def _stream_mode(mode: int) -> bool:
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _blocks(chunks: Iterable[str]) -> Iterator[str]:
    """The pieces joined into blocks of at least _CHUNK characters (the last may be
    shorter): a report comes a line per finding, and each piece written cost a fault
    check, an encode and a write of its own."""
    pending: list[str] = []
    size = 0
    for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size >= _CHUNK:
            yield "".join(pending)
            pending, size = [], 0
    if pending:
        yield "".join(pending)


def write_chunks(
    path: str, chunks: Iterable[bytes], roots: Sequence[str] = (), executable: bool = False
) -> None:
    """write_bytes, the bytes given in pieces."""
    target = check_target(path, roots)
    directory = os.path.dirname(target)
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise WriteError(path, _reason(exc)) from None
    if old is not None and not old.st_mode & 0o222:  # root could write it: the mode says no
        raise WriteError(path, f"the file is read-only (mode {stat.S_IMODE(old.st_mode):04o})")
    if old is not None and old.st_nlink > 1:
        raise WriteError(path, _hard_link_reason(old.st_nlink))
    remove_stale_temps(directory)
    try:
        _inject("create", path)
        fd, tmp = _create_temp(directory, f".{os.path.basename(target)}.{os.getpid()}.")
    except OSError as exc:
        raise WriteError(path, _reason(exc)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                _inject("write", path)
                fh.write(chunk)
            fh.flush()
            _inject("sync", path)
            os.fsync(fh.fileno())
            _keep_owner_and_mode(fh.fileno(), old, executable)
        _inject("replace", path)
        os.replace(tmp, target)
    except BaseException as exc:  # a Ctrl-C as much as a full disk: the original stays
        with suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(path, _reason(exc)) from None
        raise
    _sync_dir(directory)


_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"  # mkstemp's (what _TEMP_NAME reads)
_CREATE = (
    os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
)


def _create_temp(directory: str, prefix: str) -> tuple[int, str]:
    """A new file `directory/PREFIX` + 8 random characters + TEMP_SUFFIX, open for writing
    (mode 0600, refused if the name exists), as tempfile.mkstemp makes it: tempfile's
    import (shutil, random, bz2, lzma) was ~2 ms of every run writing a report to a file."""
    for _ in range(100):
        name = "".join(_NAME_CHARS[b % len(_NAME_CHARS)] for b in os.urandom(8))
        path = os.path.join(directory, prefix + name + TEMP_SUFFIX)
        try:
            return os.open(path, _CREATE, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", directory)


def _hard_link_reason(links: int) -> str:
    """Why a file with other hard links is left alone: the rename that makes the write
    atomic gives this name a new file, so the other names would silently keep the old
    text; writing into the shared file instead is not atomic (a kill midway loses it)."""
    return (
        f"the file has {links} hard links; replacing it would leave the other names with the "
        "old text and writing in place is not atomic (copy it to break the link, then fix)"
    )


# `.NAME.PID.RANDOM.kubevet-tmp` (mkstemp's 8 random characters); before the pid was in
# the name: `.NAME.RANDOM.kubevet-tmp`.
_TEMP_NAME = lazy_compile(r"^\..+?\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX) + "$")
STALE_AFTER = 60.0  # seconds: a live write takes far less; a stale file is a killed one's
STALE_WITHOUT_PID = 3600.0  # a name without a pid: only its age tells
_CLEANED: set[str] = set()


def remove_stale_temps(directory: str, now: float | None = None) -> list[str]:
    """Remove temporary files an earlier kubevet left in `directory` when it was killed
    between creating and renaming one (SIGKILL runs no clean-up): files of kubevet's own
    naming whose process is gone and that are older than a live write could be. Returns
    the names removed; what cannot be listed or removed is left as it is."""
    if now is None and directory in _CLEANED:
        return []  # once per directory and process: `fix DIR` writes many files in one
    _CLEANED.add(directory)
    return remove_leftovers(directory, _TEMP_NAME, _is_file, os.unlink, STALE_AFTER, now)


def _is_file(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode)


def remove_leftovers(
    directory: str,
    name: re.Pattern[str],
    kind: Callable[[os.stat_result], bool],
    remove: Callable[[str], object],
    live_for: float,
    now: float | None = None,
) -> list[str]:
    """`remove` each entry of `directory` that matches `name` (its `pid` group naming the
    process that made it), is of the `kind` wanted (links are not followed) and is_stale;
    the names removed. What cannot be listed or removed is left as it is."""
    import time

    now = time.time() if now is None else now
    removed: list[str] = []
    with suppress(OSError):
        for entry in os.scandir(directory):
            match = name.match(entry.name)
            if match is None:
                continue
            with suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if kind(info) and is_stale(match["pid"], now - info.st_mtime, live_for):
                    remove(entry.path)
                    removed.append(entry.name)
    return removed


def is_stale(pid: str | None, age: float, live_for: float = STALE_AFTER) -> bool:
    """Is something kubevet named with `pid` (None: made before names held one), `age`
    seconds old, a killed process's leftover? Younger than `live_for`, never."""
    if pid is None:
        return age > STALE_WITHOUT_PID
    if age <= live_for:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):  # alive as another user; absurd pid
        return False
    return int(pid) != os.getpid() and age > STALE_WITHOUT_PID  # a reused pid


def _keep_owner_and_mode(fd: int, old: os.stat_result | None, executable: bool) -> None:
    if old is None:  # a new file: what open() would have made of it
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, (0o777 if executable else 0o666) & ~umask)
        return
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        with suppress(OSError):  # only root may give a file away; the group may still go
            os.fchown(fd, old.st_uid, old.st_gid)
        with suppress(OSError):
            os.fchown(fd, -1, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode))  # after chown, which clears set-id bits


def _sync_dir(directory: str) -> None:
    """Make the rename itself durable; some file systems cannot, which loses nothing."""
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _inject(stage: str, path: str) -> None:
    if fault is not None:
        fault(stage, path)
    spec = os.environ.get(FAULT_ENV, "")
    want, _, action = spec.partition(":")
    if want != stage:
        return
    if action == "kill":
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    code = getattr(errno, action, errno.EIO)
    raise OSError(code, os.strerror(code), path)
