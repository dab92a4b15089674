"""Small helpers shared by rule packs: effective security settings and fix builders."""

from __future__ import annotations

from typing import Any

from kubevet.findings import Edit, Fix
from kubevet.model import ContainerView, Path, PodSpecView

POD_LEVEL_FIELDS = frozenset(
    {
        "runAsNonRoot",
        "runAsUser",
        "runAsGroup",
        "seccompProfile",
        "seLinuxOptions",
        "appArmorProfile",
        "windowsOptions",
    }
)


def effective(pod: PodSpecView, c: ContainerView, field: str) -> Any:
    """A securityContext field as the kubelet sees it: the container's, else the pod's."""
    value = c.security_context.get(field)
    if value is None and field in POD_LEVEL_FIELDS:
        value = pod.security_context.get(field)
    return value


def sc_path(c: ContainerView, *fields: str | int) -> Path:
    return (*c.path, "securityContext", *fields)


def set_fix(applicability: str, description: str, *edits: tuple[Path, Any]) -> Fix:
    return Fix(applicability, description, tuple(Edit("set", p, v) for p, v in edits))  # type: ignore[arg-type]


def is_true(value: Any) -> bool:
    return value is True


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
