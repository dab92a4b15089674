"""Small helpers shared by rule packs: effective security settings and fix builders.

Example manifests for rule metadata live in examples.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
    """A fix setting each path to its value. Equal fixes of scalar values are one shared
    object (frozen, with immutable values: nothing changes it): the same few hundred fixes
    recur on every workload of a run, and the JSON report writes a shared fix's text once."""
    if not all(v.__class__ in _SCALARS for _, v in edits):
        return Fix(applicability, description, tuple(Edit("set", p, v) for p, v in edits))  # type: ignore[arg-type]
    key = (applicability, description, *[(p, v.__class__, v) for p, v in edits])
    fix = _SHARED_FIXES.get(key)
    if fix is None:
        if len(_SHARED_FIXES) >= _MOST_SHARED:  # a long run's memory stays bounded
            _SHARED_FIXES.clear()
        fix = _SHARED_FIXES[key] = Fix(
            applicability,  # type: ignore[arg-type]
            description,
            tuple(Edit("set", p, v) for p, v in edits),
        )
    return fix


# Shared fixes by (applicability, description, (path, value type, value)...): the type
# keeps 1 and True apart. Only immutable scalars are shared; not floats (-0.0 == 0.0).
_SCALARS = frozenset({str, int, bool, type(None)})
_SHARED_FIXES: dict[tuple[Any, ...], Fix] = {}
_MOST_SHARED = 4096


def is_true(value: Any) -> bool:
    return value is True


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- pod-security helpers -------------------------------------------------------------------

Version = tuple[int, int]


def is_windows(pod: PodSpecView) -> bool:
    return as_dict(pod.spec.get("os")).get("name") == "windows"


def linux_only_exempt(ctx_version: Version, pod: PodSpecView) -> bool:
    """PSS exempts `spec.os.name: windows` pods from restricted Linux-only controls since v1.25."""
    return ctx_version >= (1, 25) and is_windows(pod)


def user_namespace_relaxed(ctx_version: Version, pod: PodSpecView) -> bool:
    """PSS v1.35+ relaxes runAsNonRoot, runAsUser and baseline procMount for `hostUsers: false`."""
    return ctx_version >= (1, 35) and pod.spec.get("hostUsers") is False


def cap_name(value: Any) -> str:
    """Capability names compared loosely (`cap_sys_admin` == `SYS_ADMIN`), for non-PSS checks."""
    return str(value).strip().upper().removeprefix("CAP_")


def capabilities(c: ContainerView) -> tuple[list[Any], list[Any]]:
    """The container's (add, drop) capability lists, empty when unset."""
    caps = as_dict(c.security_context.get("capabilities"))
    return as_list(caps.get("add")), as_list(caps.get("drop"))


def edit_fix(applicability: str, description: str, *edits: Edit) -> Fix:
    return Fix(applicability, description, edits)  # type: ignore[arg-type]


def service_account(pod: PodSpecView) -> str:
    """The service account a pod runs as (the deprecated `serviceAccount` field is an alias)."""
    return str(pod.spec.get("serviceAccountName") or pod.spec.get("serviceAccount") or "default")


@dataclass(frozen=True, slots=True)
class Site:
    """Where a pod-or-container securityContext value is set: the one place to fix it."""

    path: Path
    value: Any
    container: ContainerView | None  # None: the pod-level value
    inheriting: tuple[str, ...] = ()  # containers that take the pod-level value


def sites(
    pod: PodSpecView, keys: tuple[str, ...], bad: Callable[[Any], bool], pod_always: bool = False
) -> Iterator[Site]:
    """Bad values of a securityContext field, once per place it is set.

    A container's own value is judged for that container; the pod-level value (possibly unset)
    is judged once, for the containers that inherit it (or always, with `pod_always`).
    """
    inheriting = []
    for c in pod.containers:
        own = _dig(c.security_context, keys)
        if own is None:
            inheriting.append(c.name)
        elif bad(own):
            yield Site(sc_path(c, *keys), own, c)
    pod_value = _dig(pod.security_context, keys)
    if (inheriting or (pod_always and pod_value is not None)) and bad(pod_value):
        yield Site((*pod.path, "securityContext", *keys), pod_value, None, tuple(inheriting))


def _dig(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    cur: Any = data
    for key in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def where(container: ContainerView | None) -> str:
    """The place a pod-spec setting applies, in a message: a container or the whole pod."""
    return f"container {container.name!r}" if container else "the pod"
