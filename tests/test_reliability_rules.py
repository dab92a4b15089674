"""Probes, replicas, disruption budgets and controller settings (KV301-KV312)."""

from __future__ import annotations

import pytest

from kubevet.api import check_yaml


def hits(text: str, code: str) -> list:
    return [f for f in check_yaml(text, select=[code]) if f.code == code]


def deployment(replicas: int | None = 2, labels: str = "{app: web}", extra: str = "") -> str:
    count = "" if replicas is None else f"  replicas: {replicas}\n"
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
{count}  selector:
    matchLabels: {labels}
  template:
    metadata:
      labels: {labels}
    spec:
      initContainers:
        - name: init
          image: busybox:1.36
      containers:
        - name: web
          image: nginx:1.27
{extra}"""


JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox:1.36
"""
CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
  namespace: shop
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: busybox:1.36
"""


def bare_pod(restart: str | None = None, meta: str = "") -> str:
    policy = f"  restartPolicy: {restart}\n" if restart else ""
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: one
  namespace: shop
{meta}spec:
{policy}  containers:
    - name: one
      image: busybox:1.36
"""


@pytest.mark.parametrize("code", ["KV301", "KV302"])
def test_probes_skip_init_containers(code):
    assert [f.container for f in hits(deployment(), code)] == ["web"]


@pytest.mark.parametrize("code", ["KV301", "KV302", "KV304"])
@pytest.mark.parametrize(
    "text",
    [
        JOB,
        CRONJOB,
        bare_pod("Never"),
        bare_pod("OnFailure"),
        bare_pod(meta="  annotations:\n    helm.sh/hook: test\n"),
        bare_pod(
            meta="  ownerReferences:\n    - {apiVersion: batch/v1, kind: Job, name: x, uid: u1}\n"
        ),
    ],
    ids=["job", "cronjob", "pod-never", "pod-onfailure", "helm-test", "owned-by-job"],
)
def test_probes_skip_run_to_completion_pods(code, text):
    assert hits(text, code) == []


def test_restarting_bare_pod_needs_probes():
    assert [f.path_text for f in hits(bare_pod(), "KV301")] == ["spec.containers[0].livenessProbe"]


def test_probe_settings_one_finding_per_missing_field():
    probe = (
        "          readinessProbe:\n            tcpSocket: {port: 80}\n"
        "            periodSeconds: 5\n            timeoutSeconds: 2\n"
        "            failureThreshold: 6\n"
    )
    found = hits(deployment(extra=probe), "KV303")
    fields = sorted(f.path[-1] for f in found)
    assert fields == ["initialDelaySeconds", "successThreshold"]
    values = {f.path[-1]: f.fix.edits[0].value for f in found}
    assert values == {"initialDelaySeconds": 0, "successThreshold": 1}
    assert all(f.fix.applicability == "safe" for f in found)


def test_single_replica_default_and_hpa():
    assert len(hits(deployment(replicas=None), "KV305")) == 1
    assert hits(deployment(replicas=0), "KV305") == []
    hpa = """\
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: %d
  maxReplicas: 5
"""
    assert hits(deployment(replicas=1) + hpa % 2, "KV305") == []
    found = hits(deployment(replicas=3) + hpa % 1, "KV305")
    assert len(found) == 1 and "autoscaler" in found[0].message and found[0].fix is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (JOB.replace("      restartPolicy: Never\n", ""), "unset (Always)"),
        (JOB.replace("Never", "Always"), "'Always'"),
        (deployment(extra="      restartPolicy: OnFailure\n"), "accepts only Always"),
        (bare_pod("Sometimes"), "'Sometimes'"),
    ],
)
def test_restart_policy_invalid(text, expected):
    found = hits(text, "KV306")
    assert len(found) == 1 and expected in found[0].message


@pytest.mark.parametrize("text", [JOB, CRONJOB, bare_pod("Never"), deployment()])
def test_restart_policy_valid(text):
    assert hits(text, "KV306") == []


def pdb(selector: str, namespace: str = "shop", version: str = "v1", extra: str = "") -> str:
    return f"""\
---
apiVersion: policy/{version}
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: {namespace}
spec:
  maxUnavailable: 1
{selector}{extra}"""


