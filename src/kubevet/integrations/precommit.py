"""`kubevet-pre-commit check|fix [FLAGS] FILES...`: the pre-commit hooks' entry point.

pre-commit passes the changed files. A changed template, values file or Chart.yaml stands
for its whole chart (a template alone cannot be rendered), so each file inside a chart is
replaced by the chart's directory, once; other files are passed as they are.
"""

from __future__ import annotations

import os
import sys


def chart_root(path: str) -> str | None:
    """The nearest directory at or above `path` holding a Chart.yaml, if any."""
    here = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
    while True:
        if os.path.isfile(os.path.join(here, "Chart.yaml")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def resolve(files: list[str]) -> list[str]:
    """Changed files -> the inputs to check: chart directories first seen, then files."""
    out: list[str] = []
    seen: set[str] = set()
    for name in files:
        root = chart_root(name)
        target = os.path.relpath(root) if root else name
        if target not in seen:
            seen.add(target)
            out.append(target)
    return out


def split_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """(flags, files): pre-commit appends the file names after the hook's own args."""
    cut = len(argv)
    while cut > 0 and not argv[cut - 1].startswith("-") and os.path.exists(argv[cut - 1]):
        cut -= 1
    return argv[:cut], argv[cut:]


def main(argv: list[str] | None = None) -> int:
    from kubevet.cli import main as kubevet_main

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("check", "fix"):
        print("usage: kubevet-pre-commit check|fix [FLAGS] FILES...", file=sys.stderr)
        return 2
    flags, files = split_args(args[1:])
    if not files:
        return 0  # nothing of interest changed
    # pre-commit passes every changed YAML file (CI configs, compose files too)
    return kubevet_main([args[0], "--skip-non-kubernetes", *flags, *resolve(files)])


if __name__ == "__main__":
    sys.exit(main())
