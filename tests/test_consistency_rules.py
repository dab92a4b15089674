"""Objects that must agree: autoscaler targets (KV315), Ingress backends (KV609), probe
ports (KV316), workload selectors (KV317); ingress-nginx snippets (KV140) and bindings to
everyone (KV407) or to system:masters (KV408)."""

from __future__ import annotations

import pytest

from kubevet.api import check_yaml
from kubevet.context import Options
from kubevet.findings import Finding
from kubevet.model import format_path


def hits(text: str, code: str, settings: dict | None = None) -> list[Finding]:
    options = Options(rule_settings={code: settings}) if settings else None
    return [f for f in check_yaml(text, select=[code], options=options) if f.code == code]


def paths(found: list[Finding]) -> list[str]:
    return [format_path(f.path) for f in found]


def workload(kind: str = "Deployment", name: str = "web", ns: str = "shop") -> str:
    return f"""\
---
apiVersion: apps/v1
kind: {kind}
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: app, image: "nginx:1.27"}}]
"""


def hpa(kind: str = "Deployment", target: str = "web", ns: str = "shop") -> str:
    return f"""\
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: web, namespace: {ns}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: {kind}, name: {target}}}
  minReplicas: 2
  maxReplicas: 4
"""


# --- KV315 dangling autoscaler ---------------------------------------------------------


def test_autoscaler_naming_a_missing_deployment_beside_another_is_reported():
    found = hits(workload(name="webapp") + hpa(target="web"), "KV315")
    assert paths(found) == ["spec.scaleTargetRef.name"]
    assert "Deployment 'web'" in found[0].message


def test_autoscaler_alone_or_beside_other_kinds_is_left_alone():
    assert hits(hpa(), "KV315") == []
    # a StatefulSet in the input says nothing about where the Deployment lives
    assert hits(workload("StatefulSet", "db") + hpa(), "KV315") == []
    # a Deployment of another namespace neither
    assert hits(workload(ns="other") + hpa(), "KV315") == []
    # a custom resource kind the input does not hold (an Argo Rollout elsewhere)
    assert hits(workload() + hpa(kind="Rollout", target="web"), "KV315") == []


def test_autoscaler_found_target_passes_and_unscalable_kinds_fail():
    assert hits(workload() + hpa(), "KV315") == []
    found = hits(workload("DaemonSet") + hpa(kind="DaemonSet"), "KV315")
    assert len(found) == 1 and "cannot be scaled" in found[0].message


def test_autoscaler_without_a_target_name_is_reported():
    text = workload() + hpa().replace(", name: web}", "}")
    assert [f.message for f in hits(text, "KV315")] == ["scaleTargetRef names no kind or no name"]


# --- KV609 Ingress backend ---------------------------------------------------------------

SERVICE = """\
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: 8080}
"""


def ingress(backend: str, ns: str = "shop") -> str:
    return f"""\
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: web, namespace: {ns}}}
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {backend}
"""


@pytest.mark.parametrize(
    "backend",
    ["{service: {name: web, port: {number: 80}}}", "{service: {name: web, port: {name: http}}}"],
)
def test_backend_naming_a_declared_port_passes(backend):
    assert hits(ingress(backend) + SERVICE, "KV609") == []


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("{service: {name: api, port: {number: 80}}}", "backend Service 'api' is not in the input"),
        ("{service: {name: web, port: {number: 8080}}}", "Service 'web' has no port 8080"),
        ("{service: {name: web, port: {name: https}}}", "Service 'web' has no port named 'https'"),
    ],
)
def test_backend_naming_a_missing_service_or_port_is_reported(backend, message):
    found = hits(ingress(backend) + SERVICE, "KV609")
    assert [f.message for f in found] == [message]
    assert format_path(found[0].path) == "spec.rules[0].http.paths[0].backend.service"


def test_ingress_without_services_of_its_namespace_is_left_alone():
    backend = "{service: {name: api, port: {number: 80}}}"
    assert hits(ingress(backend), "KV609") == []
    assert hits(ingress(backend, ns="other") + SERVICE, "KV609") == []


