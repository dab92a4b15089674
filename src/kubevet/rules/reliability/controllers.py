"""Controller settings (KV306, KV309-KV313): restart policies, StatefulSet services and
claims, CronJob deadlines, unmanaged Pods, duplicate environment variables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubevet.context import InputGroup, RuleContext
from kubevet.findings import Edit, Violation
from kubevet.model import ContainerView, K8sObject, PodSpecView
from kubevet.rules._helpers import as_dict, as_list, edit_fix, set_fix
from kubevet.rules.examples import EXAMPLE_DEPLOYMENT as _DEPLOYMENT
from kubevet.rules.examples import example_cronjob
from kubevet.rules.options import Option
from kubevet.rules.registry import rule
from kubevet.rules.reliability.kinds import (
    LONG_RUNNING_KINDS,
    RUN_TO_COMPLETION_KINDS,
    is_helm_hook,
)
from kubevet.selectors import matches_map

VALID_RESTART = frozenset({"Always", "OnFailure", "Never"})


def _restart_problem(kind: str, policy: Any) -> tuple[str, str] | None:
    """(message, fixed value) when the pod's restartPolicy is wrong for its controller."""
    if kind in RUN_TO_COMPLETION_KINDS:
        if policy in ("OnFailure", "Never"):
            return None
        shown = "unset (Always)" if policy is None else repr(policy)
        return f"restartPolicy is {shown}; a {kind} needs OnFailure or Never", "OnFailure"
    if kind in LONG_RUNNING_KINDS:
        if policy in (None, "Always"):
            return None
        return f"restartPolicy is {policy!r}; a {kind} accepts only Always", "Always"
    if policy is None or policy in VALID_RESTART:
        return None
    return f"restartPolicy {policy!r} is not Always, OnFailure or Never", "Always"


@rule(
    code="KV306",
    slug="restart-policy",
    title="Pod restartPolicy invalid for its controller",
    category="reliability",
    severity="medium",
    scope="pod",
    what="The pod template's `restartPolicy` is not what its controller accepts: Always for "
    "Deployments, StatefulSets, DaemonSets and ReplicaSets; OnFailure or Never (it must be "
    "set) for Jobs and CronJobs; one of the three for bare Pods.",
    why="The API server rejects such a workload, so the release fails at apply time rather "
    "than in review.",
    how_to_fix="Remove `restartPolicy` (or set Always) on long-running controllers; set "
    "`restartPolicy: OnFailure` or `Never` on Jobs and CronJobs.",
    example_bad=_DEPLOYMENT + "      restartPolicy: Never\n",
    example_good=_DEPLOYMENT + "      restartPolicy: Always\n",
    fix_applicability="unsafe",
    unified=("check_44",),
    references=(
        "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy",
    ),
)
def restart_policy(ctx: RuleContext, obj: K8sObject, pod: PodSpecView) -> Iterator[Violation]:
    problem = _restart_problem(obj.kind, pod.spec.get("restartPolicy"))
    if problem is None:
        return
    message, value = problem
    path = (*pod.path, "restartPolicy")
    yield Violation(
        message, path, fix=set_fix("unsafe", f"set restartPolicy: {value}", (path, value))
    )


_STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
  serviceName: db-headless
  replicas: 1
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: db
          image: postgres:16.4
"""


_HEADLESS = """\
---
apiVersion: v1
kind: Service
metadata:
  name: db-headless
  namespace: shop
spec:
  clusterIP: None
  selector: {app: db}
  ports:
    - port: 5432
