from __future__ import annotations

from kubevet.api import check_yaml
from kubevet.context import Options


def codes(text: str, code: str, options: Options | None = None) -> list[str]:
    """Messages of one rule's findings."""
    return [f.message for f in check_yaml(text, select=[code], options=options) if f.code == code]


def deployment(
    resources: str = "requests: {cpu: 250m, memory: 256Mi}",
    namespace: str = "",
    replicas: int = 1,
    annotations: str = "",
    extra_containers: str = "",
    pod_annotations: str = "",
) -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    ann = f"  annotations: {{{annotations}}}\n" if annotations else ""
    pod_ann = f"      annotations: {{{pod_annotations}}}\n" if pod_annotations else ""
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n"
        f"{ns}{ann}spec:\n  replicas: {replicas}\n  template:\n    metadata:\n{pod_ann}"
        "      labels: {app: api}\n    spec:\n      containers:\n"
        "        - name: api\n          image: example/api:1\n"
        f"          resources: {{{resources}}}\n{extra_containers}"
    )


# --- KV901 / KV902 / KV903 ------------------------------------------------------------------


def test_request_equal_to_limit_is_fine():
    text = deployment("requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: '0.5', memory: 1024Mi}")
    assert codes(text, "KV901") == []


def test_memory_limit_below_request_is_reported_once_per_resource():
    text = deployment("requests: {cpu: 100m, memory: 1Gi}, limits: {cpu: 1, memory: 1000Mi}")
    msgs = codes(text, "KV901")
    assert len(msgs) == 1
    assert "memory 1Gi above its limit 1000Mi" in msgs[0]


def test_yaml_numbers_are_valid_quantities():
    text = deployment("requests: {cpu: 0.5, memory: 1073741824}, limits: {cpu: 1}")
    assert codes(text, "KV902") == []


def test_invalid_quantity_names_the_value():
    msgs = codes(deployment("limits: {memory: 2Gib}"), "KV902")
    assert msgs == [
        "container 'api' limits.memory: '2Gib': unknown suffix 'Gib' "
        "(expected one of n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or an exponent like e3)"
    ]


def test_implausible_knobs_come_from_config():
    text = deployment("requests: {cpu: 8, memory: 1Gi}")
    assert codes(text, "KV903") == []
    options = Options(rule_settings={"KV903": {"max_cpu": "4"}})
    msgs = codes(text, "KV903", options)
    assert len(msgs) == 1 and "more than 4" in msgs[0]


def test_huge_memory_flagged():
    msgs = codes(deployment("limits: {memory: 512Gi}"), "KV903")
    assert msgs and "512Gi" in msgs[0]


# --- KV904 ---------------------------------------------------------------------------------

HPA = """
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api-hpa, namespace: NS}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 5
"""
KEDA = """
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: api-cron, namespace: staging}
spec:
  scaleTargetRef: {name: api}
  minReplicaCount: 0
  triggers:
    - type: cron
      metadata:
        {timezone: Europe/Berlin, start: 0 8 * * 1-5, end: 0 20 * * 1-5, desiredReplicas: "3"}
"""


def test_single_replica_needs_no_autoscaler():
    assert codes(deployment(replicas=1), "KV904") == []


def test_autoscaler_must_be_in_the_same_namespace():
    text = deployment(namespace="shop", replicas=3) + HPA.replace("NS", "other")
    assert len(codes(text, "KV904")) == 1
    text = deployment(namespace="shop", replicas=3) + HPA.replace("NS", "shop")
    assert codes(text, "KV904") == []


def test_keda_scaled_object_defaults_to_deployment_target():
    text = deployment(namespace="staging", replicas=3) + KEDA
    assert codes(text, "KV904") == []


def test_hpa_targeting_another_kind_does_not_count():
    text = deployment(namespace="shop", replicas=3) + HPA.replace("NS", "shop").replace(
        "kind: Deployment", "kind: StatefulSet"
    )
    assert len(codes(text, "KV904")) == 1


# --- KV905 ---------------------------------------------------------------------------------


def test_production_namespace_not_flagged():
    assert codes(deployment(namespace="shop-prod"), "KV905") == []
    assert len(codes(deployment(namespace="shop-dev"), "KV905")) == 1
    assert codes(deployment(namespace="devops"), "KV905") == []  # 'dev' must be a word


def test_keda_cron_trigger_counts_as_off_hours():
    assert codes(deployment(namespace="staging") + KEDA, "KV905") == []


