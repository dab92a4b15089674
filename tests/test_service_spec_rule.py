"""KV611: Service specs the API server refuses."""

from __future__ import annotations

import pytest

from kubevet.api import check_yaml


def hits(spec: str) -> list[tuple[str, str]]:
    text = f"apiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: n}}\nspec:\n{spec}"
    return sorted((f.path_text, f.message) for f in check_yaml(text, select=["KV611"]))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("  ports: [{port: 80}]\n", []),  # one port needs no name
        (
            "  ports: [{name: http, port: 80}, {port: 81}]\n",
            [("spec.ports[1]", "a port of a Service with several ports has no name")],
        ),
        (
            "  ports: [{name: http, port: 80}, {name: http, port: 81}]\n",
            [("spec.ports[1].name", "two ports are named 'http'")],
        ),
        (
            "  ports: [{name: Web_Port, port: 80}]\n",
            [("spec.ports[0].name", "port name 'Web_Port' is not a DNS-1123 label")],
        ),
        (
            "  ports: [{name: a, port: 53}, {name: b, port: 53, protocol: UDP},"
            " {name: c, port: 53}]\n",
            [("spec.ports[2].port", "two ports are 53/TCP")],
        ),
        (
            "  ports: [{name: a, port: 0}, {name: b, port: 80, targetPort: 70000},"
            " {name: c, port: 81, targetPort: metrics_port}, {name: d, port: 82,"
            " targetPort: '8080'}]\n",
            [
                ("spec.ports[0].port", "port 0 is not a number in 1-65535"),
                ("spec.ports[1].targetPort", "targetPort 70000 is not in 1-65535"),
                (
                    "spec.ports[2].targetPort",
                    "targetPort 'metrics_port' is not an IANA service name",
                ),
            ],
        ),
        (
            "  selector: {app: web, version: 2, tier: 'front end'}\n  ports: [{port: 80}]\n",
            [
                (
                    "spec.selector.tier",
                    "selector 'tier' has the value 'front end', which is not a label value "
                    "(at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a "
                    "letter or digit)",
                ),
                ("spec.selector.version", "selector 'version' has a non-string value 2: quote it"),
            ],
        ),
    ],
)
def test_refused_services(spec, expected):
    assert hits(spec) == expected
