"""The Services an Ingress routes to, shared by reachability (netpol) and the rules."""

from __future__ import annotations

from typing import Any

from kubevet.model import K8sObject, Path


def ingress_backends(obj: K8sObject) -> list[tuple[Path, str, Any]]:
    """(path, Service name, port number or name or None) of each Service backend of an
    Ingress: `defaultBackend` and each rule path, in the networking.k8s.io/v1 form
    (`service.name`, `service.port.number` or `.name`) or the older one (`backend`,
    `serviceName`, `servicePort`). Resource backends name no Service and are left out."""
    spec = _dict(obj.data.get("spec"))
    found: list[tuple[Path, Any]] = [
        (("spec", key), spec[key]) for key in ("defaultBackend", "backend") if key in spec
    ]
    for i, rule in enumerate(_list(spec.get("rules"))):
        for j, path in enumerate(_list(_dict(_dict(rule).get("http")).get("paths"))):
            at: Path = ("spec", "rules", i, "http", "paths", j, "backend")
            found.append((at, _dict(path).get("backend")))
    out: list[tuple[Path, str, Any]] = []
    for at, raw in found:
        backend = _dict(raw)
        service = _dict(backend.get("service"))
        if service.get("name"):
            port = _dict(service.get("port"))
            number_or_name = port.get("number", port.get("name"))
            out.append(((*at, "service"), str(service["name"]), number_or_name))
        elif backend.get("serviceName"):
            out.append((at, str(backend["serviceName"]), backend.get("servicePort")))
    return out


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
