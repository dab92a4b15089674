"""Sizes (KV901-KV903, KV907): requests against limits, valid and plausible quantities,
sidecars that outweigh the container they serve."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.footprint.workloads import (
    container_requests,
    main_and_sidecars,
)
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.quantity import QuantityError, format_bytes, format_cpu, parse_quantity
from kubevet.rules._helpers import as_dict
from kubevet.rules.examples import example_app, example_container
from kubevet.rules.options import Option
from kubevet.rules.registry import rule

CCF = "Cloud Carbon Footprint methodology: https://www.cloudcarbonfootprint.org/docs/methodology"


def _resources(c: ContainerView) -> dict[str, Any]:
    return as_dict(c.data.get("resources"))


def _parsed(raw: Any) -> Fraction | None:
    try:
        return parse_quantity(raw)
    except QuantityError:
        return None


@rule(
    code="KV901",
    slug="request-above-limit",
    title="Resource request above its limit",
    category="sustainability",
    severity="high",
    scope="container",
    what="A container requests more of a resource (cpu, memory, ephemeral-storage, ...) than "
    "its limit allows, e.g. a CPU request of 2 with a limit of 500m, or a memory limit below "
    "the memory request.",
    why="The API server rejects such a pod (requests must not exceed limits), so the workload "
    "never starts; where a template hides it until deploy time, the capacity it reserves in "
    "plans and estimates is fiction.",
    how_to_fix="Lower the request or raise the limit so that request <= limit; size the request "
    "from observed usage (a VPA recommendation) and keep the limit at or above it.",
    example_bad=example_app(
        "api", example_container("api", "cpu: '2', memory: 512Mi", "cpu: 500m, memory: 256Mi")
    ),
    example_good=example_app(
        "api", example_container("api", "cpu: 250m, memory: 256Mi", "cpu: 500m, memory: 512Mi")
    ),
    references=("Kubernetes: Resource Management for Pods and Containers", CCF),
)
def request_above_limit(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    res = _resources(c)
    requests, limits = as_dict(res.get("requests")), as_dict(res.get("limits"))
    for name in sorted(set(requests) & set(limits)):
        req, lim = _parsed(requests[name]), _parsed(limits[name])
        if req is not None and lim is not None and req > lim:
            yield Violation(
                f"container {c.name!r} requests {name} {requests[name]} above its limit "
                f"{limits[name]}; the API server rejects the pod",
                (*c.path, "resources", "requests", name),
            )


RESOURCE_KINDS = ("requests", "limits")


def _values(c: ContainerView) -> Iterator[tuple[str, str, Any]]:
    """(requests|limits, resource name, raw value) of a container."""
    res = _resources(c)
    for section in RESOURCE_KINDS:
        for name, raw in as_dict(res.get(section)).items():
            yield section, str(name), raw


@rule(
    code="KV902",
    slug="invalid-resource-quantity",
    title="Resource quantity is not a valid Kubernetes quantity",
    category="sustainability",
    severity="high",
    scope="container",
    what="A value under `resources.requests` or `resources.limits` is not a Kubernetes "
    "quantity (for example `512MB`, `1.5 cores`, `2Gib`, or an empty string).",
    why="The API server rejects the object; a chart that renders such a value fails at install "
    "time instead of review time.",
    how_to_fix="Write CPU in cores or millicores (`500m`, `0.5`, `2`) and memory in bytes with "
    "a binary or decimal suffix (`512Mi`, `1Gi`, `500M`).",
    example_bad=example_app("api", example_container("api", "cpu: 1 core, memory: 512MB")),
    example_good=example_app("api", example_container("api", "cpu: '1', memory: 512Mi")),
    references=("Kubernetes API: resource.Quantity",),
)
def invalid_resource_quantity(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    for section, name, raw in _values(c):
        try:
            parse_quantity(raw)
        except QuantityError as exc:
            yield Violation(
                f"container {c.name!r} {section}.{name}: {exc}",
                (*c.path, "resources", section, name),
            )


@rule(
    code="KV903",
    slug="implausible-resources",
    title="Implausible CPU or memory value",
    category="sustainability",
    severity="medium",
    scope="container",
    what="A container requests or limits more CPU than `max-cpu` (default 64) or more memory "
    "than `max-memory` (default 256Gi), or less memory than `min-memory` (default 4Mi, which "
    "catches `memory: 512` meaning 512 bytes).",
    why="Values like these are almost always a unit slip (`2000` for `2000m`, `512` for "
    "`512Mi`, `64Gi` for `64Mi`): the pod is unschedulable, or reserves a node's worth of "
    "capacity that idles, or is OOM-killed at start.",
    how_to_fix="Check the unit: CPU in cores or millicores (`500m`), memory with a suffix "
    "(`512Mi`). If the size is real, raise the knobs in config (`rules: {KV903: {max-cpu: 96}}`).",
    example_bad=example_app("api", example_container("api", "cpu: '2000', memory: '512'")),
    example_good=example_app("api", example_container("api", "cpu: 2000m, memory: 512Mi")),
    references=(CCF,),
    options={
        "max_cpu": Option("quantity", "64", "the largest plausible CPU request or limit"),
        "max_memory": Option("quantity", "256Gi", "the largest plausible memory amount"),
        "min_memory": Option("quantity", "4Mi", "the smallest plausible memory amount"),
    },
)
def implausible_resources(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    max_cpu = parse_quantity(ctx.setting("max_cpu"))
    max_mem = parse_quantity(ctx.setting("max_memory"))
    min_mem = parse_quantity(ctx.setting("min_memory"))
    for section, name, raw in _values(c):
        value = _parsed(raw)
        if value is None:
            continue
        path = (*c.path, "resources", section, name)
        if name == "cpu" and value > max_cpu:
            yield Violation(
                f"container {c.name!r} {section}.cpu {raw} is {format_cpu(value)} cores, more "
                f"than {format_cpu(max_cpu)}; was {raw}m meant?",
                path,
            )
        elif name == "memory" and value > max_mem:
            yield Violation(
                f"container {c.name!r} {section}.memory {raw} is {format_bytes(value)}, more "
                f"than {format_bytes(max_mem)}",
                path,
            )
        elif name == "memory" and 0 < value < min_mem:
            yield Violation(
                f"container {c.name!r} {section}.memory {raw} is only {format_bytes(value)} "
                f"bytes; was {raw}Mi meant?",
                path,
            )


_MESH = example_app(
    "api",
    example_container("api", "cpu: 100m, memory: 128Mi")
    + example_container("proxy", "cpu: 500m, memory: 512Mi"),
)


@rule(
    code="KV907",
    slug="sidecar-larger-than-main",
    title="Sidecar requests more than the main container",
    category="sustainability",
    severity="low",
    scope="pod",
    what="A sidecar (any regular container after the main one, or a native sidecar: an init "
    "container with `restartPolicy: Always`) requests more CPU or memory than the main "
    "container (the `kubectl.kubernetes.io/default-container`, else the first) times `ratio` "
    "(default 1).",
    why="Proxies, log shippers and agents are mostly idle; a sidecar sized above the application "
    "it serves usually carries a copied or injector-default request, and that reservation is "
    "multiplied by every replica of every workload it is injected into.",
    how_to_fix="Size the sidecar from its observed usage (a VPA in updateMode Off recommends "
    "per container), or lower the injector's default (e.g. the mesh's proxy resource "
    "annotations).",
    example_bad=_MESH,
    example_good=_MESH.replace("cpu: 500m, memory: 512Mi", "cpu: 50m, memory: 64Mi"),
    references=(CCF,),
    options={
        "ratio": Option("number", 1, "the most a sidecar may request, in main container requests")
    },
)
def sidecar_larger_than_main(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView
) -> Iterator[Violation]:
    main, sidecars = main_and_sidecars(pod)
    if main is None:
        return
    ratio = Fraction(str(ctx.setting("ratio", 1)))
    m = container_requests(main)
    for c in sidecars:
        r = container_requests(c)
        for name, mine, theirs, fmt in (
            ("cpu", m.cpu, r.cpu, format_cpu),
            ("memory", m.memory, r.memory, format_bytes),
        ):
            if mine and theirs is not None and theirs > mine * ratio:
                yield Violation(
                    f"sidecar {c.name!r} requests {fmt(theirs)} {name}, more than the main "
                    f"container {main.name!r} ({fmt(mine)})",
                    (*c.path, "resources", "requests", name),
                    container=c.name,
                )
