"""Which paths a directory walk leaves out: `--exclude` patterns and `.gitignore` files.

Both use gitignore semantics (through `pathspec`, imported only when there is a pattern to
match). A `.gitignore` applies to its own directory and below, a deeper one wins over a
shallower one, and the ones above the walked directory count up to the repository's top
(the directory holding `.git`), as they do for git. `--exclude` patterns are matched
against the path relative to the walked directory and relative to the working directory,
so `vendor/` and `deploy/legacy/` both mean what they say.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any


class PathFilter:
    def __init__(self, root: str, exclude: Sequence[str] = (), gitignore: bool = True) -> None:
        self.root = os.path.abspath(root)
        self.cwd = os.getcwd()
        self.exclude = _spec(exclude) if exclude else None
        self.gitignore = gitignore
        self.specs: list[tuple[str, Any]] = []  # (directory, spec), outermost first
        if gitignore:
            for directory in _repository_dirs(self.root):
                self._load(directory)

    def enter(self, directory: str) -> None:
        """Read the `.gitignore` of a directory the walk has reached (not of the root's
        ancestors, read once at the start)."""
        full = os.path.abspath(directory)
        if self.gitignore and full != self.root:
            self._load(full)

    def skips(self, path: str, is_dir: bool = False) -> bool:
        full = os.path.abspath(path)
        suffix = "/" if is_dir else ""
        if self.exclude is not None:
            for base in (self.root, self.cwd):
                rel = _relative(full, base)
                if rel is not None and self.exclude.match_file(rel + suffix):
                    return True
        for directory, spec in reversed(self.specs):  # the deepest file decides first
            rel = _relative(full, directory)
            if rel is None:
                continue
            include = spec.check_file(rel + suffix).include
            if include is not None:
                return bool(include)
        return False

    def _load(self, directory: str) -> None:
        lines = _read_lines(os.path.join(directory, ".gitignore"))
        if os.path.isdir(os.path.join(directory, ".git")):
            lines += _read_lines(os.path.join(directory, ".git", "info", "exclude"))
        if lines:
            self.specs.append((directory, _spec(lines)))


def _spec(lines: Sequence[str]) -> Any:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _relative(full: str, base: str) -> str | None:
    if full == base or not full.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return os.path.relpath(full, base).replace(os.sep, "/")


def _repository_dirs(root: str) -> list[str]:
    """The walked directory and, inside a git repository, its ancestors up to the top,
    outermost first."""
    chain = [root]
    directory = root
    while not os.path.exists(os.path.join(directory, ".git")):
        parent = os.path.dirname(directory)
        if parent == directory:
            return [root]  # not in a repository: only the walk's own .gitignore files
        directory = parent
        chain.append(directory)
    return list(reversed(chain))


def _read_lines(path: str) -> list[str]:
    from kubevet.findings import InputError
    from kubevet.sources.reader import read_bytes

    try:  # a FIFO named .gitignore would block a plain open()
        return read_bytes(path).decode("utf-8", "replace").splitlines()
    except InputError:
        return []
