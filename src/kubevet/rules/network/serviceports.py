"""A Service spec the API server refuses (KV611): its ports and its selector.

The rules are Kubernetes' Service validation (pkg/apis/core/validation): with several
ports each is named, a name is a DNS-1123 label used once, a port and protocol pair
appears once, ports are 1-65535, a named `targetPort` is an IANA service name; selector
keys and values follow the label syntax (and are strings).
"""

from __future__ import annotations

from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject, Path
from kubevet.rules._helpers import as_list
from kubevet.rules.examples import EXAMPLE_SERVICE
from kubevet.rules.metadata import key_problem, label_value_problem
from kubevet.rules.registry import rule
from kubevet.rules.reliability.podspec import name_once, port_name_problem

_TWO_PORTS = EXAMPLE_SERVICE + "    - name: metrics\n      port: 9090\n"


@rule(
    code="KV611",
    slug="service-spec-refused",
    title="Service spec the API server refuses",
    category="network",
    severity="high",
    scope="object",
    kinds=("Service",),
    what="A Service with several ports leaves one unnamed, or names two alike, or a port "
    "name is not a DNS-1123 label; two ports share a port number and protocol; a port or "
    "numeric `targetPort` is outside 1-65535, or a named `targetPort` is not an IANA "
    "service name; or a selector key or value breaks the label syntax (an unquoted number "
    "or boolean included).",
    why="The API server refuses the Service: the release fails at apply time on what "
    "every other check passed. A second port added without a name is the usual cause.",
    how_to_fix="Name every port of a multi-port Service, once each, in lowercase letters, "
    "digits and `-`; give each port number one protocol entry; quote selector values.",
    example_bad=EXAMPLE_SERVICE + "    - port: 9090\n",
    example_good=_TWO_PORTS,
    references=("https://kubernetes.io/docs/concepts/services-networking/service/",),
)
def service_spec_refused(ctx: RuleContext, obj: K8sObject) -> list[Violation]:
    found: list[Violation] = []
    ports = as_list(obj.get(("spec", "ports")))
    names: set[str] = set()
    pairs: set[tuple[Any, str]] = set()
    for i, port in enumerate(ports):
        if isinstance(port, dict):
            _port(port, ("spec", "ports", i), len(ports) > 1, names, pairs, found)
    selector = obj.get(("spec", "selector"))
    if isinstance(selector, dict):
        for key, value in selector.items():
            _selector(str(key), value, ("spec", "selector", str(key)), found)
    return found


def _port(
    port: dict[str, Any],
    at: Path,
    several: bool,
    names: set[str],
    pairs: set[tuple[Any, str]],
    found: list[Violation],
) -> None:
    name = port.get("name")
    if not name and several:
        found.append(Violation("a port of a Service with several ports has no name", at))
    elif isinstance(name, str) and name:
        name_once(name, "port", (*at, "name"), names, found)
    number = port.get("port")
    if not _in_range(number):
        found.append(Violation(f"port {number!r} is not a number in 1-65535", (*at, "port")))
    protocol = str(port.get("protocol") or "TCP")
    if (number, protocol) in pairs:
        found.append(Violation(f"two ports are {number}/{protocol}", (*at, "port")))
    pairs.add((number, protocol))
    target = port.get("targetPort")
    if isinstance(target, str) and not target.isdigit() and port_name_problem(target):
        found.append(
            Violation(f"targetPort {target!r} is not an IANA service name", (*at, "targetPort"))
        )
    elif isinstance(target, int) and not _in_range(target):
        found.append(Violation(f"targetPort {target} is not in 1-65535", (*at, "targetPort")))


def _in_range(number: Any) -> bool:
    return isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= 65535


def _selector(key: str, value: Any, at: Path, found: list[Violation]) -> None:
    problem = key_problem(key)
    if problem:
        found.append(Violation(f"selector key {key!r} {problem}", at))
    if value is not None and not isinstance(value, str):
        found.append(Violation(f"selector {key!r} has a non-string value {value!r}: quote it", at))
    elif isinstance(value, str):
        problem = label_value_problem(value)
        if problem:
            message = f"selector {key!r} has the value {value!r}, which {problem}"
            found.append(Violation(message, at))
