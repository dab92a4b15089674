"""Checks a fix must pass before it is written: schema, identity, and scope."""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

from kubevet.fix.edits import changed_paths, outside
from kubevet.model import Path, format_path

DEFAULT_VERSION = "1.33"


def schema_errors(data: dict[str, Any], version: str | None) -> str | None:
    """The OpenAPI schema error of `data` for `version` (kubernetes-validate's first, as
    its `validate()` reports it), or None (kinds without a shipped schema pass). The
    validator is compiled once per kind: a proof validates every object of every render."""
    from kubevet.upgrade.schema import compiled_validator

    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    validator = compiled_validator(_version(version), api_version, kind, strict=False)
    if validator is None:
        return None  # custom resources: no schema shipped
    error = next(validator.iter_errors(data), None)
    return None if error is None else str(error).splitlines()[0]


@cache
def _version(version: str | None) -> str:
    """The shipped schema release (major.minor) for the target `version`."""
    import kubernetes_validate

    if not version:
        return DEFAULT_VERSION
    wanted = ".".join(version.lstrip("v").split(".")[:2])
    known = {".".join(str(v).split(".")[:2]) for v in kubernetes_validate.utils.all_versions()}
    return wanted if wanted in known else DEFAULT_VERSION


def identity(data: dict[str, Any]) -> tuple[str, str, str]:
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    return (str(data.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")))


def identity_problems(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """Objects lost, added, renamed or duplicated between two sets."""
    b, a = Counter(identity(d) for d in before), Counter(identity(d) for d in after)
    problems = [f"lost {' '.join(k)}" for k in b if a[k] < b[k]]
    problems += [f"new {' '.join(k)}" for k in a if a[k] > b[k] and not b[k]]
    problems += [f"duplicated {' '.join(k)}" for k in a if a[k] > b[k] and b[k]]
    return problems


def verify_object(
    before: dict[str, Any],
    after: dict[str, Any],
    roots: list[Path],
    version: str | None,
    vanish: list[Path] | None = None,
) -> list[str]:
    """Why `after` may not replace `before`: schema errors it adds, fields changed outside
    the fixed paths (or, under `vanish`, changed other than by going away), a new
    identity."""
    problems = []
    if identity(before) != identity(after):
        problems.append(f"renamed {' '.join(identity(before))} to {' '.join(identity(after))}")
    stray = [p for p in outside(changed_paths(before, after), roots) if not _gone(after, p, vanish)]
    problems += [f"changed {format_path(p)} outside the fixed fields" for p in stray[:5]]
    err = schema_errors(after, version)
    if err and err != schema_errors(before, version):
        problems.append(f"schema: {err}")
    return problems


_GONE: Any = object()


def _gone(after: dict[str, Any], path: Path, vanish: list[Path] | None) -> bool:
    """`path` lies under a field allowed to vanish, and that field is gone in `after`."""
    from kubevet.model import get_path

    return any(path[: len(v)] == v and get_path(after, v, _GONE) is _GONE for v in vanish or ())
