"""Scaling and idle capacity (KV904-KV906, KV908): fixed replicas without an autoscaler,
non-production workloads that never scale down, finished Jobs kept, VPA against HPA."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Violation
from kubevet.footprint.workloads import (
    SCALABLE_KINDS,
    autoscalers_for,
    is_non_production,
    off_hours_schedule,
    scale_target,
)
from kubevet.model import K8sObject
from kubevet.rules._helpers import as_dict, set_fix
from kubevet.rules.examples import example_app, example_container, example_hpa
from kubevet.rules.options import Option
from kubevet.rules.registry import rule
from kubevet.rules.sustainability.sizes import CCF

_HPA = example_hpa("api", None, max_replicas=6)


@rule(
    code="KV904",
    slug="replicas-without-autoscaler",
    title="Fixed replica count above one and no autoscaler",
    category="sustainability",
    severity="low",
    scope="group",
    what="A Deployment, StatefulSet, ReplicaSet or ReplicationController runs more than one "
    "replica (`min-replicas`, default 2, or more) and no HorizontalPodAutoscaler, "
    "VerticalPodAutoscaler or KEDA ScaledObject in the same input targets it "
    "(matched by `scaleTargetRef` / `targetRef` kind and name, in the same namespace).",
    why="A fixed count is sized for the peak and runs at that size all day: every replica "
    "above the load's need draws idle power and holds reserved capacity. An HPA follows the "
    "load; a VPA right-sizes each replica.",
    how_to_fix="Add an HPA (or a KEDA ScaledObject) targeting the workload with minReplicas for "
    "the quiet hours, or a VPA (updateMode Off gives recommendations only). If the count is "
    "fixed by design (quorum), suppress with a reason.",
    example_bad=example_app(
        "api", example_container("api", "cpu: 250m, memory: 256Mi"), replicas=3
    ),
    example_good=example_app(
        "api", example_container("api", "cpu: 250m, memory: 256Mi"), replicas=3
    )
    + _HPA,
    references=(
        "Kubernetes: Horizontal Pod Autoscaling",
        "kubernetes/autoscaler: VerticalPodAutoscaler",
        CCF,
    ),
    options={
        "min_replicas": Option("integer", 2, "replica counts from here on need an autoscaler")
    },
)
def replicas_without_autoscaler(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    threshold = int(ctx.setting("min_replicas", 2))
    for kind in sorted(SCALABLE_KINDS):
        for obj in group.by_kind(kind):
            replicas = obj.get(("spec", "replicas"))
            if not isinstance(replicas, int) or replicas < threshold:
                continue
            if autoscalers_for(group, obj):
                continue
            yield Violation(
                f"{obj.kind} {obj.name!r} runs a fixed {replicas} replicas with no HPA, VPA or "
                "KEDA ScaledObject targeting it",
                ("spec", "replicas"),
                obj=obj,
            )


SCI = "Green Software Foundation, Software Carbon Intensity (ISO/IEC 21031:2024)"


@rule(
    code="KV905",
    slug="non-production-always-on",
    title="Non-production workload without off-hours scale-down",
    category="sustainability",
    severity="low",
    scope="group",
    what="A Deployment, StatefulSet, ReplicaSet or ReplicationController in a non-production "
    "namespace runs around the clock: no KEDA ScaledObject with a `cron` trigger targets it, and "
    "neither it nor its Namespace carries a kube-downscaler schedule (`downscaler/uptime`, "
    "`downscaler/downtime`, `downscaler/upscale-period`, `downscaler/downscale-period`; "
    '`downscaler/exclude: "true"` records a deliberate exception). A namespace is '
    "non-production when its name matches `settings.non-production-namespaces` (a regex; default: "
    "dev, test, staging, stage, preview, qa, uat, sandbox as a dash-separated word) or its "
    "Namespace object's `environment`/`env`/`stage` label value does "
    "(`settings.non-production-labels`).",
    why="Development, test and staging environments are used in working hours: about 60 of the "
    "168 hours of a week. Scaling them to zero outside those hours removes roughly two thirds of "
    "their energy and carbon, with no effect on anyone.",
    how_to_fix="Annotate the workload or its Namespace with kube-downscaler's "
    "`downscaler/uptime: Mon-Fri 08:00-20:00 Europe/Berlin`, or target it with a KEDA "
    "ScaledObject whose cron trigger sets desiredReplicas in working hours and "
    "minReplicaCount: 0 outside them.",
    example_bad=example_app("api", example_container("api", "cpu: 250m, memory: 256Mi"), "staging"),
    example_good=example_app(
        "api", example_container("api", "cpu: 250m, memory: 256Mi"), "staging"
    ).replace(
        "  namespace: staging\n",
        "  namespace: staging\n  annotations:\n"
        "    downscaler/uptime: Mon-Fri 08:00-20:00 Europe/Berlin\n",
    ),
    references=(
        "KEDA cron scaler: https://keda.sh/docs/scalers/cron/",
        "kube-downscaler annotations (caas-team/py-kube-downscaler)",
        SCI,
    ),
)
def non_production_always_on(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for kind in sorted(SCALABLE_KINDS):
        for obj in group.by_kind(kind):
            if obj.get(("spec", "replicas")) == 0:
                continue
            if not is_non_production(group, obj.namespace, ctx.options.settings):
                continue
            if off_hours_schedule(group, obj) is not None:
                continue
            yield Violation(
                f"{obj.kind} {obj.name!r} in non-production namespace {obj.namespace!r} has no "
                "off-hours scale-down (KEDA cron trigger or downscaler annotations)",
                ("metadata",),
                obj=obj,
            )


_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: registry.example.com/migrate:1.0
"""