def test_older_backend_form_and_default_backend_are_read():
    old = ingress("{serviceName: web, servicePort: 81}").replace(
        "networking.k8s.io/v1", "networking.k8s.io/v1beta1"
    )
    assert [f.message for f in hits(old + SERVICE, "KV609")] == ["Service 'web' has no port 81"]
    default = ingress("{service: {name: web, port: {number: 80}}}").replace(
        "spec:\n", "spec:\n  defaultBackend: {service: {name: gone, port: {number: 80}}}\n"
    )
    found = hits(default + SERVICE, "KV609")
    assert paths(found) == ["spec.defaultBackend.service"]


def test_external_name_service_ports_are_not_checked():
    external = SERVICE.replace("  selector: {app: web}\n", "  type: ExternalName\n")
    assert hits(ingress("{service: {name: web, port: {number: 443}}}") + external, "KV609") == []


# --- KV316 probe port --------------------------------------------------------------------


def pod(probe: str, ports: str = "[{name: http, containerPort: 8080}]") -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: shop}}
spec:
  containers:
    - name: web
      image: nginx:1.27
      ports: {ports}
      {probe}
"""


@pytest.mark.parametrize(
    "probe",
    [
        "livenessProbe: {httpGet: {path: /, port: metrics}}",
        "readinessProbe: {tcpSocket: {port: metrics}}",
        "startupProbe: {httpGet: {path: /, port: metrics}}",
    ],
)
def test_named_probe_port_the_container_does_not_declare_is_reported(probe):
    found = hits(pod(probe), "KV316")
    assert len(found) == 1 and "'metrics'" in found[0].message
    assert format_path(found[0].path).endswith(".port")


def test_named_port_declared_by_another_container_does_not_count():
    text = pod("livenessProbe: {tcpSocket: {port: admin}}").replace(
        "  containers:\n",
        "  containers:\n    - name: side\n      image: envoy:1.30\n"
        "      ports: [{name: admin, containerPort: 9901}]\n",
    )
    assert len(hits(text, "KV316")) == 1


def test_numeric_probe_ports_are_reported_only_when_asked():
    unlisted = pod("livenessProbe: {httpGet: {path: /, port: 8081}}")
    assert hits(unlisted, "KV316") == []  # legal and common: a separate health listener
    found = hits(unlisted, "KV316", {"numeric_ports": True})
    assert len(found) == 1 and "8081" in found[0].message
    listed = pod("livenessProbe: {httpGet: {path: /, port: 8080}}")
    assert hits(listed, "KV316", {"numeric_ports": True}) == []
    no_ports = pod("livenessProbe: {grpc: {port: 9000}}", ports="[]")
    assert hits(no_ports, "KV316", {"numeric_ports": True}) == []


# --- KV317 selector mismatch -----------------------------------------------------------


def test_selector_not_matching_the_template_is_reported():
    text = workload().replace("matchLabels: {app: web}", "matchLabels: {app: webapp}")
    found = hits(text, "KV317")
    assert paths(found) == ["spec.selector"]
    assert "does not match" in found[0].message


def test_match_expressions_are_evaluated():
    ok = workload().replace(
        "{matchLabels: {app: web}}", "{matchExpressions: [{key: app, operator: In, values: [web]}]}"
    )
    assert hits(ok, "KV317") == []
    bad = ok.replace("operator: In", "operator: NotIn")
    assert len(hits(bad, "KV317")) == 1
    invalid = ok.replace("operator: In", "operator: Near")
    assert [f.message for f in hits(invalid, "KV317")] == ["selector is invalid"]


def test_missing_selector_depends_on_the_api_version():
    no_selector = workload().replace("  selector: {matchLabels: {app: web}}\n", "")
    assert paths(hits(no_selector, "KV317")) == ["spec"]
    old = no_selector.replace("apps/v1", "extensions/v1beta1")
    assert hits(old, "KV317") == []  # defaulted from the template labels


def test_replication_controller_and_manual_job_selectors():
    rc = workload("ReplicationController").replace("apps/v1", "v1")
    assert hits(rc.replace("{matchLabels: {app: web}}", "{app: web}"), "KV317") == []
    assert len(hits(rc.replace("{matchLabels: {app: web}}", "{app: api}"), "KV317")) == 1
    job = workload("Job").replace("apps/v1", "batch/v1")
    wrong = job.replace("matchLabels: {app: web}", "matchLabels: {app: other}")
    assert hits(wrong, "KV317") == []  # generated unless manualSelector is true
    manual = wrong.replace("spec:\n  selector", "spec:\n  manualSelector: true\n  selector", 1)
    assert len(hits(manual, "KV317")) == 1


# --- KV140 ingress-nginx snippets --------------------------------------------------------


def annotated(annotations: str) -> str:
    return ingress("{service: {name: web, port: {number: 80}}}").replace(
        "metadata: {name: web, namespace: shop}",
        f"metadata:\n  name: web\n  namespace: shop\n  annotations: {annotations}",
    )


@pytest.mark.parametrize(
    "key", ["server-snippet", "configuration-snippet", "auth-snippet", "stream-snippet"]
)
def test_snippet_annotations_are_reported(key):
    found = hits(annotated(f'{{nginx.ingress.kubernetes.io/{key}: "return 403;"}}'), "KV140")
    assert paths(found) == [f"metadata.annotations.nginx.ingress.kubernetes.io/{key}"]


def test_other_annotations_and_prefixes_pass_unless_configured():
    assert hits(annotated('{nginx.ingress.kubernetes.io/rewrite-target: "/"}'), "KV140") == []
    custom = annotated('{ingress.example.com/server-snippet: "return 403;"}')
    assert hits(custom, "KV140") == []
    settings = {"annotation_prefixes": ["ingress.example.com"]}
    assert len(hits(custom, "KV140", settings)) == 1


# --- KV407 public bindings ---------------------------------------------------------------


def binding(subject: str, role: str = "metrics-reader", kind: str = "ClusterRoleBinding") -> str:
    return f"""\
