"""Which workloads run forever, which run to completion, and Helm hooks: the kinds the
reliability rules tell apart."""

from __future__ import annotations

from kubevet.model import K8sObject, PodSpecView
from kubevet.rules._helpers import as_dict, as_list

LONG_RUNNING_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}
)


RUN_TO_COMPLETION_KINDS = frozenset({"Job", "CronJob"})


HELM_HOOK = "helm.sh/hook"


def is_helm_hook(obj: K8sObject) -> bool:
    """Helm hooks (tests, install/upgrade jobs) run to completion outside the release's pods."""
    return HELM_HOOK in obj.annotations


def is_long_running(obj: K8sObject, pod: PodSpecView) -> bool:
    """Pods meant to keep running: controllers, and bare Pods that restart and are no hook.

    Jobs, CronJobs, Pods owned by a Job and Pods with restartPolicy Never/OnFailure run to
    completion; probes, preStop hooks and disruption budgets make no sense for them.
    """
    if obj.kind in LONG_RUNNING_KINDS:
        return True
    if obj.kind != "Pod" or is_helm_hook(obj):
        return False
    if pod.spec.get("restartPolicy", "Always") != "Always":
        return False
    owners = as_list(obj.metadata.get("ownerReferences"))
    return not any(as_dict(o).get("kind") == "Job" for o in owners)