_HELM_HOOK_DELETE = "helm.sh/hook-delete-policy"


def _cronjob_history(ctx: RuleContext, obj: K8sObject, spec: dict[str, Any]) -> Iterator[Violation]:
    if "ttlSecondsAfterFinished" in as_dict(as_dict(spec.get("jobTemplate")).get("spec")):
        return
    limit = int(ctx.setting("max_history", 10))
    keys = ("successfulJobsHistoryLimit", "failedJobsHistoryLimit")
    missing = [k for k in keys if not isinstance(spec.get(k), int)]
    if missing:
        yield Violation(
            f"CronJob {obj.name!r} sets no ttlSecondsAfterFinished and no {' or '.join(missing)}",
            ("spec", missing[0]),
        )
    for key in keys:
        value = spec.get(key)
        if isinstance(value, int) and value > limit:
            yield Violation(
                f"CronJob {obj.name!r} keeps {value} finished jobs ({key})", ("spec", key)
            )


@rule(
    code="KV906",
    slug="finished-jobs-kept",
    title="Finished Jobs are never cleaned up",
    category="sustainability",
    severity="low",
    scope="object",
    kinds=("Job", "CronJob"),
    what="A Job without `ttlSecondsAfterFinished` (and no Helm hook-delete-policy), or a CronJob "
    "whose job template has no `ttlSecondsAfterFinished` and that does not set both "
    "`successfulJobsHistoryLimit` and `failedJobsHistoryLimit`, or sets either above "
    "`max-history` (default 10).",
    why="Finished Jobs and their pods stay in etcd and in every list and watch of the control "
    "plane; a frequent CronJob with large history limits piles them up, costing API server "
    "memory and CPU for nothing.",
    how_to_fix="Set `spec.ttlSecondsAfterFinished` (for example 86400) on Jobs and on CronJob "
    "job templates, or explicit small history limits on the CronJob.",
    example_bad=_JOB,
    example_good=_JOB.replace(
        "spec:\n  template:", "spec:\n  ttlSecondsAfterFinished: 86400\n  template:"
    ),
    fix_applicability="unsafe",
    references=(
        "Kubernetes: Automatic Cleanup for Finished Jobs",
        "Kubernetes: CronJob jobs history limits",
    ),
    options={
        "max_history": Option("integer", 10, "the most finished jobs a CronJob may keep"),
        "ttl_seconds": Option("integer", 86400, "the ttlSecondsAfterFinished the fix sets"),
    },
)
def finished_jobs_kept(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    spec = as_dict(obj.data.get("spec"))
    if obj.kind == "Job":
        if "ttlSecondsAfterFinished" in spec or _HELM_HOOK_DELETE in obj.annotations:
            return
        if obj.metadata.get("ownerReferences"):
            return  # a CronJob's child; the CronJob is judged instead
        path = ("spec", "ttlSecondsAfterFinished")
        ttl = int(ctx.setting("ttl_seconds", 86400))
        yield Violation(
            f"Job {obj.name!r} has no ttlSecondsAfterFinished: it stays after finishing",
            path,
            fix=set_fix("unsafe", f"delete the Job {ttl}s after it finishes", (path, ttl)),
        )
        return
    yield from _cronjob_history(ctx, obj, spec)


_VPA = """\
---
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata:
  name: api
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  updatePolicy: {updateMode: Recreate}
"""


def _vpa_resources(spec: dict[str, Any]) -> set[str]:
    policies = as_dict(spec.get("resourcePolicy")).get("containerPolicies") or []
    controlled: set[str] = set()
    for p in policies if isinstance(policies, list) else []:
        p = as_dict(p)
        if p.get("mode") == "Off":
            continue
        controlled |= set(p.get("controlledResources") or ("cpu", "memory"))
    return controlled if policies else {"cpu", "memory"}


def _hpa_resources(hpa: K8sObject) -> set[str]:
    spec = as_dict(hpa.data.get("spec"))
    if not spec.get("metrics"):
        return {"cpu"}  # v1 scales on CPU only; v2 without metrics defaults to 80% CPU
    found = set()
    for m in spec.get("metrics") or []:
        m = as_dict(m)
        if m.get("type") in ("Resource", "ContainerResource"):
            found.add(str(as_dict(m.get("resource") or m.get("containerResource")).get("name")))
    return found


@rule(
    code="KV908",
    slug="vpa-fights-hpa",
    title="VPA and HPA both act on CPU or memory of one workload",
    category="sustainability",
    severity="medium",
    scope="group",
    what="A VerticalPodAutoscaler that updates pods (updateMode other than Off or Initial) "
    "controls CPU or memory of a workload that a HorizontalPodAutoscaler also scales on CPU or "
    "memory utilisation.",
    why="Utilisation is usage over request: the VPA moves the request, which moves the HPA's "
    "signal, which moves the replica count, which moves per-pod usage. The two loops chase "
    "each other, evicting and re-creating pods and over-provisioning in between.",
    how_to_fix="Let the HPA scale on a custom or external metric (requests per second, queue "
    "length), or set the VPA to updateMode Off (recommendations only) or restrict its "
    "controlledResources to the resource the HPA does not use.",
    example_bad=example_app("api", example_container("api", "cpu: 250m, memory: 256Mi"), replicas=2)
    + _HPA
    + _VPA,
    example_good=example_app(
        "api", example_container("api", "cpu: 250m, memory: 256Mi"), replicas=2
    )
    + _HPA
    + _VPA.replace("updateMode: Recreate", "updateMode: 'Off'"),
    references=(
        "kubernetes/autoscaler: VPA known limitations (do not use with HPA on CPU or memory)",
    ),
)
def vpa_fights_hpa(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for vpa in group.by_kind("VerticalPodAutoscaler"):
        spec = as_dict(vpa.data.get("spec"))
        mode = str(as_dict(spec.get("updatePolicy")).get("updateMode") or "Recreate")
        target = scale_target(vpa)
        if mode in ("Off", "Initial") or target is None:
            continue
        vpa_resources = _vpa_resources(spec)
        for hpa in group.by_kind("HorizontalPodAutoscaler"):
            if scale_target(hpa) != target or (hpa.namespace or None) != (vpa.namespace or None):
                continue
            shared = sorted(vpa_resources & _hpa_resources(hpa))
            if shared:
                yield Violation(
                    f"VPA {vpa.name!r} (updateMode {mode}) and HPA {hpa.name!r} both act on "
                    f"{', '.join(shared)} of {target[0]} {target[1]!r}",
                    ("spec", "updatePolicy", "updateMode"),
                    obj=vpa,
                )
