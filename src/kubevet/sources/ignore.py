"""Which paths a directory walk leaves out: `--exclude` patterns and `.gitignore` files.

Both use gitignore semantics (through `pathspec`, imported only when a path could match a
pattern: see `Patterns`). A `.gitignore` applies to its own directory and below, a deeper
one wins over a shallower one, and the ones above the walked directory count up to the
repository's top (the directory holding `.git`), as they do for git. `--exclude` patterns
are matched against the path relative to the walked directory and relative to the working
directory, so `vendor/` and `deploy/legacy/` both mean what they say.

A directory named on the command line is walked even where a pattern ignores it (or a
directory above it), as a named file is read: `kubevet check rendered/` where `.gitignore`
holds `rendered/` (a common home for `helm template` output) checks it instead of finding
nothing. Patterns still apply below it. Only patterns that match the named directory are set
aside, for this walk; the others (`*.tmp.yaml`, `vendor/`) still leave files out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any


class PathFilter:
    def __init__(self, root: str, exclude: Sequence[str] = (), gitignore: bool = True) -> None:
        self.root = os.path.abspath(root)
        self.cwd = os.getcwd()
        named = _relative(self.root, self.cwd)
        self.exclude = Patterns(exclude, named) if exclude else None
        self.gitignore = gitignore
        self.specs: list[tuple[str, Patterns]] = []  # (directory, patterns), outermost first
        if gitignore:
            for directory in _repository_dirs(self.root):
                self._load(directory, _relative(self.root, directory))

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
                if rel is not None and self.exclude.check(rel + suffix):
                    return True
        for directory, spec in reversed(self.specs):  # the deepest file decides first
            rel = _relative(full, directory)
            if rel is None:
                continue
            include = spec.check(rel + suffix)
            if include is not None:
                return bool(include)
        return False

    def _load(self, directory: str, named: str | None = None) -> None:
        lines = _read_lines(os.path.join(directory, ".gitignore"))
        if os.path.isdir(os.path.join(directory, ".git")):
            lines += _read_lines(os.path.join(directory, ".git", "info", "exclude"))
        if lines:
            self.specs.append((directory, Patterns(lines, named)))


class Patterns:
    """Lines in gitignore syntax, compiled by `pathspec` the first time a path could match
    one. Importing pathspec costs ~17 ms of CPU (typing_extensions, pathlib, urllib, its
    regex backends' probes): a large share of a small run, paid by every walk inside a
    repository. A pattern matches only paths that hold each literal run of its text, so a
    path holding none of the patterns' longest runs needs no match at all.

    `named`: the walked directory relative to where the patterns apply; the patterns that
    ignore it are set aside (the user named it, so it is read)."""

    def __init__(self, lines: Sequence[str], named: str | None = None) -> None:
        self.lines = list(lines)
        self.needles = _needles(self.lines)
        self._spec: Any = None
        if named is not None and self.could_match(named + "/"):
            spec = self.spec()
            kept = [p for p in spec.patterns if not (p.include and p.match_file(named + "/"))]
            if len(kept) != len(spec.patterns):
                import pathspec

                self._spec = pathspec.GitIgnoreSpec(kept)
                self.needles = _needles([p.pattern for p in kept])

    def could_match(self, rel: str) -> bool:
        return self.needles is None or any(n in rel for n in self.needles)

    def check(self, rel: str) -> bool | None:
        """True: ignored, False: re-included by a `!` pattern, None: no pattern matches."""
        if not self.could_match(rel):
            return None
        return self.spec().check_file(rel).include  # type: ignore[no-any-return]

    def spec(self) -> Any:
        if self._spec is None:
            import pathspec

            self._spec = pathspec.GitIgnoreSpec.from_lines(self.lines)
        return self._spec


def _needles(lines: Sequence[str]) -> list[str] | None:
    """For each pattern, its longest literal run (no wildcard, no `/`); None when a pattern
    has none (`*`, `?/`) or uses an escape, so that any path may match."""
    needles = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if "\\" in text:
            return None
        runs = [
            run
            for segment in text.removeprefix("!").split("/")
            for run in segment.split("[", 1)[0].replace("?", "*").split("*")
        ]
        longest = max(runs, key=len)
        if not longest:
            return None
        needles.append(longest)
    return needles


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
