"""What a chart directory holds that kubevet must not read: links that lead out of it
(Helm follows them wherever they go) and files that are not regular (a FIFO blocks)."""

from __future__ import annotations

import os

from kubevet.findings import InputError
from kubevet.sources.reader import check_regular, link_leaves


def outside_links(root: str) -> list[tuple[str, str]]:
    """(link, where it leads) for each symbolic link under `root` that leads out of it
    (through other links too); links inside are followed as Helm does."""
    base = os.path.realpath(root)
    out: list[tuple[str, str]] = []
    for directory, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            link = os.path.join(directory, name)
            if link_leaves(base, link):
                out.append((link, os.path.realpath(link)))
    return out


def irregular_files(root: str) -> list[InputError]:
    """FIFOs, sockets and devices in a chart directory (or linked from inside it)."""
    base = os.path.realpath(root)
    out: list[InputError] = []
    for directory, _dirs, files in os.walk(root):
        for name in sorted(files):
            path = os.path.join(directory, name)
            if link_leaves(base, path):
                continue  # a link out: reported and left out by `outside_links`
            try:
                check_regular(path, os.stat(path).st_mode)
            except InputError as err:
                out.append(err)
            except OSError:
                continue  # a dangling link: Helm reports it
    return out


def link_errors(root: str, links: list[tuple[str, str]]) -> list[InputError]:
    return [
        InputError(
            link,
            f"symbolic link to {target}, outside the chart directory {root}: not read "
            "(the chart is rendered without it; copy the file into the chart instead)",
        )
        for link, target in links
    ]


def listed(links: list[tuple[str, str]]) -> str:
    return ", ".join(link for link, _ in links[:5]) + (" ..." if len(links) > 5 else "")
