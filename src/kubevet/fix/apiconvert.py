"""KV701 remedied on the render: an object whose API the target version no longer serves
becomes the replacement API's object, with the schema changes `kubevet upgrade --fix`
makes (upgrade/convert.py), carried by the post-render set.

Charts often pick the API from `.Capabilities`, so a render without the target version
(Helm's built-in list keeps removed group/versions) holds old APIs that an install on the
target cluster would not; a chart that writes the old API outright fails there. The
converted object is proven like any other patch: schema at the target version, no rule
rising, Kustomize and kubevet's JSON Patch agreeing.
"""

from __future__ import annotations

from typing import Any

from kubevet.findings import Edit, Finding

RULE = "KV701"


def conversion_edits(f: Finding, data: dict[str, Any], target: str | None) -> tuple[Edit, ...]:
    """Top-level edits turning `data` (the object of KV701 finding `f`) into its replacement
    API's object; () when no conversion is known or it cannot be made safely."""
    from kubevet.upgrade.convert import NotConvertible, converted_copy, plan
    from kubevet.upgrade.table import load_table, version

    if f.code != RULE:
        return ()
    table = load_table()
    at = version(target) if target else None
    try:
        conv = plan(data, table, at or table.newest)
        new = converted_copy(data, conv) if conv is not None else None
    except NotConvertible:
        return ()
    if new is None:
        return ()
    edits = [Edit("set", (k,), v) for k, v in new.items() if data.get(k) != v]
    edits += [Edit("remove", (k,)) for k in data if k not in new]
    return tuple(edits)


def why_not(f: Finding, target: str | None) -> str | None:
    """Why a KV701 finding has no conversion (the replacement, or its absence), or None."""
    from kubevet.upgrade.convert import NotConvertible, plan
    from kubevet.upgrade.table import load_table, version

    if f.code != RULE:
        return None
    table = load_table()
    try:
        plan(f.obj.data, table, (version(target) if target else None) or table.newest)
    except NotConvertible as exc:
        return f"display-only: no conversion kubevet can make: {exc}"
    return None
