"""KV612: networking.k8s.io/v1 Ingresses the API server refuses."""

from __future__ import annotations

import pytest

from kubevet.api import check_yaml


def hits(paths: str, api: str = "networking.k8s.io/v1", extra: str = "") -> list[tuple[str, str]]:
    text = (
        f"apiVersion: {api}\nkind: Ingress\nmetadata: {{name: i, namespace: n}}\nspec:\n{extra}"
        f"  rules:\n  - host: a.example.com\n    http:\n      paths:\n{paths}"
    )
    return sorted((f.path_text, f.message) for f in check_yaml(text, select=["KV612"]))


SERVICE = "        backend: {service: {name: web, port: {number: 80}}}\n"
AT = "spec.rules[0].http.paths[0]"


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ("      - path: /\n        pathType: Prefix\n" + SERVICE, []),
        (
            "      - path: /\n" + SERVICE,
            [
                (
                    f"{AT}.pathType",
                    "path '/' has no pathType (Exact, Prefix or ImplementationSpecific)",
                )
            ],
        ),
        (
            "      - path: /\n        pathType: prefix\n" + SERVICE,
            [
                (
                    f"{AT}.pathType",
                    "path '/' has pathType 'prefix' (Exact, Prefix or ImplementationSpecific)",
                )
            ],
        ),
        (
            "      - path: api\n        pathType: Exact\n" + SERVICE,
            [(f"{AT}.path", "path 'api' does not start with /")],
        ),
        (
            "      - path: /\n        pathType: Prefix\n"
            "        backend: {serviceName: web, servicePort: 80}\n",
            [
                (
                    f"{AT}.backend.serviceName",
                    "backend uses the v1beta1 field(s) serviceName, servicePort, which v1 does "
                    "not have: write service: {name: ..., port: {number: ...}}",
                )
            ],
        ),
        (
            "      - path: /\n        pathType: Prefix\n        backend: {service: {name: web}}\n",
            [(f"{AT}.backend.service", "backend service needs a name and a port number or name")],
        ),
        (
            "      - path: /\n        pathType: Prefix\n        backend: {}\n",
            [(f"{AT}.backend", "backend names no service and no resource")],
        ),
        (
            "      - path: /\n        pathType: Prefix\n"
            "        backend: {resource: {apiGroup: k8s.example.com, kind: Bucket, name: b}}\n",
            [],
        ),
    ],
)
def test_refused_v1_ingresses(paths, expected):
    assert hits(paths) == expected


def test_older_ingress_versions_are_left_to_their_own_rules():
    old = "      - path: /\n        backend: {serviceName: web, servicePort: 80}\n"
    assert hits(old, api="networking.k8s.io/v1beta1") == []


def test_a_default_backend_is_checked_too():
    found = hits(
        "      - path: /\n        pathType: Prefix\n" + SERVICE,
        extra="  defaultBackend: {serviceName: web, servicePort: 80}\n",
    )
    assert [p for p, _ in found] == ["spec.defaultBackend.serviceName"]
