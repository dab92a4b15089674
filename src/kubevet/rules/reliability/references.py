"""References inside a workload or between objects that must agree (KV315-KV317): an
autoscaler and its target, a probe and its container's ports, a selector and its pod
template.

Cross-object rules see one input (a chart render, a file set). When that input is one file
of a larger set, the object a reference names may simply live elsewhere; so a reference is
checked only when the input holds objects of the kind it names in the same namespace (an
HPA beside no Deployment at all is left alone; an HPA naming `web` beside a Deployment
`webapp` is reported).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.model import ContainerView, K8sObject, Path, PodSpecView
from kubevet.rules._helpers import as_dict, as_list
from kubevet.rules.examples import EXAMPLE_DEPLOYMENT, example_hpa, example_pod
from kubevet.rules.options import Option
from kubevet.rules.registry import rule
from kubevet.selectors import matches_map, matches_or_none

_HPA = example_hpa("web", "shop", max_replicas=6)
# Built-in workload kinds without a scale subresource (Deployments, StatefulSets,
# ReplicaSets and ReplicationControllers have one; custom resources may).
_NOT_SCALABLE = frozenset({"DaemonSet", "Job", "CronJob", "Pod"})


@rule(
    code="KV315",
    slug="dangling-autoscaler",
    title="HorizontalPodAutoscaler targets no workload of the input",
    category="reliability",
    severity="medium",
    scope="group",
    what="A HorizontalPodAutoscaler's `scaleTargetRef` names a kind and name that no object "
    "of the input has in the autoscaler's namespace, or names a built-in kind that cannot be "
    "scaled (DaemonSet, Job, CronJob, Pod). Checked only when the input holds at least one "
    "object of the named kind in that namespace: an autoscaler checked alone, or beside "
    "other kinds only, may target an object of another input, and is left alone.",
    why="An autoscaler whose target does not exist or has no scale subresource does "
    "nothing: the workload keeps its fixed replica count under load, and the autoscaler "
    "only reports FailedGetScale events nobody reads. It is usually a rename that missed "
    "the autoscaler.",
    how_to_fix="Set `scaleTargetRef` to the kind and name of the workload to scale (same "
    "namespace), or delete the autoscaler.",
    example_bad=EXAMPLE_DEPLOYMENT + _HPA.replace("name: web}", "name: webapp}"),
    example_good=EXAMPLE_DEPLOYMENT + _HPA,
    references=("https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/",),
)
def dangling_autoscaler(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for hpa in group.by_kind("HorizontalPodAutoscaler"):
        path: Path = ("spec", "scaleTargetRef")
        ref = as_dict(hpa.get(path))
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        if not kind or not name:
            yield Violation("scaleTargetRef names no kind or no name", path, obj=hpa)
        elif kind in _NOT_SCALABLE:
            yield Violation(f"a {kind} cannot be scaled by an autoscaler", path, obj=hpa)
        elif group.find(kind, name, hpa.namespace) is None and any(
            o.namespace == hpa.namespace for o in group.by_kind(kind)
        ):
            yield Violation(
                f"scaleTargetRef names {kind} {name!r}, which is not in the input "
                f"(namespace {hpa.namespace or 'default'})",
                (*path, "name"),
                obj=hpa,
            )


_PROBE_PORT_ARGS = ("httpGet", "tcpSocket", "grpc")
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def _probe_ports(c: ContainerView) -> Iterator[tuple[Path, str, Any]]:
    """(path to the port, probe name, port) for each probe of the container with a port."""
    for probe in _PROBES:
        spec = as_dict(c.data.get(probe))
        for action in _PROBE_PORT_ARGS:
            handler = spec.get(action)
            if isinstance(handler, dict) and "port" in handler:
                yield (*c.path, probe, action, "port"), probe, handler["port"]


def _as_number(port: Any) -> int | None:
    if isinstance(port, bool):
        return None
    if isinstance(port, int):
        return port
    return int(port) if isinstance(port, str) and port.isdigit() else None


@rule(
    code="KV316",
    slug="probe-port-not-declared",
    title="Probe uses a port the container does not declare",
    category="reliability",
    severity="medium",
    scope="container",
    what="A liveness, readiness or startup probe (`httpGet`, `tcpSocket` or `grpc`) names "
    "its port by a name that none of the container's own `ports` declares. With the option "
    "`numeric_ports: true`, a numeric port that the container's `ports` do not list is "
    "reported too, when the container lists ports at all. Off by default because it is "
    "legal and common: `containerPort` is informational, the kubelet probes any number, and "
    "many servers answer health checks on a port they do not declare (a separate metrics "
    "or health listener).",
    why="The kubelet resolves a named probe port against the container's own ports only; "
    "when the name is not there, every probe fails: liveness restarts the container "
    "forever, readiness keeps it out of its Services, a startup probe never lets it start.",
    how_to_fix="Declare the port under the container's `ports` with that `name`, or probe "
    "the right name or number.",
    example_bad=example_pod(
        {
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "https"}},
        }
    ),
    example_good=example_pod(
        {
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
        }
    ),
    options={
        "numeric_ports": Option(
            "boolean",
            False,
            "also report numeric probe ports missing from the container's declared ports",
        )
    },
)
def probe_port_not_declared(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    declared = [as_dict(p) for p in as_list(c.data.get("ports"))]
    names = {str(p["name"]) for p in declared if p.get("name")}
    numbers = {_as_number(p.get("containerPort")) for p in declared}
    for path, probe, port in _probe_ports(c):
        number = _as_number(port)
        if number is None and str(port) not in names:
            yield Violation(
                f"{probe} of container {c.name!r} uses port {str(port)!r}, which the "
                "container does not declare: the probe always fails",
                path,
            )
        elif (
            number is not None
            and declared
            and number not in numbers
            and ctx.setting("numeric_ports", False)
        ):
            yield Violation(
                f"{probe} of container {c.name!r} uses port {number}, which the container's "
                "ports do not list",
                path,
            )


# Kinds whose selector must match their own pod template (the API server enforces it),
# and where the selector sits; Jobs only with `manualSelector: true` (else it is generated).
_SELECTOR_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob")
_OLD_APIS = ("extensions/v1beta1", "apps/v1beta1")  # selector defaulted from the labels


def _selector_path(obj: K8sObject) -> Path | None:
    if obj.kind == "CronJob":
        spec: Path = ("spec", "jobTemplate", "spec")
    else:
        spec = ("spec",)
    if obj.kind in ("Job", "CronJob") and obj.get((*spec, "manualSelector")) is not True:
        return None
    return (*spec, "selector")


def _selector_problem(obj: K8sObject, selector: Any, labels: dict[str, Any]) -> str | None:
    if obj.kind == "ReplicationController":
        if selector and not matches_map(as_dict(selector), labels):
            return "selector does not match the pod template's labels"
        return None
    if not as_dict(selector):
        if obj.api_version in _OLD_APIS or obj.kind in ("Job", "CronJob"):
            return None  # defaulted from the template labels (or generated)
        return "no selector: it is required, and must match the pod template's labels"
    verdict = matches_or_none(as_dict(selector), labels)
    if verdict is None:
        return "selector is invalid"
    return None if verdict else "selector does not match the pod template's labels"


_MISMATCHED = EXAMPLE_DEPLOYMENT.replace("      labels: {app: web}", "      labels: {app: shop}")


@rule(
    code="KV317",
    slug="selector-mismatch",
    title="Workload selector does not match its pod template",
    category="reliability",
    severity="high",
    scope="object",
    kinds=(*_SELECTOR_KINDS, "ReplicationController"),
    what="A Deployment, ReplicaSet, StatefulSet or DaemonSet has no `spec.selector` (apps/v1 "
    "requires one), an invalid one, or one that the pod template's labels do not satisfy; "
    "likewise a ReplicationController's selector map, and the selector of a Job (or a "
    "CronJob's job template) that sets `manualSelector: true`. (A Service selecting no pod "
    "of the input is KV603.)",
    why="The API server rejects such an object (`selector does not match template labels`): "
    "the apply or the Helm release fails, often half-way through a chart. Even where it "
    "was once accepted (extensions/v1beta1), the controller never counts its own pods and "
    "keeps creating new ones.",
    how_to_fix="Make the selector a subset of the pod template's labels; note that a "
    "Deployment's or StatefulSet's selector cannot be changed after creation.",
    example_bad=_MISMATCHED,
    example_good=EXAMPLE_DEPLOYMENT,
    references=("https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#selector",),
)
def selector_mismatch(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    if obj.pod is None:
        return
    path = ("spec", "selector") if obj.kind == "ReplicationController" else _selector_path(obj)
    if path is None:
        return
    labels = as_dict(obj.pod.metadata.get("labels"))
    problem = _selector_problem(obj, obj.get(path), labels)
    if problem:
        yield Violation(problem, path if obj.get(path) is not None else path[:-1])