def test_namespace_label_and_namespace_annotation():
    ns = "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n"
    ns += "  labels: {environment: qa}\n"
    assert len(codes(deployment(namespace="team-a") + ns, "KV905")) == 1
    annotated = ns + "  annotations: {downscaler/downtime: 'Sat-Sun 00:00-24:00 UTC'}\n"
    assert codes(deployment(namespace="team-a") + annotated, "KV905") == []


def test_pattern_from_settings():
    options = Options(settings={"non_production_namespaces": r"^sandbox-"})
    assert len(codes(deployment(namespace="sandbox-42"), "KV905", options)) == 1
    assert codes(deployment(namespace="staging"), "KV905", options) == []


def test_downscaler_exclude_is_a_deliberate_exception():
    text = deployment(namespace="dev", annotations="downscaler/exclude: 'true'")
    assert codes(text, "KV905") == []


# --- KV906 ---------------------------------------------------------------------------------

CRON = """apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: "*/5 * * * *"
LIMITS  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: r, image: example/r:1}]
"""


def test_cronjob_history_limits():
    assert len(codes(CRON.replace("LIMITS", ""), "KV906")) == 1
    both = "  successfulJobsHistoryLimit: 3\n  failedJobsHistoryLimit: 1\n"
    assert codes(CRON.replace("LIMITS", both), "KV906") == []
    big = "  successfulJobsHistoryLimit: 50\n  failedJobsHistoryLimit: 1\n"
    msgs = codes(CRON.replace("LIMITS", big), "KV906")
    assert msgs == ["CronJob 'report' keeps 50 finished jobs (successfulJobsHistoryLimit)"]


def test_helm_hook_job_is_cleaned_by_helm():
    job = (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n"
        "    helm.sh/hook: pre-upgrade\n    helm.sh/hook-delete-policy: hook-succeeded\n"
        "spec:\n  template:\n    spec:\n      restartPolicy: Never\n"
        "      containers: [{name: m, image: example/m:1}]\n"
    )
    assert codes(job, "KV906") == []
    bare = job.replace("    helm.sh/hook-delete-policy: hook-succeeded\n", "")
    findings = [f for f in check_yaml(bare, select=["KV906"]) if f.code == "KV906"]
    assert findings[0].fix is not None and findings[0].fix.edits[0].value == 86400


# --- KV907 ---------------------------------------------------------------------------------

PROXY = (
    "        - name: proxy\n          image: example/proxy:1\n"
    "          resources: {requests: {cpu: 50m, memory: 1Gi}}\n"
)


def test_sidecar_memory_above_main():
    msgs = codes(deployment(extra_containers=PROXY), "KV907")
    assert msgs == [
        "sidecar 'proxy' requests 1Gi memory, more than the main container 'api' (256Mi)"
    ]


def test_default_container_annotation_picks_the_main_container():
    text = deployment(
        extra_containers=PROXY, pod_annotations="kubectl.kubernetes.io/default-container: proxy"
    )
    msgs = codes(text, "KV907")  # proxy is main now: api's 250m CPU is the bigger one
    assert msgs == ["sidecar 'api' requests 250m cpu, more than the main container 'proxy' (50m)"]


def test_native_sidecar_counts():
    native = (
        "      initContainers:\n        - name: shipper\n          image: example/s:1\n"
        "          restartPolicy: Always\n          resources: {requests: {cpu: '1'}}\n"
    )
    msgs = codes(deployment() + native, "KV907")
    assert msgs == ["sidecar 'shipper' requests 1 cpu, more than the main container 'api' (250m)"]


# --- KV908 ---------------------------------------------------------------------------------

VPA = """
---
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata: {name: api-vpa, namespace: shop}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
"""


def test_vpa_with_hpa_on_default_cpu_metric():
    text = deployment(namespace="shop", replicas=2) + HPA.replace("NS", "shop") + VPA
    msgs = codes(text, "KV908")
    assert msgs == [
        "VPA 'api-vpa' (updateMode Recreate) and HPA 'api-hpa' both act on cpu of Deployment 'api'"
    ]


def test_vpa_limited_to_memory_does_not_fight_cpu_hpa():
    vpa = VPA + (
        "  resourcePolicy:\n    containerPolicies:\n"
        "      - {containerName: '*', controlledResources: [memory]}\n"
    )
    text = deployment(namespace="shop", replicas=2) + HPA.replace("NS", "shop") + vpa
    assert codes(text, "KV908") == []
