"""The analysis model's parts: workloads, policies, peers, ports and exposure, the API
groups they come from, and the value readers every policy parser shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubevet.findings import InputError
from kubevet.model import K8sObject, Path
from kubevet.netpol.conns import Intervals

NP_API = "networking.k8s.io/"


ADMIN_API = "policy.networking.k8s.io/"


CILIUM_API = "cilium.io/"


CILIUM_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")


NS_NAME_LABEL = "kubernetes.io/metadata.name"


# Network extensions beyond Kubernetes and the policy API (out of scope, reported).
UNSUPPORTED_KINDS = {
    "UserDefinedNetwork": "OVN-Kubernetes user-defined network",
    "ClusterUserDefinedNetwork": "OVN-Kubernetes cluster user-defined network",
    "NetworkAttachmentDefinition": "Multus secondary network",
    "MultiNetworkPolicy": "Multus multi-network policy",
    "VirtualMachine": "KubeVirt virtual machine",
    "VirtualMachineInstance": "KubeVirt virtual machine",
}


class NetpolError(ValueError):
    """A policy or object the analysis cannot interpret; names the object, and the field
    (`path`, inside the object) when the fault is in one."""

    def __init__(self, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.path = path


@dataclass
class Workload:
    """A workload as the network model sees it: its pods' labels and their declared ports."""

    namespace: str
    name: str
    kind: str
    labels: dict[str, str]
    ports: tuple[tuple[str, int, str], ...]  # (name, containerPort, protocol)
    obj: K8sObject | None = None  # the first object this workload was read from
    service_account: str = "default"  # Cilium selects on it

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}[{self.kind}]"


@dataclass
class PortSpec:
    """One port entry: a protocol with a numeric range, or a named port."""

    protocol: str | None  # None: any protocol (ANP namedPort)
    start: int | None = None  # None with name None: every port
    end: int | None = None
    name: str | None = None


@dataclass
class Peer:
    """Pods (namespace selector None = the policy's own namespace) or addresses."""

    pod_selector: dict[str, Any] | None = None
    ns_selector: dict[str, Any] | None = None
    own_namespace: str | None = None
    ips: Intervals | None = None
    matches_all: bool = False  # a fail-closed Deny/Pass peer, or an omitted from/to
    # Cilium: a selector over identity labels (pod labels, namespace, namespace labels,
    # service account), namespace scoping already added; or the world/cluster entities.
    identity_selector: dict[str, Any] | None = None
    external: bool = False  # every address outside the cluster (Cilium `world`)
    # Cilium `toServices`: (namespace, "" for any; service name or None; label selector)
    service: tuple[str, str | None, dict[str, Any] | None] | None = None
    cluster: bool = False  # every pod of the cluster (Cilium `cluster`)


@dataclass
class Rule:
    """One rule of a policy: the peers and ports it allows (or denies)."""

    peers: list[Peer]  # empty: nothing
    ports: list[PortSpec] | None  # None: every connection
    action: str = "Allow"
    name: str = ""


@dataclass
class Policy:
    """A network policy of any tier, with the pods it selects and its rules per direction."""

    kind: str  # NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy
    name: str
    namespace: str | None
    subject_pods: dict[str, Any] | None  # pod selector
    subject_ns: dict[str, Any] | None  # namespace selector (None: own namespace)
    ingress: list[Rule] | None  # None: does not affect this direction
    egress: list[Rule] | None
    priority: int = 0
    obj: K8sObject | None = None
    # Cilium: per direction, whether the policy puts its subjects in default deny
    # (NetworkPolicy: whenever the direction is listed, i.e. its rules are not None).
    default_deny: tuple[bool, bool] | None = None  # (ingress, egress)
    at: Path = ("spec",)  # where the rule sits in the object (Cilium `specs[i]`)

    @property
    def label(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"

    @property
    def cilium(self) -> bool:
        return self.kind in CILIUM_KINDS

    def isolates(self, direction: str) -> bool:
        """Whether a subject of this policy is default-deny in `direction`."""
        if self.default_deny is not None:
            return self.default_deny[direction == "egress"]
        return (self.ingress if direction == "ingress" else self.egress) is not None


@dataclass
class ServiceRef:
    """A Service, for Cilium `toServices` peers (its pods: those its selector picks)."""

    namespace: str
    name: str
    labels: dict[str, str]
    selector: dict[str, str]  # empty: no selector (endpoints managed elsewhere)


@dataclass
class Exposure:
    """An Ingress or Route backend: pods selected by a Service, and the target port."""

    namespace: str
    selector: dict[str, Any]
    target: int | str | None  # number, container port name, or None: every port
    protocol: str = "TCP"


@dataclass
class Resources:
    """What the network model is built from: workloads, namespaces, policies, exposures."""

    workloads: list[Workload] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    policies: list[Policy] = field(default_factory=list)
    exposures: list[Exposure] = field(default_factory=list)
    services: list[ServiceRef] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)  # policies left out, and why


def _ns(obj: K8sObject) -> str:
    return obj.namespace or "default"


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _dict(value).items()}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _list(value: Any, label: str, at: Path) -> list[Any]:
    """A list field (absent: empty); anything else is an error at `at`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise NetpolError(f"{label}: {_field(at)} must be a list", at)
    return value


def _field(at: Path) -> str:
    from kubevet.model import format_path

    return format_path(at)


def _int(value: Any) -> int | None:
    """An integer field (numeric strings too, as the API's IntOrString); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


# --- NetworkPolicy -------------------------------------------------------------------


def _spec(obj: K8sObject, label: str) -> dict[str, Any]:
    spec = obj.data.get("spec")
    if spec is not None and not isinstance(spec, dict):
        raise NetpolError(f"{label}: spec must be a mapping", ("spec",))
    return spec or {}
