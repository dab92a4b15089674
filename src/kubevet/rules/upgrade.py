"""Upgrade rules (KV7xx): APIs removed or deprecated at the target Kubernetes version.

The target is `kube-version` from config or `--kube-version`, else the newest release in
data/deprecations.yaml. `kubevet upgrade` gives the full answer (schema, audit logs,
rewrites); these rules put the same API findings into `kubevet check`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject
from kubevet.rules.examples import example_cronjob
from kubevet.rules.registry import rule
from kubevet.upgrade.table import ApiEntry, Version, fmt, load_table, version

_GUIDE = "Kubernetes Deprecated API Migration Guide: " + (
    "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"
)


_ENDPOINTS = """\
apiVersion: v1
kind: Endpoints
metadata:
  name: external-db
subsets:
  - addresses:
      - ip: 10.0.0.12
    ports:
      - port: 5432
"""

_SLICE = """\
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: external-db-1
  labels:
    kubernetes.io/service-name: external-db
addressType: IPv4
endpoints:
  - addresses: ["10.0.0.12"]
ports:
  - port: 5432
"""

_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1alpha1
      served: true
      storage: false
      deprecated: true
      deprecationWarning: "example.com/v1alpha1 Widget is deprecated; use example.com/v1"
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: example.com/VERSION
kind: Widget
metadata:
  name: blue
"""


def target_version(ctx: RuleContext) -> Version:
    """The configured target, else the newest release the table covers."""
    return _target(ctx.options.kube_version)


@functools.lru_cache(maxsize=16)  # asked for every object of the input
def _target(kube_version: str | None) -> Version:
    return version(kube_version) or load_table().newest


def _entry(ctx: RuleContext, obj: K8sObject) -> tuple[ApiEntry | None, Version]:
    return load_table().lookup(obj.api_version, obj.kind), target_version(ctx)


def _use(entry: ApiEntry, target: Version) -> str:
    repl = load_table().replacement_for(entry, target)
    if not repl:
        return entry.note or "no replacement"
    return f"use {repl} {entry.replacement_kind}" if entry.replacement_kind else f"use {repl}"


def _cronjob(api: str) -> str:
    return example_cronjob("backup", "registry.example.com/backup:1.4.2", None, api=api)


@rule(
    code="KV701",
    slug="removed-api",
    title="API version removed at the target Kubernetes version",
    category="upgrade",
    severity="high",
    scope="object",
    what="The object's apiVersion/kind is no longer served by the target Kubernetes version "
    "(removed at or before it, per the deprecated-API migration guide).",
    why="The API server rejects the object: applying the manifest or installing the chart "
    "fails after the cluster upgrade, and tools that read it back stop working.",
    how_to_fix="Move to the replacement API version and apply the schema changes the guide "
    "lists; `kubevet upgrade --to X --fix` rewrites manifests where the conversion is known.",
    example_bad=_cronjob("batch/v1beta1"),
    example_good=_cronjob("batch/v1"),
    unified=("check_51",),
    references=(_GUIDE,),
)
def removed_api(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    entry, target = _entry(ctx, obj)
    if entry is None or not entry.removed_at(target):
        return
    yield Violation(
        f"{entry.api_version} {entry.kind} is not served since Kubernetes "
        f"{fmt(entry.removed)} (target {fmt(target)}); {_use(entry, target)}",
        ("apiVersion",),
    )


@rule(
    code="KV702",
    slug="deprecated-api",
    title="API version deprecated at the target Kubernetes version",
    category="upgrade",
    severity="low",
    scope="object",
    what="The object's apiVersion/kind is deprecated at the target Kubernetes version but "
    "still served (its removal, if planned, comes later).",
    why="Deprecated APIs draw warnings on every request and are removed in a later release; "
    "moving early keeps the next upgrade unblocked.",
    how_to_fix="Move to the replacement API version before the removal release.",
    example_bad=_ENDPOINTS,
    example_good=_SLICE,
    unified=("check_51",),
    references=(_GUIDE,),
)
def deprecated_api(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    entry, target = _entry(ctx, obj)
    if entry is None or entry.removed_at(target) or not entry.deprecated_at(target):
        return
    later = f", removed in {fmt(entry.removed)}" if entry.removed else ""
    yield Violation(
        f"{entry.api_version} {entry.kind} is deprecated since Kubernetes "
        f"{fmt(entry.deprecated)}{later}; {_use(entry, target)}",
        ("apiVersion",),
    )


@rule(
    code="KV703",
    slug="deprecated-crd-version",
    title="Custom resource uses a version its CRD deprecates or no longer serves",
    category="upgrade",
    severity="medium",
    scope="group",
    what="A custom resource uses a version that its CustomResourceDefinition (among the "
    "inputs) marks `deprecated: true` or `served: false`.",
    why="Deprecated custom resource versions are removed by the operator's next releases; "
    "an unserved version is rejected by the API server now.",
    how_to_fix="Move the resource to the CRD's served, non-deprecated (storage) version.",
    example_bad=_CRD.replace("VERSION", "v1alpha1"),
    example_good=_CRD.replace("VERSION", "v1"),
    unified=("check_51",),
    references=("Kubernetes docs: Versions in CustomResourceDefinitions (version deprecation)",),
)
def deprecated_crd_version(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    from kubevet.upgrade.crd import crd_problem, crd_versions

    crds = crd_versions(group.objects)
    if not crds:
        return
    for obj in group.objects:
        message = crd_problem(obj, crds)
        if message:
            yield Violation(message, ("apiVersion",), obj=obj)
