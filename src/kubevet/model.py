"""The object model: Kubernetes objects with their origin, and the pod-spec view.

Every workload kind is reduced once, when the object is built, to one `PodSpecView`
(pod spec + pod metadata + every container, init and ephemeral ones included), so rules
never need to know where a kind keeps its pod template.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from kubevet.shapes import Hole, conform

if TYPE_CHECKING:
    from kubevet.malformed import Malformed

PathPart = str | int
Path = tuple[PathPart, ...]

# Where each workload kind keeps its pod spec (metadata sits beside `spec` at the same prefix).
POD_TEMPLATE_PREFIX: dict[str, Path] = {
    "Pod": (),
    "PodTemplate": ("template",),
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
WORKLOAD_KINDS = frozenset(POD_TEMPLATE_PREFIX) - {"PodTemplate"}

ContainerKind = Literal["container", "initContainer", "ephemeralContainer"]
CONTAINER_LISTS: tuple[tuple[str, ContainerKind], ...] = (
    ("containers", "container"),
    ("initContainers", "initContainer"),
    ("ephemeralContainers", "ephemeralContainer"),
)


def format_path(path: Path) -> str:
    """`("spec", "containers", 0, "image")` -> `spec.containers[0].image`."""
    try:
        return _format_cached(path)
    except TypeError:  # a path with an unhashable part
        return _format_path(path)


def _format_path(path: Path) -> str:
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(("." if out else "") + part)
    return "".join(out)


# Findings of every object repeat the same few hundred paths, and sorting and every
# reporter format each one.
_format_cached = functools.lru_cache(maxsize=16384)(_format_path)


_Frozen = TypeVar("_Frozen")


def pickled_by_fields(cls: type[_Frozen]) -> type[_Frozen]:
    """A frozen dataclass with slots, pickled as the tuple of its fields. What dataclasses
    gives such a class looks its fields up again on every call (`fields()`): that was the
    largest part of spilling a large run's findings to disk and reading them back, and of
    findings coming back from worker processes."""
    names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    values = operator.attrgetter(*names) if len(names) > 1 else None

    def getstate(self: Any) -> tuple[Any, ...]:
        return values(self) if values is not None else (getattr(self, names[0]),)

    def setstate(self: Any, state: tuple[Any, ...]) -> None:
        for name, value in zip(names, state, strict=True):
            object.__setattr__(self, name, value)

    cls.__getstate__ = getstate  # type: ignore[attr-defined]
    cls.__setstate__ = setstate  # type: ignore[attr-defined]
    return cls


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Origin:
    """Where an object came from."""

    file: str  # the file the user can open (manifest, or the chart template on disk)
    line: int  # 1-based line where the object's document starts in that file (or render)
    template: str | None = None  # chart template path as Helm names it (`# Source:`)
    chart: str | None = None
    chart_version: str | None = None
    rendered: bool = False  # True when `line` counts lines of rendered output, not the file
    release: str | None = None  # the Helm release an object read from a cluster belongs to


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ObjectRef:
    """Which object a finding is on: apiVersion, kind, namespace and name."""

    api_version: str
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"


@dataclass(slots=True)
class ContainerView:
    """One container of a pod spec, with its path inside the object."""

    data: dict[str, Any]
    name: str
    kind: ContainerKind
    index: int
    path: Path  # path of this container inside the object
    # Read once (dozens of rules ask for it per container); {} when absent or malformed.
    security_context: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.security_context = _as_dict(self.data.get("securityContext"))


@dataclass(slots=True)
class PodSpecView:
    """The pod spec of a workload (or a Pod), its metadata and its containers."""

    spec: dict[str, Any]
    path: Path  # path of the pod spec inside the object
    metadata: dict[str, Any]  # pod (template) metadata
    metadata_path: Path
    containers: list[ContainerView] = field(default_factory=list)
    # Read once, like ContainerView.security_context.
    security_context: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.security_context = _as_dict(self.spec.get("securityContext"))

    @property
    def annotations(self) -> dict[str, Any]:
        return _as_dict(self.metadata.get("annotations"))

    @property
    def volumes(self) -> list[dict[str, Any]]:
        return [v for v in _as_list(self.spec.get("volumes")) if isinstance(v, dict)]


@dataclass(slots=True)
class K8sObject:
    """One object. Identity fields are read once here: rules ask for them constantly, and
    objects are not mutated after loading (fixes edit files, then reload)."""

    data: dict[str, Any]
    origin: Origin
    source: Any = None  # the parsed yamldocs.Document, to locate field lines on demand
    default_namespace: str | None = None  # namespace implied by the input (Helm --namespace)
    pod: PodSpecView | None = None
    # Set by __post_init__ only (no default to build first and throw away).
    api_version: str = field(init=False)
    kind: str = field(init=False)
    metadata: dict[str, Any] = field(init=False)
    name: str = field(init=False)
    namespace: str | None = field(init=False)
    labels: dict[str, Any] = field(init=False)
    annotations: dict[str, Any] = field(init=False)
    ref: ObjectRef = field(init=False)
    malformed: list[Malformed] = field(init=False)  # fields taken out

    def __post_init__(self) -> None:
        # Rules see the object without its malformed fields (see kubevet.shapes).
        self.data, self.malformed = conform(self.data)
        data = self.data
        self.api_version = str(data.get("apiVersion", ""))
        self.kind = str(data.get("kind", ""))
        meta = self.metadata = _as_dict(data.get("metadata"))
        self.name = str(meta.get("name") or meta.get("generateName") or "")
        ns = meta.get("namespace")
        self.namespace = str(ns) if ns else self.default_namespace
        self.labels = _as_dict(meta.get("labels"))
        self.annotations = _as_dict(meta.get("annotations"))
        self.ref = ObjectRef(self.api_version, self.kind, self.namespace, self.name)
        self.pod = build_pod_view(data)

    def get(self, path: Path, default: Any = None) -> Any:
        return get_path(self.data, path, default)


# The apiVersion of the objects kubevet makes of Dockerfiles, apko configs and attestations.
KUBEVET_API_VERSION = "kubevet.io/v1"


def is_tool_file(obj: K8sObject) -> bool:
    """Files for tools, not objects for the API server: kubevet's build and attestation
    objects, and kubeconfig, kubelet, kubeadm and kustomize configurations."""
    api = obj.api_version  # a group ending so is followed by its one `/`
    return (
        api == KUBEVET_API_VERSION
        or obj.kind == "Config"
        or "config.k8s.io/" in api
        or "kubeadm.k8s.io/" in api
    )


def build_pod_view(data: dict[str, Any]) -> PodSpecView | None:
    prefix = POD_TEMPLATE_PREFIX.get(str(data.get("kind", "")))
    if prefix is None:
        return None
    template = get_path(data, prefix) if prefix else data
    if not isinstance(template, dict):
        return None
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return None
    spec_path = (*prefix, "spec")
    view = PodSpecView(
        spec=spec,
        path=spec_path,
        metadata=_as_dict(template.get("metadata")),
        metadata_path=(*prefix, "metadata"),
    )
    for key, kind in CONTAINER_LISTS:
        for index, item in enumerate(_as_list(spec.get(key))):
            if isinstance(item, dict) and not isinstance(item, Hole):
                name = str(item.get("name") or f"#{index}")
                view.containers.append(
                    ContainerView(item, name, kind, index, (*spec_path, key, index))
                )
    return view


_ABSENT = object()


def get_path(data: Any, path: Path, default: Any = None) -> Any:
    cur = data
    for part in path:
        if isinstance(cur, dict) and not isinstance(part, int):
            cur = cur.get(part, _ABSENT)
            if cur is _ABSENT:
                return default
        elif isinstance(cur, list) and isinstance(part, int) and -len(cur) <= part < len(cur):
            cur = cur[part]
        else:
            return default
    return cur


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
