"""Stand-ins for modules that a dependency imports at its own import but that kubevet's use
of it never needs: each cost every run its import (and the modules it imports in turn).

A stand-in is in `sys.modules` only while the dependency is imported (`standing_in`), then
taken out: an `import` anywhere later gets the module itself. The dependency keeps the
stand-in, which gives it what it asks for (see each user).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def standing_in(name: str, module: types.ModuleType) -> Iterator[None]:
    """`import NAME` inside the block gets `module`, unless NAME is imported already."""
    if name in sys.modules:
        yield
        return
    sys.modules[name] = module
    try:
        yield
    finally:
        if sys.modules.get(name) is module:
            del sys.modules[name]


def stand_in(name: str, **attributes: Any) -> types.ModuleType:
    """A module named `name` holding `attributes`."""
    module = types.ModuleType(name)
    vars(module).update(attributes)
    return module


class ImportedWhenUsed(types.ModuleType):
    """A stand-in that imports the module itself when first used, and hands on to it."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)
