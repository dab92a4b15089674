"""Resource requests, limits and namespace guardrails (KV2xx).

Requests and limits are checked on regular and init containers (both are scheduled with
their requests); ephemeral containers cannot declare resources, so they are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.model import ContainerView, K8sObject, Path, PodSpecView
from kubevet.quantity import QuantityError, parse_quantity
from kubevet.rules._helpers import as_dict, set_fix
from kubevet.rules.examples import EXAMPLE_DEPLOYMENT as _DEPLOYMENT
from kubevet.rules.options import Option
from kubevet.rules.registry import rule


def _quantity(value: Any) -> Fraction | None:
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def _resources(c: ContainerView) -> dict[str, Any]:
    return as_dict(c.data.get("resources"))


def _amount(c: ContainerView, kind: str, resource: str) -> Any:
    return as_dict(_resources(c).get(kind)).get(resource)


def _is_set(value: Any) -> bool:
    """Unset means absent, empty or zero (zero requests nothing from the scheduler)."""
    if value is None or value == "":
        return False
    amount = _quantity(value)
    return amount is None or amount != 0  # an unparsable value is a schema error, not ours


def _res_path(c: ContainerView, kind: str, resource: str) -> Path:
    return (*c.path, "resources", kind, resource)


def _missing(
    ctx: RuleContext, c: ContainerView, kind: str, resource: str, option: str
) -> Iterator[Violation]:
    if c.kind == "ephemeralContainer" or _is_set(_amount(c, kind, resource)):
        return
    if kind == "requests" and _is_set(_amount(c, "limits", resource)):
        return  # the API server defaults a missing request to the limit
    path = _res_path(c, kind, resource)
    amount = ctx.setting(option)
    yield Violation(
        f"container {c.name!r} sets no {resource} {kind[:-1]}",
        path,
        fix=set_fix("unsafe", f"set {resource} {kind[:-1]} to {amount}", (path, amount)),
    )


@rule(
    code="KV201",
    slug="memory-request",
    title="Container has no memory request",
    category="resources",
    severity="medium",
    scope="container",
    what="A regular or init container sets neither `resources.requests.memory` nor "
    "`resources.limits.memory` (a missing request defaults to the limit). Zero counts as unset.",
    why="The scheduler places pods by their requests; without one the pod can land on a node "
    "with no memory to spare, and it is among the first evicted under memory pressure "
    "(BestEffort or Burstable QoS).",
    how_to_fix="Set `resources.requests.memory` to the memory the container uses in steady "
    "state (measure it, for example with the Vertical Pod Autoscaler in recommendation mode).",
    example_bad=_DEPLOYMENT,
    example_good=_DEPLOYMENT
    + "          resources:\n            requests: {memory: 128Mi, cpu: 100m}\n"
    "            limits: {memory: 256Mi}\n",
    fix_applicability="unsafe",
    unified=("check_1",),
    references=("https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",),
    options={"memory_request": Option("quantity", "128Mi", "the request the fix sets")},
)
def memory_request(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    yield from _missing(ctx, c, "requests", "memory", "memory_request")


@rule(
    code="KV202",
    slug="memory-limit",
    title="Container has no memory limit",
    category="resources",
    severity="medium",
    scope="container",
    what="A regular or init container does not set `resources.limits.memory` (or sets 0).",
    why="Memory is not compressible: a container without a limit can grow until the node runs "
    "out of memory, and the kernel's OOM killer then picks victims among other pods too.",
    how_to_fix="Set `resources.limits.memory`, usually equal to or somewhat above the request.",
    example_bad=_DEPLOYMENT,
    example_good=_DEPLOYMENT
    + "          resources:\n            requests: {memory: 128Mi, cpu: 100m}\n"
    "            limits: {memory: 256Mi}\n",
    fix_applicability="unsafe",
    unified=("check_2",),
    references=("https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",),
    options={"memory_limit": Option("quantity", "256Mi", "the limit the fix sets")},
)
def memory_limit(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    yield from _missing(ctx, c, "limits", "memory", "memory_limit")


@rule(
    code="KV203",
    slug="cpu-request",
    title="Container has no CPU request",
    category="resources",
    severity="low",
    scope="container",
    what="A regular or init container sets neither `resources.requests.cpu` nor "
    "`resources.limits.cpu` (a missing request defaults to the limit). Zero counts as unset.",
    why="Without a CPU request the container gets the smallest CPU share under contention and "
    "the scheduler may overcommit the node; autoscalers that work on utilization need it.",
    how_to_fix="Set `resources.requests.cpu` to the CPU the container needs in steady state.",
    example_bad=_DEPLOYMENT,
    example_good=_DEPLOYMENT
    + "          resources:\n            requests: {memory: 128Mi, cpu: 100m}\n",
    fix_applicability="unsafe",
    unified=("check_4",),
    references=("https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",),
    options={"cpu_request": Option("quantity", "100m", "the request the fix sets")},
)
def cpu_request(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    yield from _missing(ctx, c, "requests", "cpu", "cpu_request")


@rule(
    code="KV204",
    slug="cpu-limit",
    title="Container has no CPU limit",
    category="resources",
    severity="low",
    scope="container",
    what="A regular or init container does not set `resources.limits.cpu` (or sets 0).",
    why="A container without a CPU limit can take every idle core of the node; many clusters "
    "require one through admission policy. CPU limits also cause throttling, so some teams "
    "deliberately omit them: ignore this rule (`--ignore KV204`) if that is your policy.",
    how_to_fix="Set `resources.limits.cpu`, or ignore the rule if your policy is no CPU limits.",
    example_bad=_DEPLOYMENT,
    example_good=_DEPLOYMENT
    + "          resources:\n            requests: {cpu: 100m}\n            limits: {cpu: 500m}\n",
    fix_applicability="unsafe",
    unified=("check_5",),
    references=("https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",),
    options={"cpu_limit": Option("quantity", "500m", "the limit the fix sets")},
)
def cpu_limit(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    yield from _missing(ctx, c, "limits", "cpu", "cpu_limit")


def _unequal(c: ContainerView, resource: str) -> Iterator[Violation]:
    """Request and limit both set and different (a missing request already equals the limit)."""
    if c.kind == "ephemeralContainer":
        return
    req, lim = _amount(c, "requests", resource), _amount(c, "limits", resource)
    if req is None or lim is None:
        return  # no limit is KV202/KV204's finding; no request defaults to the limit
    req_n, lim_n = _quantity(req), _quantity(lim)
    if req_n is None or lim_n is None or req_n == lim_n:
        return
    path = _res_path(c, "requests", resource)
    yield Violation(
        f"container {c.name!r} requests {req} {resource} but is limited to {lim}",
        path,
        fix=set_fix("unsafe", f"set the {resource} request to the limit ({lim})", (path, lim)),
    )


@rule(
    code="KV205",
    slug="memory-request-equals-limit",
    title="Memory request differs from memory limit",
    category="resources",
    severity="low",
    scope="container",
    what="A container sets both a memory request and a memory limit, and they differ.",
    why="Memory above the request is borrowed: when the node runs short, a container using more "
    "than it requested is OOM-killed or evicted first. Equal values give predictable memory "
    "(and, with equal CPU values, the Guaranteed QoS class).",
    how_to_fix="Set `resources.requests.memory` equal to `resources.limits.memory`.",
    example_bad=_DEPLOYMENT + "          resources:\n            requests: {memory: 128Mi}\n"
    "            limits: {memory: 512Mi}\n",
    example_good=_DEPLOYMENT + "          resources:\n            requests: {memory: 256Mi}\n"
    "            limits: {memory: 0.25Gi}\n",
    fix_applicability="unsafe",
    unified=("check_3",),
    references=("https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/",),
    enabled_by_default=False,
)
def memory_request_equals_limit(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    yield from _unequal(c, "memory")


@rule(
    code="KV206",
    slug="cpu-request-equals-limit",
    title="CPU request differs from CPU limit",
    category="resources",
    severity="low",
    scope="container",
    what="A container sets both a CPU request and a CPU limit, and they differ.",
    why="Equal CPU request and limit (with equal memory values) give the Guaranteed QoS class, "
    "which the CPU manager needs for exclusive cores and the kubelet evicts last.",
    how_to_fix="Set `resources.requests.cpu` equal to `resources.limits.cpu`.",
    example_bad=_DEPLOYMENT
    + "          resources:\n            requests: {cpu: 100m}\n            limits: {cpu: 1}\n",
    example_good=_DEPLOYMENT
    + "          resources:\n            requests: {cpu: 500m}\n            limits: {cpu: 0.5}\n",
    fix_applicability="unsafe",
    unified=("check_6",),
    references=("https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/",),
    enabled_by_default=False,
)
def cpu_request_equals_limit(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    yield from _unequal(c, "cpu")


def _namespaces_without(group: InputGroup, kind: str) -> Iterator[K8sObject]:
    """Namespace objects of the input that no object of `kind` in the input lives in."""
    covered = {obj.namespace for obj in group.by_kind(kind)}
    for ns in group.by_kind("Namespace"):
        if ns.name and ns.name not in covered:
            yield ns


_NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
"""


