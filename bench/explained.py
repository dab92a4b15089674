"""Why Checkov reports what kubevet does not, case by case (used by bench/agreement.py).

Each reason is checked against the object itself and kubevet's findings, so a case is
only called explained when the stated cause is really there.
"""

from __future__ import annotations

from typing import Any

from kubevet.model import build_pod_view

Key = tuple[str, ...]


def explain(check_id: str, key: Key, obj: dict[str, Any] | None, kv: dict[Key, set[str]]) -> str:
    if obj is None:
        return "UNEXPLAINED: object not found in the rendered YAML"
    for reason in REASONS.get(check_id, ()):
        text = reason(key, obj, kv)
        if text:
            return text
    return "UNEXPLAINED"


def _pod(obj: dict[str, Any]) -> Any:
    return build_pod_view(obj)


def run_to_completion(key: Key, obj: dict[str, Any], kv: dict[Key, set[str]]) -> str:
    pod = _pod(obj)
    if pod is None:
        return ""
    hook = ((obj.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
    policy = pod.spec.get("restartPolicy")
    if obj.get("kind") == "Pod" and (policy in ("Never", "OnFailure") or "test" in hook):
        return (
            f"deliberate: a run-to-completion Pod (restartPolicy {policy}, helm hook "
            f"{hook or 'none'}); probes do not apply to it (Checkov false positive)"
        )
    return ""


def automount_opt_in(key: Key, obj: dict[str, Any], kv: dict[Key, set[str]]) -> str:
    pod = _pod(obj)
    if pod is not None and pod.spec.get("automountServiceAccountToken") is True:
        sa = pod.spec.get("serviceAccountName") or "default"
        return (
            f"deliberate: the pod sets automountServiceAccountToken: true for service account "
            f"{sa!r}, an explicit opt-in by a workload that calls the API; kubevet flags only "
            "implicit mounts"
        )
    return ""


def root_uid_reported_by_kv102(key: Key, obj: dict[str, Any], kv: dict[Key, set[str]]) -> str:
    if "KV102" in kv.get(key, set()):
        return "same problem, other rule: runAsUser 0 is reported by KV102 (run-as-user-zero)"
    return ""


def net_bind_service_only(key: Key, obj: dict[str, Any], kv: dict[Key, set[str]]) -> str:
    pod = _pod(obj)
    if pod is None:
        return ""
    added = {
        str(cap)
        for c in pod.containers
        for cap in ((c.data.get("securityContext") or {}).get("capabilities") or {}).get("add")
        or []
    }
    if added == {"NET_BIND_SERVICE"}:
        return (
            "deliberate: the only added capability is NET_BIND_SERVICE with drop ALL, which "
            "the restricted Pod Security Standard allows"
        )
    return ""


def latest_reported_by_kv506(key: Key, obj: dict[str, Any], kv: dict[Key, set[str]]) -> str:
    if "KV506" in kv.get(key, set()) or "KV501" in kv.get(key, set()):
        return (
            "same problem, other rule: the image has no tag (latest); KV501/KV506 report the "
            "tag and its pull policy once"
        )
    return ""


def wildcard_reported_by_kv401(key: Key, obj: dict[str, Any], kv: dict[Key, set[str]]) -> str:
    if "KV401" in kv.get(key, set()):
        return (
            "same problem, other rule: the grant comes from a wildcard rule, reported once by "
            "KV401 (rbac-wildcard) instead of once per dangerous permission"
        )
    return ""


def scoped_by_resource_names(key: Key, obj: dict[str, Any], kv: dict[Key, set[str]]) -> str:
    for rule in obj.get("rules") or []:
        writes = set(rule.get("verbs") or []) & {"create", "update", "patch", "delete"}
        webhooks = "webhookconfigurations" in str(rule.get("resources"))
        if webhooks and writes and rule.get("resourceNames"):
            names = ", ".join(rule["resourceNames"])
            return (
                f"deliberate: write access to webhook configurations is limited by "
                f"resourceNames to {names} (the chart's own), so it cannot control others"
            )
    return ""


def binding_of_flagged_role(key: Key, obj: dict[str, Any], kv: dict[Key, set[str]]) -> str:
    ref = obj.get("roleRef") or {}
    kind, name = ref.get("kind"), ref.get("name")
    ns = key[2] if kind == "Role" else "default"
    role_key = (key[0], str(kind), ns, str(name))
    codes = kv.get(role_key, set()) & {"KV401", "KV402", "KV403", "KV404"}
    if codes:
        return (
            f"deliberate: kubevet reports the {kind} {name} that grants the permission "
            f"({', '.join(sorted(codes))}); Checkov reports each binding to it"
        )
    return ""


def pod_not_isolated_elsewhere(key: Key, obj: dict[str, Any], kv: dict[Key, set[str]]) -> str:
    """All 60 charts render into namespace default in one directory, so a Kind/name that
    several charts render is one workload to the reachability model, reported once."""
    for other, codes in kv.items():
        if other[1:] == key[1:] and other[0] != key[0] and "KV601" in codes:
            return (
                f"same object identity: {key[1]} {key[2]}/{key[3]} is also rendered by "
                f"{other[0]} into the same namespace; the network model treats them as one "
                f"workload and KV601 reports it once, there"
            )
    return ""


def token_off_on_service_account(key: Key, obj: dict[str, Any], kv: dict[Key, set[str]]) -> str:
    pod = _pod(obj)
    if pod is None or pod.spec.get("automountServiceAccountToken") is not None:
        return ""
    sa = pod.spec.get("serviceAccountName") or "default"
    account = SERVICE_ACCOUNTS.get((key[0], key[2], sa))
    if account is not None and account.get("automountServiceAccountToken") is False:
        return (
            f"Checkov false positive: the ServiceAccount {sa} sets "
            "automountServiceAccountToken: false, which the pod inherits (no token is mounted)"
        )
    return ""


SERVICE_ACCOUNTS: dict[tuple[str, str, str], dict[str, Any]] = {}  # filled by agreement.py


REASONS = {
    "CKV_K8S_8": (run_to_completion,),
    "CKV_K8S_9": (run_to_completion,),
    "CKV_K8S_38": (automount_opt_in, token_off_on_service_account),
    "CKV2_K8S_6": (pod_not_isolated_elsewhere,),
    "CKV_K8S_40": (root_uid_reported_by_kv102,),
    "CKV_K8S_25": (net_bind_service_only,),
    "CKV_K8S_15": (latest_reported_by_kv506,),
    "CKV_K8S_155": (wildcard_reported_by_kv401, scoped_by_resource_names),
    "CKV_K8S_156": (wildcard_reported_by_kv401,),
    "CKV_K8S_157": (wildcard_reported_by_kv401,),
    "CKV_K8S_158": (wildcard_reported_by_kv401,),
    "CKV2_K8S_1": (binding_of_flagged_role,),
    "CKV2_K8S_2": (binding_of_flagged_role,),
    "CKV2_K8S_3": (binding_of_flagged_role,),
    "CKV2_K8S_4": (binding_of_flagged_role,),
    "CKV2_K8S_5": (binding_of_flagged_role,),
}


# Why kubevet reports what Checkov does not, per rule, from reviewing the sampled findings.
KUBEVET_ONLY: dict[str, str] = {
    "KV101": "deliberate: kubevet applies the restricted Pod Security Standard exactly, which "
    "requires runAsNonRoot: true; Checkov's CKV_K8S_23 also passes a non-zero runAsUser "
    "(e.g. airflow's postgresql, runAsUser 1001 without runAsNonRoot)",
    "KV103": "Checkov skipped the file (see note)",
    "KV106": "Checkov skipped the file (see note)",
    "KV107": "Checkov skipped the file (see note)",
    "KV109": "Checkov skipped the file (see note)",
    "KV111": "Checkov skipped the file (see note)",
    "KV112": "Checkov false negative: CKV_K8S_29/30 count an empty `securityContext: {}` as set "
    "(gitea, nfs-subdir-external-provisioner); an empty one sets nothing, kubevet reports it",
    "KV113": "Checkov skipped the file (see note)",
    "KV121": "Checkov skipped the file (see note)",
    "KV123": "Checkov skipped the file (see note)",
    "KV126": "wider check: node-exporter mounts the host root `/`, and the runtime sockets "
    "live under it (/run/containerd, /var/run/docker.sock); Checkov's CKV_K8S_27 matches "
    "only a hostPath of exactly /var/run/docker.sock",
    "KV132": "Checkov skipped the file (see note)",
    "KV133": "Checkov skipped the file (see note)",
    "KV134": "different check: kubevet flags workloads that run under the `default` "
    "ServiceAccount; Checkov's CKV_K8S_41/42 inspect the default ServiceAccount object and "
    "its bindings, which charts rarely render",
    "KV201": "Checkov false negative: CKV_K8S_12 passes a container with `resources: {}` "
    "(airflow's create-user Job) while failing CKV_K8S_13 on the same container; no memory "
    "request is set",
    "KV202": "Checkov skipped the file (see note)",
    "KV203": "Checkov false negative: CKV_K8S_10 passes `resources: {}` (as for KV201)",
    "KV204": "Checkov skipped the file (see note)",
    "KV301": "Checkov skipped the file (see note)",
    "KV302": "Checkov skipped the file (see note)",
    "KV401": "Checkov skipped the file (see note)",
    "KV402": "wider check: kubevet reports each dangerous grant on the Role or ClusterRole "
    "(secrets read, pods/exec, pod create, bind/escalate/impersonate, webhooks, CSR "
    "approval, nodes/proxy); Checkov's CKV_K8S_155-158 cover four of these and its graph "
    "checks only bindings of a few",
    "KV403": "wider check: kubevet follows a ClusterRoleBinding to the ClusterRole it grants "
    "(built-in edit/admin included); Checkov's CKV2_K8S_5 only matches a few shapes",
    "KV502": "Checkov skipped the file (see note)",
    "KV503": "Checkov skipped the file (see note)",
    "KV601": "Checkov's CKV2_K8S_6 builds its own Pod nodes and misses pods of Jobs, hooks "
    "and label-less Pods (busybox-pod) that no NetworkPolicy isolates either",
    "KV801": "kinds Checkov's CKV_K8S_21 does not look at: PodDisruptionBudget, "
    "PersistentVolumeClaim, HorizontalPodAutoscaler, NetworkPolicy in namespace default",
}