"""


def _service_problem(svc: K8sObject | None, name: str, labels: dict[str, Any]) -> str | None:
    if svc is None:
        return f"serviceName {name!r} names no Service in the input"
    if svc.get(("spec", "clusterIP")) != "None":
        return f"Service {name!r} is not headless (clusterIP: None)"
    if not matches_map(as_dict(svc.get(("spec", "selector"))), labels):
        return f"headless Service {name!r} does not select the StatefulSet's pods"
    return None


@rule(
    code="KV309",
    slug="statefulset-service-name",
    title="StatefulSet serviceName is not a headless Service of the input",
    category="reliability",
    severity="low",
    scope="group",
    what="A StatefulSet's `spec.serviceName` is unset, names no Service in the input (same "
    "namespace), names a Service that is not headless, or one whose selector does not match "
    "the StatefulSet's pod labels.",
    why="The governing headless Service gives each replica its stable DNS name "
    "(`db-0.db-headless`); peers and clients of clustered databases rely on it, and without "
    "it they cannot find each other.",
    how_to_fix="Add a Service with `clusterIP: None` selecting the pods, and set "
    "`spec.serviceName` to its name.",
    example_bad=_STATEFULSET,
    example_good=_STATEFULSET + _HEADLESS,
    unified=("check_53",),
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#stable-network-id",
    ),
)
def statefulset_service_name(ctx: RuleContext, group: InputGroup) -> Iterator[Violation]:
    for sts in group.by_kind("StatefulSet"):
        name = sts.get(("spec", "serviceName"))
        if not name:
            yield Violation("StatefulSet sets no serviceName", ("spec", "serviceName"), obj=sts)
            continue
        labels = as_dict(sts.pod.metadata.get("labels")) if sts.pod else {}
        problem = _service_problem(group.find("Service", str(name), sts.namespace), name, labels)
        if problem:
            yield Violation(problem, ("spec", "serviceName"), obj=sts)


@rule(
    code="KV310",
    slug="statefulset-volume-claim-storage",
    title="StatefulSet claims persistent storage (review)",
    category="reliability",
    severity="info",
    scope="object",
    kinds=("StatefulSet",),
    what="A StatefulSet's `volumeClaimTemplates` request storage; one finding per template, "
    "for review.",
    why="Each replica gets its own PersistentVolumeClaim, which outlives the StatefulSet and "
    "cannot be resized through the template later: size, storage class and retention "
    "(`persistentVolumeClaimRetentionPolicy`) deserve a deliberate decision.",
    how_to_fix="Review the requested size and storage class; suppress the finding with a "
    "reason once reviewed.",
    example_bad=_STATEFULSET
    + """\
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 10Gi
""",
    example_good=_STATEFULSET,
    unified=("check_52",),
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/"
        "#volume-claim-templates",
    ),
    enabled_by_default=False,
)
def statefulset_volume_claim_storage(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    for index, tpl in enumerate(as_list(obj.get(("spec", "volumeClaimTemplates")))):
        size = as_dict(as_dict(as_dict(tpl).get("spec")).get("resources")).get("requests")
        storage = as_dict(size).get("storage")
        if storage is not None:
            name = as_dict(as_dict(tpl).get("metadata")).get("name", f"#{index}")
            path = ("spec", "volumeClaimTemplates", index, "spec", "resources", "requests")
            yield Violation(
                f"claim template {name!r} requests {storage} per replica", (*path, "storage")
            )


_CRONJOB = example_cronjob("report", "busybox:1.36", "shop")


@rule(
    code="KV311",
    slug="cronjob-starting-deadline",
    title="CronJob has no startingDeadlineSeconds",
    category="reliability",
    severity="low",
    scope="object",
    kinds=("CronJob",),
    what="A CronJob does not set `spec.startingDeadlineSeconds`.",
    why="Without a deadline the controller counts every missed schedule since the last run; "
    "after more than 100 misses (controller downtime, a long suspension) it stops starting "
    "the job and only logs an error. A deadline also keeps a late run from starting hours "
    "after its slot.",
    how_to_fix="Set `startingDeadlineSeconds` to how late a run may still start (at least 10 "
    "seconds; the controller checks every 10 seconds).",
    example_bad=_CRONJOB,
    example_good=_CRONJOB.replace(
        '  schedule: "0 3 * * *"\n', '  schedule: "0 3 * * *"\n  startingDeadlineSeconds: 300\n'
    ),
    fix_applicability="unsafe",
    unified=("check_63",),
    references=(
        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#job-creation",
    ),
    options={
        "starting_deadline_seconds": Option(
            "integer", 300, "the startingDeadlineSeconds the fix sets"
        )
    },
)
def cronjob_starting_deadline(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    path = ("spec", "startingDeadlineSeconds")
    if obj.get(path) is None:
        value = ctx.setting("starting_deadline_seconds", 300)
        yield Violation(
            "CronJob sets no startingDeadlineSeconds",
            path,
            fix=set_fix("unsafe", f"set startingDeadlineSeconds: {value}", (path, value)),
        )


@rule(
    code="KV312",
    slug="naked-pod",
    title="Pod not managed by a controller",
    category="reliability",
    severity="low",
    scope="object",
    kinds=("Pod",),
    what="A Pod has no `ownerReferences`: no Deployment, StatefulSet, Job... recreates it. "
    "Helm hook Pods (chart tests) are skipped: Helm runs them to completion on purpose.",
    why="A bare Pod is not rescheduled when its node fails or is drained, and cannot be "
    "rolled out or scaled.",
    how_to_fix="Wrap the pod spec in a Deployment (long-running) or a Job (run to completion).",
    example_bad="""\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: web
      image: nginx:1.27
""",
    example_good=_DEPLOYMENT,
    unified=("check_64",),
    references=(
        "https://kubernetes.io/docs/concepts/configuration/overview/#naked-pods-vs-replicasets-deployments-and-jobs",
    ),
)
def naked_pod(ctx: RuleContext, obj: K8sObject) -> Iterator[Violation]:
    if not obj.metadata.get("ownerReferences") and not is_helm_hook(obj):
        yield Violation("Pod is not managed by a controller", ("metadata",))


@rule(
    code="KV313",
    slug="duplicate-env-var",
    title="Environment variable defined twice",
    category="reliability",
    severity="medium",
    scope="container",
    what="A container's `env` lists the same name more than once.",
    why="Only the last entry takes effect, so the earlier one misleads every reader (and a "
    "values override that sets it changes nothing); server-side apply also rejects the "
    "duplicate key.",
    how_to_fix="Delete the earlier entries and keep the one that should apply.",
    example_bad=_DEPLOYMENT
    + "          env:\n            - {name: MODE, value: dev}\n"
    + "            - {name: MODE, value: prod}\n",
    example_good=_DEPLOYMENT + "          env:\n            - {name: MODE, value: prod}\n",
    fix_applicability="safe",
)
def duplicate_env_var(
    ctx: RuleContext, obj: K8sObject, pod: PodSpecView, c: ContainerView
) -> Iterator[Violation]:
    env = [as_dict(e) for e in as_list(c.data.get("env"))]
    last: dict[str, int] = {}
    for i, entry in enumerate(env):
        if isinstance(entry.get("name"), str):
            last[entry["name"]] = i
    for i, entry in enumerate(env):
        name = entry.get("name")
        if not isinstance(name, str) or last[name] == i:
            continue
        # An entry in between that expands $(NAME) sees this earlier value: removing it
        # changes that entry's value.
        used = any(f"$({name})" in str(e.get("value") or "") for e in env[i + 1 : last[name]])
        path = (*c.path, "env", i)
        yield Violation(
            f"container {c.name!r} defines {name} again at env[{last[name]}]; this entry "
            "has no effect",
            path,
            fix=edit_fix(
                "unsafe" if used else "safe", f"remove the earlier {name}", Edit("remove", path)
            ),
        )
