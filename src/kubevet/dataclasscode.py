"""dataclasses' generated methods compiled once, not in every process.

dataclass() writes each class's methods (__init__, __repr__, __eq__; frozen, also
__setattr__, __delattr__ and __hash__) as source text and compiles it: in a check, about
180 compiles for 45 classes, 13 ms of its start-up (a twentieth of a check of the
pre-rendered corpus). Their code objects are kept beside kubevet's bytecode (its
__pycache__, where Python keeps the modules' own), keyed by the exact text: a text not
held is compiled as before, and the file is written again once the command is done.

dataclasses runs the text through the builtin `exec`, looked up in its module's globals
first: `use()` puts there one that runs the held code instead, compiled as `exec` would
have (no flags inherited from the caller), so the methods are the same.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
import types
from typing import Any

# What the code objects need: this Python, and the same optimisation level.
_HEADER = f"kubevet dataclass code\n{sys.version}\n{sys.flags.optimize}\n".encode()
_CODES: dict[str, types.CodeType] = {}
_STATE = {"new": False}  # texts compiled that the file does not hold


def use() -> None:
    """dataclasses, from now on, compiles each method text once for every process."""
    import dataclasses

    if vars(dataclasses).get("exec") is not _exec:
        _CODES.update(_load(cache_file()))
        dataclasses.exec = _exec  # type: ignore[attr-defined]


def save() -> None:
    """Write the file where this process compiled texts it did not hold (not where Python
    writes no bytecode either: PYTHONDONTWRITEBYTECODE, -B)."""
    if not _STATE["new"] or sys.dont_write_bytecode:
        return
    _STATE["new"] = False
    path = cache_file()
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(_HEADER + marshal.dumps(_CODES))
        os.replace(tmp, path)  # whole or not at all, as other processes read it
    except OSError:  # a read-only install: compiled again next time, as without the file
        with contextlib.suppress(OSError):
            os.remove(tmp)


def cache_file() -> str:
    return os.path.join(
        os.path.dirname(__file__), "__pycache__", f"dataclasses.{sys.implementation.cache_tag}.bin"
    )


def _exec(source: Any, globals: Any = None, locals: Any = None, **kwargs: Any) -> None:
    if source.__class__ is str:
        code = _CODES.get(source)
        if code is None:
            code = _CODES[source] = compile(source, "<string>", "exec", dont_inherit=True)
            _STATE["new"] = True
        source = code
    exec(source, globals, locals, **kwargs)


def _load(path: str) -> dict[str, types.CodeType]:
    """The file's code objects; none where it is missing, of another Python or broken."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        codes = marshal.loads(data[len(_HEADER) :]) if data.startswith(_HEADER) else {}
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if not isinstance(codes, dict):
        return {}
    return {k: v for k, v in codes.items() if type(k) is str and type(v) is types.CodeType}