apiVersion: rbac.authorization.k8s.io/v1
kind: {kind}
metadata: {{name: readers, namespace: shop}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects:
  - {{kind: ServiceAccount, name: app, namespace: shop}}
  - {subject}
"""


@pytest.mark.parametrize(
    "subject",
    [
        "{kind: User, name: system:anonymous}",
        "{kind: Group, name: system:unauthenticated}",
        "{kind: Group, name: system:authenticated}",
    ],
)
def test_bindings_to_everyone_are_reported(subject):
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        found = hits(binding(subject, kind=kind), "KV407")
        assert paths(found) == ["subjects[1].name"], kind


def test_builtin_public_roles_and_ordinary_subjects_pass():
    builtin = binding("{kind: Group, name: system:authenticated}", "system:discovery")
    assert hits(builtin, "KV407") == []
    assert hits(binding("{kind: Group, name: ops-team}"), "KV407") == []
    # a ServiceAccount named like the group is not the group
    lookalike = "{kind: ServiceAccount, name: system:authenticated, namespace: a}"
    assert hits(binding(lookalike), "KV407") == []


# --- KV408 bindings to system:masters ----------------------------------------------------


def test_bindings_to_the_masters_group_are_reported():
    masters = "{kind: Group, apiGroup: rbac.authorization.k8s.io, name: system:masters}"
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        found = hits(binding(masters, kind=kind), "KV408")
        assert paths(found) == ["subjects[1].name"], kind
        assert "bypasses RBAC" in found[0].message


def test_bootstrap_masters_binding_and_lookalikes_pass():
    bootstrap = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: cluster-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: system:masters}]
"""
    assert hits(bootstrap, "KV408") == []
    # the same subject under another binding name is not Kubernetes' own binding
    assert len(hits(bootstrap.replace("{name: cluster-admin}", "{name: admins}"), "KV408")) == 1
    # a User or ServiceAccount named like the group is not the group
    assert hits(binding("{kind: User, name: system:masters}"), "KV408") == []
    assert hits(binding("{kind: Group, name: masters}"), "KV408") == []