LABELS = "{app: web, tier: frontend}"


@pytest.mark.parametrize(
    ("budget", "covered"),
    [
        (pdb("  selector:\n    matchLabels: {app: web}\n"), True),
        (
            pdb(
                "  selector:\n    matchExpressions:\n"
                "      - {key: tier, operator: In, values: [frontend, edge]}\n"
            ),
            True,
        ),
        (pdb("  selector:\n    matchLabels: {app: api}\n"), False),
        (pdb("  selector:\n    matchLabels: {app: web}\n", namespace="other"), False),
        (pdb(""), False),  # a null selector selects nothing
        (pdb("  selector: {}\n"), True),  # policy/v1: empty selects every pod
        (pdb("  selector: {}\n", version="v1beta1"), False),
    ],
    ids=["labels", "expression", "other-labels", "other-namespace", "null", "empty-v1", "v1beta1"],
)
def test_pdb_selector_matching(budget, covered):
    found = hits(deployment(3, labels=LABELS) + budget, "KV307")
    assert (found == []) is covered


def test_pdb_only_for_replicated_workloads():
    assert hits(deployment(1), "KV307") == []
    sts = deployment(3).replace("kind: Deployment", "kind: StatefulSet")
    found = hits(sts, "KV307")
    assert len(found) == 1 and found[0].object.kind == "StatefulSet"


@pytest.mark.parametrize("value", ["0", '"0%"', '"0"'])
def test_pdb_max_unavailable_zero(value):
    text = pdb("  selector:\n    matchLabels: {app: web}\n").replace("maxUnavailable: 1", "")
    text = text.replace("spec:\n", f"spec:\n  maxUnavailable: {value}\n")
    assert len(hits(text.lstrip("-\n"), "KV308")) == 1


def statefulset(service: str | None) -> str:
    name = f"  serviceName: {service}\n" if service else ""
    return f"""\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
{name}  selector:
    matchLabels: {{app: db}}
  template:
    metadata:
      labels: {{app: db, role: primary}}
    spec:
      containers:
        - name: db
          image: postgres:16.4
"""


def service(cluster_ip: str = "None", selector: str = "{app: db}") -> str:
    return f"""\
---
apiVersion: v1
kind: Service
metadata:
  name: db-hl
  namespace: shop
spec:
  clusterIP: {cluster_ip}
  selector: {selector}
  ports: [{{port: 5432}}]
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (statefulset(None), "sets no serviceName"),
        (statefulset("db-hl"), "names no Service"),
        (statefulset("db-hl") + service(cluster_ip="10.0.0.1"), "not headless"),
        (statefulset("db-hl") + service(selector="{app: cache}"), "does not select"),
    ],
)
def test_statefulset_service_name_problems(text, message):
    found = hits(text, "KV309")
    assert len(found) == 1 and message in found[0].message


def test_statefulset_service_name_ok():
    assert hits(statefulset("db-hl") + service(), "KV309") == []


def test_volume_claim_storage_one_per_template():
    claims = """\
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {resources: {requests: {storage: 10Gi}}}
    - metadata: {name: wal}
      spec: {resources: {requests: {storage: 2Gi}}}
"""
    found = hits(statefulset("db-hl") + claims, "KV310")
    assert sorted(f.message for f in found) == [
        "claim template 'data' requests 10Gi per replica",
        "claim template 'wal' requests 2Gi per replica",
    ]


def test_cronjob_deadline():
    found = hits(CRONJOB, "KV311")
    assert found[0].fix.edits[0].value == 300
    fixed = CRONJOB.replace(
        '  schedule: "@daily"\n', '  schedule: "@daily"\n  startingDeadlineSeconds: 60\n'
    )
    assert hits(fixed, "KV311") == []


def test_naked_pod_skips_owned_and_hook_pods():
    assert len(hits(bare_pod(), "KV312")) == 1
    owned = bare_pod(
        meta="  ownerReferences:\n    - {apiVersion: apps/v1, kind: ReplicaSet, name: x, uid: u1}\n"
    )
    assert hits(owned, "KV312") == []
    assert hits(bare_pod(meta="  annotations:\n    helm.sh/hook: test\n"), "KV312") == []
