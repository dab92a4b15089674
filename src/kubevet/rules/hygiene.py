"""Namespaces and labels (KV8xx)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet import lazy_compile
from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.model import WORKLOAD_KINDS, K8sObject
from kubevet.rules.examples import example_deployment
from kubevet.rules.options import Option
from kubevet.rules.registry import rule

# Namespaced kinds where landing in `default` is a mistake worth reporting.
NAMESPACED_KINDS = WORKLOAD_KINDS | {
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "Ingress",
    "PersistentVolumeClaim",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
}


def _deployment(namespace: str = "shop", labels: dict[str, str] | None = None) -> str:
    shown = "".join(f"    {k}: {v}\n" for k, v in (labels or {"app": "web"}).items())
    return example_deployment(namespace=namespace, metadata="  labels:\n" + shown)


@rule(
    code="KV801",
    slug="default-namespace",
    title="Object in the default namespace",
    category="hygiene",
    severity="low",
    scope="object",
    kinds=NAMESPACED_KINDS,
    what="A workload, Service, ConfigMap, Secret, RBAC object or similar sets "
    "`metadata.namespace: default`, or (in plain manifests and Kustomize output) sets no "
    "namespace. Objects rendered from a Helm chart are reported only when the chart "
    "hard-codes `default` while rendered for another release namespace: Helm puts them in "
    "the release namespace chosen at install time, and `{{ .Release.Namespace }}` renders "
    "as `default` unless one is given (Checkov skips this check for Helm for the same "
    "reason).",
    why="The default namespace is shared by everything deployed without thought: RBAC, "
    "network policies, quotas and limit ranges scoped to it cover unrelated applications, "
    "and a mistaken `kubectl delete` there hits them all.",
    how_to_fix="Set `metadata.namespace` to the application's own namespace (or set "
    "`namespace:` in the kustomization).",
    example_bad=_deployment("default"),
    example_good=_deployment("shop"),
    unified=("check_26",),
    references=(
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/",
        "CIS Kubernetes Benchmark 5.7.4",
    ),
)
def default_namespace(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    ns = obj.metadata.get("namespace")
    if ctx.group.source == "chart":
        # `{{ .Release.Namespace }}` renders as the release namespace: only a `default`
        # that differs from it is hard-coded in the chart.
        if ns == "default" and obj.default_namespace not in (None, "default"):
            yield Violation("chart hard-codes the default namespace", ("metadata", "namespace"))
    elif ns == "default":
        yield Violation("object is in the default namespace", ("metadata", "namespace"))
    elif not ns:
        yield Violation(
            "object sets no namespace: it lands in the default namespace unless one is "
            "given at apply time",
            ("metadata",),
        )


# A label value: empty, or up to 63 of [A-Za-z0-9_.-] starting and ending alphanumeric.
_LABEL_VALUE = lazy_compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$")
RECOMMENDED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance")


def _valid_value(value: Any) -> bool:
    return isinstance(value, str) and bool(_LABEL_VALUE.match(value))


@rule(
    code="KV802",
    slug="recommended-labels",
    title="Workload lacks recommended labels",
    category="hygiene",
    severity="info",
    scope="object",
    kinds=WORKLOAD_KINDS,
    what="A workload lacks one of the configured recommended labels (option `labels`, by "
    "default `app.kubernetes.io/name` and `app.kubernetes.io/instance`), or one of them has "
    "a value that is not a valid label value.",
    why="Tools (dashboards, cost reports, `kubectl` queries, network and disruption policies) "
    "group objects by these labels; without them an object cannot be attributed to its "
    "application.",
    how_to_fix="Add the labels to `metadata.labels` (Helm charts usually do so in a "
    "`labels` helper template).",
    example_bad=_deployment(),
    example_good=_deployment(
        labels={"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web-prod"}
    ),
    unified=("check_43",),
    references=(
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/",
    ),
    enabled_by_default=False,
    options={
        "labels": Option(
            "string-list", list(RECOMMENDED_LABELS), "the label keys every workload must carry"
        )
    },
)
def recommended_labels(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    labels = obj.labels
    wanted = [str(k) for k in ctx.setting("labels", RECOMMENDED_LABELS)]
    missing = [k for k in wanted if k not in labels]
    if missing:
        yield Violation(f"missing label(s): {', '.join(missing)}", ("metadata", "labels"))
    for key in wanted:
        if key in labels and not _valid_value(labels[key]):
            yield Violation(
                f"label {key} has an invalid value {labels[key]!r}", ("metadata", "labels", key)
            )


@rule(
    code="KV803",
    slug="owner-label",
    title="Workload has no owner label",
    category="hygiene",
    severity="info",
    scope="object",
    kinds=WORKLOAD_KINDS,
    what="A workload has no owner label (option `label`, default `owner`), or it is empty.",
    why="When something breaks at 3 a.m., the on-call engineer needs to know whom to call; "
    "cost and security reports need an owner to route findings to.",
    how_to_fix="Add the owner label (a team name) to `metadata.labels`.",
    example_bad=_deployment(),
    example_good=_deployment(labels={"app": "web", "owner": "team-shop"}),
    unified=("check_46",),
    enabled_by_default=False,
    options={"label": Option("string", "owner", "the label key naming the owner")},
)
def owner_label(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    key = str(ctx.setting("label", "owner"))
    if not obj.labels.get(key):
        yield Violation(f"no {key!r} label", ("metadata", "labels"))
