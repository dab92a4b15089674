"""Validation of objects against a Kubernetes release's OpenAPI schema (kubernetes-validate).

kubernetes-validate ships strict JSON schemas for a range of releases; a target outside
that range is mapped to the nearest shipped release, and the report says so. Strict
schemas reject unknown fields, which is how fields removed in the target are caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from kubevet.model import format_path
from kubevet.upgrade.table import Version, fmt, split_api, version


@dataclass(frozen=True, slots=True)
class SchemaChoice:
    release: Version  # the schema release used
    target: Version
    package_version: str

    @property
    def exact(self) -> bool:
        return self.release == self.target

    def describe(self) -> str:
        where = f"kubernetes-validate {self.package_version}"
        if self.exact:
            return f"Kubernetes {fmt(self.release)} OpenAPI schema ({where})"
        return (
            f"Kubernetes {fmt(self.release)} OpenAPI schema, the nearest shipped by {where} "
            f"to target {fmt(self.target)}: schema failures are warnings, not blockers"
        )


@dataclass(frozen=True, slots=True)
class SchemaResult:
    status: Literal["valid", "invalid", "no-schema"]
    message: str = ""
    path: str = ""


@cache
def shipped_releases() -> tuple[Version, ...]:
    from kubernetes_validate import utils

    found = {version(v) for v in utils.all_versions()}
    return tuple(sorted(v for v in found if v))


def choose_schema(target: Version) -> SchemaChoice:
    """The shipped schema release nearest to `target` (the newest not newer, else the oldest)."""
    from kubernetes_validate.version import __version__

    releases = shipped_releases()
    older = [r for r in releases if r <= target]
    return SchemaChoice(older[-1] if older else releases[0], target, __version__)


# API groups served by Kubernetes itself; everything else is a custom resource.
def is_builtin_group(group: str) -> bool:
    if "." not in group:
        return True  # "", apps, batch, policy, autoscaling, extensions, ...
    return group.endswith(".k8s.io") and not group.endswith(".x-k8s.io")


def validate_object(data: dict[str, Any], choice: SchemaChoice) -> SchemaResult:
    """Validate one object; objects without a shipped schema are `no-schema`, not errors."""
    import kubernetes_validate as kv

    group, _ = split_api(str(data.get("apiVersion", "")))
    if not is_builtin_group(group):
        return SchemaResult("no-schema", "custom resource")
    try:
        kv.validate(data, f"{fmt(choice.release)}.0", strict=True)
    except kv.SchemaNotFoundError as exc:
        return SchemaResult("no-schema", exc.message)
    except kv.ValidationError as exc:
        return SchemaResult("invalid", exc.message, format_path(tuple(exc.absolute_path)))
    return SchemaResult("valid")
