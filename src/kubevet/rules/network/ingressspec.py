"""A networking.k8s.io/v1 Ingress the API server refuses (KV612): the v1beta1 shapes a
migration leaves behind.

The rules are Kubernetes' Ingress validation for v1 (pkg/apis/networking/validation): each
HTTP path has a `pathType` (Exact, Prefix or ImplementationSpecific) and a path that starts
with `/`; each backend names a `service` (with a port number or name) or a `resource`. The
v1beta1 fields `serviceName` and `servicePort` are not v1 fields: the backend they were
meant to fill is empty.
"""

from __future__ import annotations

from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject, Path
from kubevet.rules._helpers import as_dict, as_list
from kubevet.rules.examples import example_ingress
from kubevet.rules.registry import rule

PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")
_GOOD = example_ingress()


def _bad() -> str:
    """The example with its path's pathType left out (as a v1beta1 Ingress had it)."""
    return "".join(line for line in _GOOD().splitlines(True) if "pathType:" not in line)


@rule(
    code="KV612",
    slug="ingress-spec-refused",
    title="networking.k8s.io/v1 Ingress the API server refuses",
    category="network",
    severity="high",
    scope="object",
    kinds=("Ingress",),
    what="A `networking.k8s.io/v1` Ingress path has no `pathType` (or one other than Exact, "
    "Prefix and ImplementationSpecific), or a path that does not start with `/`; or a "
    "backend names neither a `service` (with a port number or name) nor a `resource`, "
    "often because it still uses the v1beta1 fields `serviceName` and `servicePort`.",
    why="The API server refuses the Ingress: the release fails at apply time on what every "
    "other check passed. These are the shapes a move from `extensions/v1beta1` or "
    "`networking.k8s.io/v1beta1` to `v1` leaves behind.",
    how_to_fix="Give each path a `pathType` (Prefix for most) and a path starting with `/`; "
    "write backends as `service: {name: NAME, port: {number: N}}` (or `port: {name: P}`).",
    example_bad=_bad,
    example_good=_GOOD,
    references=("https://kubernetes.io/docs/concepts/services-networking/ingress/",),
)
def ingress_spec_refused(ctx: RuleContext, obj: K8sObject) -> list[Violation]:
    if obj.api_version != "networking.k8s.io/v1":
        return []  # older versions had other rules (and KV701 reports them removed)
    found: list[Violation] = []
    spec = as_dict(obj.get(("spec",)))
    if "defaultBackend" in spec:
        _backend(spec["defaultBackend"], ("spec", "defaultBackend"), found)
    for i, r in enumerate(as_list(spec.get("rules"))):
        http = as_dict(as_dict(r).get("http"))
        for j, p in enumerate(as_list(http.get("paths"))):
            if isinstance(p, dict):
                _path(p, ("spec", "rules", i, "http", "paths", j), found)
    return found


def _path(p: dict[str, Any], at: Path, found: list[Violation]) -> None:
    kind = p.get("pathType")
    if kind not in PATH_TYPES:
        problem = "has no pathType" if kind is None else f"has pathType {kind!r}"
        found.append(
            Violation(
                f"path {p.get('path', '/')!r} {problem} (Exact, Prefix or ImplementationSpecific)",
                (*at, "pathType"),
            )
        )
    path = p.get("path")
    if isinstance(path, str) and path and not path.startswith("/"):
        found.append(Violation(f"path {path!r} does not start with /", (*at, "path")))
    _backend(p.get("backend"), (*at, "backend"), found)


def _backend(backend: Any, at: Path, found: list[Violation]) -> None:
    b = as_dict(backend)
    service, resource = as_dict(b.get("service")), b.get("resource")
    old = [k for k in ("serviceName", "servicePort") if k in b]
    if old and not service:
        found.append(
            Violation(
                f"backend uses the v1beta1 field(s) {', '.join(old)}, which v1 does not have: "
                "write service: {name: ..., port: {number: ...}}",
                (*at, old[0]),
            )
        )
    elif not service and not resource:
        found.append(Violation("backend names no service and no resource", at))
    elif service:
        port = as_dict(service.get("port"))
        if not service.get("name") or not (port.get("number") or port.get("name")):
            found.append(
                Violation(
                    "backend service needs a name and a port number or name", (*at, "service")
                )
            )
