"""Services and Ingresses (KV602-KV604): what the input exposes, and to whom."""

from __future__ import annotations

from collections.abc import Iterator

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Edit, Fix, Violation
from kubevet.model import K8sObject
from kubevet.rules._helpers import as_dict, as_list
from kubevet.rules.examples import EXAMPLE_SERVICE, example_deployment, example_ingress
from kubevet.rules.options import Option
from kubevet.rules.registry import rule
from kubevet.selectors import label_value

_SERVICE = EXAMPLE_SERVICE
_DEPLOYMENT = "---\n" + example_deployment(pod_labels="{app: web, tier: frontend}")


@rule(
    code="KV602",
    slug="nodeport-service",
    title="Service of type NodePort",
    category="network",
    severity="medium",
    scope="object",
    kinds=("Service",),
    what="A Service sets `spec.type: NodePort`.",
    why="A NodePort opens the port on every node of the cluster, on every node address, "
    "bypassing the ingress layer and any load balancer's filtering; node IPs then become "
    "part of the attack surface.",
    how_to_fix="Use `ClusterIP` behind an Ingress or Gateway, or a `LoadBalancer` Service.",
    example_bad=_SERVICE.replace("spec:\n", "spec:\n  type: NodePort\n")
    + "      nodePort: 30080\n",
    example_good=_SERVICE.replace("spec:\n", "spec:\n  type: ClusterIP\n"),
    fix_applicability="unsafe",
    unified=("check_56",),
    references=("https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport",),
)
def nodeport_service(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    if obj.get(("spec", "type")) != "NodePort":
        return
    edits = [Edit("set", ("spec", "type"), "ClusterIP")]
    for i, port in enumerate(as_list(obj.get(("spec", "ports")))):
        if isinstance(port, dict) and "nodePort" in port:
            edits.append(Edit("remove", ("spec", "ports", i, "nodePort")))
    # Fields the API server rejects on a ClusterIP Service go with the type.
    for name in ("externalTrafficPolicy", "healthCheckNodePort"):
        if obj.get(("spec", name)) is not None:
            edits.append(Edit("remove", ("spec", name)))
    yield Violation(
        "Service is of type NodePort: its ports open on every node",
        ("spec", "type"),
        fix=Fix("unsafe", "make the Service ClusterIP", tuple(edits)),
    )


def pod_templates(group: InputGroup) -> Iterator[tuple[K8sObject, dict[str, object]]]:
    """(object, pod labels) for every object of the input that runs pods."""
    for obj in group.objects:
        if obj.pod is not None and obj.kind != "PodTemplate":
            yield obj, as_dict(obj.pod.metadata.get("labels"))


@rule(
    code="KV603",
    slug="dangling-service",
    title="Service selects no pod of the input",
    category="network",
    severity="low",
    scope="group",
    what="A Service with a `selector` matches the labels of no pod template in the input "
    "(same namespace). Skipped: Services without a selector (endpoints managed by hand or by "
    "a controller), ExternalName Services, Services in a namespace where the input runs no "
    "pods at all (for example a chart's Services for kube-system components), and Services "
    "whose selector names a custom resource of the input (pods an operator creates from a "
    "Prometheus or Alertmanager object, say).",
    why="A Service that selects nothing has no endpoints: clients get connection refused. "
    "It is usually a label typo, or a selector left behind after the pods' labels changed. "
    "Pods that a controller creates without a custom resource of the input are invisible "
    "here: suppress the finding with that reason.",
    how_to_fix="Make the selector a subset of the pod template's labels.",
    example_bad=_SERVICE
    + _DEPLOYMENT.replace("{app: web, tier", "{app: webapp, tier").replace(
        "matchLabels: {app: web}", "matchLabels: {app: webapp}"
    ),
    example_good=_SERVICE + _DEPLOYMENT,
    unified=("check_57",),
    references=("https://kubernetes.io/docs/concepts/services-networking/service/",),
)
def dangling_service(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    # Which pod templates carry each (namespace, label, value), built once per group: a
    # Service then matches a template iff one template is in the sets of all its pairs.
    templates = list(pod_templates(group))
    carriers: dict[tuple[str | None, str, str], set[int]] = {}
    for index, (obj, labels) in enumerate(templates):
        have = {str(k): label_value(v) for k, v in labels.items()}
        for pair in have.items():
            carriers.setdefault((obj.namespace, *pair), set()).add(index)
    namespaces = {obj.namespace for obj, _ in templates}
    custom_names = {o.name for o in group.objects if _is_custom_resource(o)}
    for svc in group.by_kind("Service"):
        selector = as_dict(svc.get(("spec", "selector")))
        if not selector or svc.get(("spec", "type")) == "ExternalName":
            continue
        if svc.namespace not in namespaces or custom_names & {str(v) for v in selector.values()}:
            continue  # pods of another input, or made by an operator from a custom resource
        if not _selects_one(carriers, svc.namespace, selector):
            shown = ", ".join(f"{k}={v}" for k, v in selector.items())
            yield Violation(
                f"selector {shown} matches no pod template in the input",
                ("spec", "selector"),
                obj=svc,
            )


def _selects_one(
    carriers: dict[tuple[str | None, str, str], set[int]],
    namespace: str | None,
    selector: dict[str, object],
) -> bool:
    """Whether one pod template of `namespace` has every label of `selector`."""
    common: set[int] | None = None
    for k, v in selector.items():
        having = carriers.get((namespace, str(k), label_value(v)))
        if not having:
            return False
        common = having if common is None else common & having
        if not common:
            return False
    return True


def _is_custom_resource(obj: K8sObject) -> bool:
    """An object of an API group outside Kubernetes' own (`*.k8s.io` and the core groups)."""
    group_name = obj.api_version.rpartition("/")[0]
    return "." in group_name and not group_name.endswith(".k8s.io")


def _permissive(host: str) -> bool:
    """`*`, or a wildcard directly over a top-level domain such as `*.com`."""
    host = host.strip()
    return host == "*" or (host.startswith("*.") and "." not in host[2:])


@rule(
    code="KV604",
    slug="ingress-wildcard-host",
    title="Ingress host is a permissive wildcard",
    category="network",
    severity="medium",
    scope="object",
    kinds=("Ingress",),
    what="An Ingress rule's `host` is `*` or a wildcard directly over a top-level domain "
    "(`*.com`); with the option `missing_host: true`, a rule without a host (a catch-all) "
    "too. Wildcards over your own domain (`*.example.com`) are fine.",
    why="Such a rule routes any host name to the backend: traffic meant for other "
    "applications on the same controller, and requests with forged Host headers, reach it.",
    how_to_fix="Name the hosts the application serves, or a wildcard under your own domain.",
    example_bad=example_ingress(host="*"),
    example_good=example_ingress(),
    unified=("check_66",),
    references=(
        "https://kubernetes.io/docs/concepts/services-networking/ingress/#hostname-wildcards",
    ),
    options={
        "missing_host": Option(
            "boolean", False, "also report rules without a host (they match every host)"
        )
    },
)
def ingress_wildcard_host(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    for i, r in enumerate(as_list(obj.get(("spec", "rules")))):
        host = as_dict(r).get("host")
        if host is None or host == "":
            if ctx.setting("missing_host", False):
                yield Violation(
                    f"rule {i} has no host: it matches every host", ("spec", "rules", i)
                )
        elif _permissive(str(host)):
            yield Violation(
                f"host {host!r} matches far more than this application's names",
                ("spec", "rules", i, "host"),
            )