@rule(
    code="KV207",
    slug="namespace-without-limitrange",
    title="Namespace has no LimitRange",
    category="resources",
    severity="low",
    scope="group",
    what="A Namespace defined in the input has no LimitRange in the same input.",
    why="A LimitRange gives containers that declare no resources a default request and limit, "
    "and caps what one container may ask for, so one forgotten value cannot starve the "
    "namespace. Namespaces created elsewhere are not checked: their guardrails live there.",
    how_to_fix="Add a LimitRange with `default` and `defaultRequest` for containers to the "
    "namespace.",
    example_bad=_NAMESPACE,
    example_good=_NAMESPACE
    + """\
---
apiVersion: v1
kind: LimitRange
metadata:
  name: defaults
  namespace: shop
spec:
  limits:
    - type: Container
      default: {memory: 256Mi}
      defaultRequest: {memory: 128Mi, cpu: 100m}
""",
    unified=("check_48",),
    references=("https://kubernetes.io/docs/concepts/policy/limit-range/",),
    enabled_by_default=False,
)
def namespace_without_limitrange(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for ns in _namespaces_without(group, "LimitRange"):
        yield Violation(f"namespace {ns.name!r} has no LimitRange", ("metadata", "name"), obj=ns)


@rule(
    code="KV208",
    slug="namespace-without-resourcequota",
    title="Namespace has no ResourceQuota",
    category="resources",
    severity="low",
    scope="group",
    what="A Namespace defined in the input has no ResourceQuota in the same input.",
    why="A ResourceQuota bounds what the whole namespace may consume (CPU, memory, object "
    "counts), so a runaway deployment or a leak of PersistentVolumeClaims stays contained.",
    how_to_fix="Add a ResourceQuota to the namespace.",
    example_bad=_NAMESPACE,
    example_good=_NAMESPACE
    + """\
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: budget
  namespace: shop
spec:
  hard: {requests.cpu: "4", requests.memory: 8Gi, limits.memory: 16Gi}
""",
    unified=("check_49",),
    references=("https://kubernetes.io/docs/concepts/policy/resource-quotas/",),
    enabled_by_default=False,
)
def namespace_without_resourcequota(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for ns in _namespaces_without(group, "ResourceQuota"):
        yield Violation(f"namespace {ns.name!r} has no ResourceQuota", ("metadata", "name"), obj=ns)
