"""The values override written into the user's own values file (`fix -f prod.yaml --output
prod.yaml`): only the keys the fixes change are set there, as text edits that keep its
comments, order and quoting, instead of a file of their own.

Equivalent to the override the fixes were proven with, because that file is the last `-f`
layer: the override held the merged values plus the fixes, so the only keys that differ
from what the user's files already give are the fixes' own, and in the last layer they win
the same way. A key a fix takes away is set to null (Helm's way to delete a key a lower
layer sets).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.findings import Edit
from kubevet.model import Path

_ABSENT = object()


def changed_keys(user: dict[str, Any], fixed: dict[str, Any], at: Path = ()) -> Iterator[Edit]:
    """Edits that make the values `user` into `fixed` when written in the last layer."""
    for key, value in fixed.items():
        before = user.get(key, _ABSENT)
        if isinstance(value, dict) and isinstance(before, dict):
            yield from changed_keys(before, value, (*at, key))
        elif before is _ABSENT or before != value:
            yield Edit("set", (*at, key), value)
    for key in user:
        if key not in fixed:
            yield Edit("set", (*at, key), None)


def edited_values(text: str, user: dict[str, Any], fixed: dict[str, Any]) -> str:
    """`text` (the last values file) with the fixes' keys set; ValueError when the edit
    cannot be made as text."""
    from kubevet.fix.yamltext import edit_document

    edits = list(changed_keys(user, fixed))
    if not edits:
        return text
    try:
        new, _restyled = edit_document(text, 0, edits)
    except Exception as exc:  # a text edit kubevet cannot make is said, never written
        raise ValueError(f"cannot edit it in place: {exc}") from None
    return new
