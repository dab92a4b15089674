"""Reading the suppression annotations of one object (kubevet.suppress): its entries, and
the problems of those it cannot use. Imported only for an object that carries one."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from kubevet import lazy_compile
from kubevet.findings import Violation
from kubevet.model import Path

_ENTRY = lazy_compile(  # read only where an object carries a suppression
    r"^\s*(?P<rules>[A-Za-z0-9_,\s-]+?)"
    r"(?:\s+until\s+(?P<until>\S+))?"  # optional expiry: "KV101 until 2027-03-31: why"
    r"\s*(?::\s*(?P<reason>.*\S))?\s*$"
)


@dataclass
class Entry:
    """One suppression annotation of an object: rules, reason, and where it applies."""

    rules: list[str]
    reason: str
    container: str | None
    key: str
    path: tuple[str | int, ...]
    used: set[str] = field(default_factory=set)


def read_entries(
    found: list[tuple[str, str | None, Any, Path]],
) -> tuple[list[Entry], list[Violation]]:
    """The entries of suppression annotations given as (key, container or None, value, path),
    and why the others do not apply."""
    entries: list[Entry] = []
    problems: list[Violation] = []
    for key, container, value, path in found:
        for raw in re.split(r"[;\n]", str(value)):
            if not raw.strip():
                continue
            m = _ENTRY.match(raw)
            if not m or not m.group("reason"):
                msg = f"suppression {raw.strip()!r} needs a reason: 'CODE: why'"
                problems.append(Violation(msg, path, container))
                continue
            expired = _expired(m.group("until"))
            if expired:
                problems.append(
                    Violation(f"suppression {raw.strip()!r} {expired}", path, container)
                )
                continue
            names = [n.strip() for n in m.group("rules").split(",") if n.strip()]
            entries.append(Entry(names, m.group("reason"), container, key, path))
    return entries, problems


def _expired(until: str | None) -> str | None:
    """Why an entry with this expiry no longer applies (None while it does)."""
    if until is None:
        return None
    try:
        day = dt.date.fromisoformat(until)
    except ValueError:
        return f"has an expiry {until!r} that is not a date like 2027-03-31"
    if dt.date.today() >= day:
        return f"expired on {day}: renew it with a new date or remove it"
    return None
