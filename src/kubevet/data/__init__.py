"""kubevet's packaged data tables (see README.md here)."""

from __future__ import annotations

import os


def read_text(name: str) -> str:
    """The text of the data file `name`.

    Read straight from this package's directory: importlib.resources would import pathlib,
    zipfile and their dependencies on every run (tens of milliseconds) to do the same for an
    installed package. Only a package that is not a directory (a zip) goes through it."""
    try:
        with open(os.path.join(os.path.dirname(__file__), name), encoding="utf-8") as f:
            return f.read()
    except NotADirectoryError:
        from importlib import resources

        return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
