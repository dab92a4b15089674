"""Ingress backends that name no Service or port of the input (KV609).

Like every cross-object rule, it sees one input (a chart render, a file set): a backend is
checked only when the input holds Services in the Ingress's namespace, so an Ingress
checked alone, whose Services live in another input, is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.backends import ingress_backends
from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject
from kubevet.rules._helpers import as_dict, as_list
from kubevet.rules.examples import EXAMPLE_SERVICE, example_ingress
from kubevet.rules.registry import rule

_SERVICE = "---\n" + EXAMPLE_SERVICE


def _service_port_problem(svc: K8sObject, port: Any) -> str | None:
    """Why a backend's port (number, name or None) names no port of the Service."""
    if port is None or svc.get(("spec", "type")) == "ExternalName":
        return None  # ExternalName: the port is the external host's, not declared here
    ports = [as_dict(p) for p in as_list(svc.get(("spec", "ports")))]
    if isinstance(port, int) and not isinstance(port, bool):
        if any(p.get("port") == port for p in ports):
            return None
        return f"Service {svc.name!r} has no port {port}"
    if any(p.get("name") == str(port) for p in ports):
        return None
    return f"Service {svc.name!r} has no port named {port!r}"


@rule(
    code="KV609",
    slug="ingress-backend-missing",
    title="Ingress backend names no Service or port of the input",
    category="network",
    severity="medium",
    scope="group",
    what="An Ingress backend (`defaultBackend` or a rule path; `service.name` and "
    "`service.port`, or the older `serviceName`/`servicePort`) names a Service that is not "
    "in the input in the Ingress's namespace, or a port number or port name that Service "
    "does not declare (`spec.ports[].port` and `.name`; an ExternalName Service's ports are "
    "not checked). Checked only when the input holds at least one Service in the Ingress's "
    "namespace: an Ingress checked alone may route to Services of another input. Resource "
    "backends are not checked.",
    why="The controller has no endpoints for such a backend: every request on that path "
    "gets a 503 (ingress-nginx) or a 502/404 from other controllers. It is usually a "
    "renamed Service or a port renumbered on one side only.",
    how_to_fix="Name the Service and one of its declared ports (by number or by name).",
    example_bad=example_ingress(port={"number": 8080}) + _SERVICE,
    example_good=example_ingress(port={"name": "http"}) + _SERVICE,
    references=("https://kubernetes.io/docs/concepts/services-networking/ingress/",),
)
def ingress_backend_missing(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    service_namespaces = {svc.namespace for svc in group.by_kind("Service")}
    for ing in group.by_kind("Ingress"):
        if ing.namespace not in service_namespaces:
            continue  # no Service of this namespace in the input: another input's
        for path, name, port in ingress_backends(ing):
            svc = group.find("Service", name, ing.namespace)
            if svc is None:
                yield Violation(f"backend Service {name!r} is not in the input", path, obj=ing)
            elif problem := _service_port_problem(svc, port):
                yield Violation(problem, path, obj=ing)
