"""A pod spec the API server refuses (KV318): names that clash or break their format, and
mounts of volumes the pod does not declare.

The rules are Kubernetes' pod validation (pkg/apis/core/validation): container and volume
names are DNS-1123 labels, unique in the pod (a container's name across its containers,
init and ephemeral containers); each volume mount names a volume of the pod, each mount path
once per container; port names are IANA service names, unique per container.
"""

from __future__ import annotations

import re
from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject, Path, PodSpecView
from kubevet.rules._helpers import as_list
from kubevet.rules.examples import example_deployment
from kubevet.rules.metadata import dns_label_problem
from kubevet.rules.registry import rule

_LETTER = re.compile(r"[a-z]")

_MOUNT = "          volumeMounts:\n          - {name: data, mountPath: /data}\n"


label_problem = dns_label_problem  # container, volume and port names


def port_name_problem(name: str) -> str | None:
    """An IANA service name: a DNS-1123 label of at most 15 characters with a letter and
    no `--`."""
    ok = len(name) <= 15 and not dns_label_problem(name) and _LETTER.search(name)
    return None if ok and "--" not in name else "is not an IANA service name"


@rule(
    code="KV318",
    slug="pod-spec-refused",
    title="Pod spec the API server refuses",
    category="reliability",
    severity="high",
    scope="pod",
    what="Two containers (init and ephemeral containers included) or two volumes of the pod "
    "share a name, or such a name is not a DNS-1123 label; a volume mount names a volume the "
    "pod does not declare (nor, for a StatefulSet, a volumeClaimTemplate); a container "
    "mounts two volumes at one path; or a container's port names clash or are not IANA "
    "service names (at most 15 lowercase letters, digits and `-`, with a letter).",
    why="The API server refuses the whole workload: the release fails at apply time on what "
    "every other check passed. A renamed volume whose mounts were not renamed, or a sidecar "
    "copied with its container name, is the usual cause.",
    how_to_fix="Give each container and volume its own name, declare the volume each mount "
    "names (or fix the mount's name), and mount one volume per path.",
    example_bad=example_deployment(container=_MOUNT),
    example_good=example_deployment(
        container=_MOUNT, pod_spec="      volumes:\n      - {name: data, emptyDir: {}}\n"
    ),
    references=(
        "https://kubernetes.io/docs/concepts/storage/volumes/",
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/",
    ),
)
def pod_spec_refused(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> list[Violation]:
    found: list[Violation] = []
    volumes = _named(as_list(pod.spec.get("volumes")), (*pod.path, "volumes"), "volume", found)
    volumes |= _claim_templates(obj)
    containers = [(c.data, c.path) for c in pod.containers]
    _named_items(containers, "container", found)
    for c in pod.containers:
        _mounts(c.data, c.path, c.name, volumes, found)
        _ports(c.data, c.path, c.name, found)
    return found


def _claim_templates(obj: K8sObject) -> set[str]:
    """A StatefulSet's pods also mount the claims its volumeClaimTemplates make."""
    if obj.kind != "StatefulSet":
        return set()
    names = set()
    for claim in as_list(obj.get(("spec", "volumeClaimTemplates"))):
        meta = claim.get("metadata") if isinstance(claim, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("name"), str):
            names.add(meta["name"])
    return names


def _named(items: list[Any], at: Path, what: str, found: list[Violation]) -> set[str]:
    """The names of `items` (volumes), reporting clashes and bad names."""
    return _named_items(
        [(item, (*at, i)) for i, item in enumerate(items) if isinstance(item, dict)],
        what,
        found,
    )


def _named_items(items: list[tuple[Any, Path]], what: str, found: list[Violation]) -> set[str]:
    seen: set[str] = set()
    for item, path in items:
        name = item.get("name")
        if not isinstance(name, str) or not name:
            found.append(Violation(f"a {what} has no name", (*path, "name")))
            continue
        name_once(name, what, (*path, "name"), seen, found)
    return seen


def name_once(name: str, what: str, at: Path, seen: set[str], found: list[Violation]) -> None:
    """A DNS-1123 label, not among the names `seen` before it (then added to them)."""
    problem = label_problem(name)
    if problem:
        found.append(Violation(f"{what} name {name!r} {problem}", at))
    if name in seen:
        found.append(Violation(f"two {what}s are named {name!r}", at))
    seen.add(name)


def _mounts(
    data: dict[str, Any], at: Path, name: str, volumes: set[str], found: list[Violation]
) -> None:
    paths: set[str] = set()
    for i, mount in enumerate(as_list(data.get("volumeMounts"))):
        if not isinstance(mount, dict):
            continue
        where: Path = (*at, "volumeMounts", i)
        volume, mount_path = mount.get("name"), mount.get("mountPath")
        if isinstance(volume, str) and volume not in volumes:
            found.append(
                Violation(
                    f"container {name!r} mounts volume {volume!r}, which the pod does not declare",
                    (*where, "name"),
                )
            )
        if isinstance(mount_path, str) and mount_path in paths:
            found.append(
                Violation(
                    f"container {name!r} mounts two volumes at {mount_path}", (*where, "mountPath")
                )
            )
        paths.add(str(mount_path))


def _ports(data: dict[str, Any], at: Path, name: str, found: list[Violation]) -> None:
    names: set[str] = set()
    for i, port in enumerate(as_list(data.get("ports"))):
        port_name = port.get("name") if isinstance(port, dict) else None
        if not isinstance(port_name, str) or not port_name:
            continue
        where: Path = (*at, "ports", i, "name")
        problem = port_name_problem(port_name)
        if problem:
            found.append(Violation(f"port name {port_name!r} of {name!r} {problem}", where))
        if port_name in names:
            found.append(Violation(f"container {name!r} has two ports named {port_name!r}", where))
        names.add(port_name)
