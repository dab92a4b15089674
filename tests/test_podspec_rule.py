"""KV318: pod specs the API server refuses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.api import check_yaml
from kubevet.rules.reliability.podspec import label_problem, port_name_problem


def hits(spec: str, kind: str = "Pod", extra: str = "") -> list[tuple[str, str]]:
    """Findings on a pod (or a workload's template) whose spec is `spec` (YAML lines at
    the pod spec's indentation, two spaces)."""
    if kind == "Pod":
        text = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: s}}\nspec:\n{spec}"
    else:
        shifted = "".join(f"      {line}\n" for line in spec.splitlines())
        text = (
            f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: p, namespace: s}}\nspec:\n"
            f"  selector: {{matchLabels: {{a: b}}}}\n{extra}  template:\n"
            f"    metadata: {{labels: {{a: b}}}}\n    spec:\n{shifted}"
        )
    return sorted((f.path_text, f.message) for f in check_yaml(text, select=["KV318"]))


C = "  - {name: c, image: 'nginx:1.27'}\n"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "  containers:\n" + C + C,
            [("spec.containers[1].name", "two containers are named 'c'")],
        ),
        (
            "  initContainers:\n" + C + "  containers:\n" + C,
            [("spec.initContainers[0].name", "two containers are named 'c'")],
        ),
        (
            "  containers:\n  - {name: Web_1, image: 'nginx:1.27'}\n",
            [("spec.containers[0].name", "container name 'Web_1' is not a DNS-1123 label")],
        ),
        (
            "  volumes: [{name: d, emptyDir: {}}, {name: d, emptyDir: {}}]\n  containers:\n" + C,
            [("spec.volumes[1].name", "two volumes are named 'd'")],
        ),
        (
            "  volumes: [{name: d, emptyDir: {}}]\n  containers:\n  - name: c\n"
            "    image: 'nginx:1.27'\n    volumeMounts: [{name: e, mountPath: /x},"
            " {name: d, mountPath: /y}, {name: d, mountPath: /y}]\n",
            [
                (
                    "spec.containers[0].volumeMounts[0].name",
                    "container 'c' mounts volume 'e', which the pod does not declare",
                ),
                (
                    "spec.containers[0].volumeMounts[2].mountPath",
                    "container 'c' mounts two volumes at /y",
                ),
            ],
        ),
        (
            "  containers:\n  - name: c\n    image: 'nginx:1.27'\n    ports: [{name: http,"
            " containerPort: 80}, {name: http, containerPort: 81},"
            " {name: metrics-endpoint-x, containerPort: 82}]\n",
            [
                ("spec.containers[0].ports[1].name", "container 'c' has two ports named 'http'"),
                (
                    "spec.containers[0].ports[2].name",
                    "port name 'metrics-endpoint-x' of 'c' is not an IANA service name",
                ),
            ],
        ),
        (
            "  volumes: [{name: d, emptyDir: {}}]\n  containers:\n  - name: c\n"
            "    image: 'nginx:1.27'\n    volumeMounts: [{name: d, mountPath: /y}]\n"
            "    ports: [{name: http, containerPort: 80}]\n",
            [],
        ),
    ],
)
def test_refused_pod_specs(spec, expected):
    assert hits(spec) == expected


def test_a_statefulset_mounts_its_claim_templates_and_a_deployment_cannot():
    spec = "containers:\n- name: c\n  image: 'nginx:1.27'\n"
    spec += "  volumeMounts: [{name: data, mountPath: /d}]\n"
    claims = "  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {}\n"
    assert hits(spec, "StatefulSet", claims) == []
    assert [p for p, _ in hits(spec, "Deployment")] == [
        "spec.template.spec.containers[0].volumeMounts[0].name"
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="az09-_A.", max_size=70))
def test_names_follow_the_stated_syntax(name):
    chars = set(name) <= set("az09-")
    ends = bool(name) and name[0] != "-" and name[-1] != "-"
    assert (label_problem(name) is None) == (chars and ends and len(name) <= 63)
    has_letter = any(ch in "az" for ch in name)
    port_ok = chars and ends and len(name) <= 15 and has_letter and "--" not in name
    assert (port_name_problem(name) is None) == port_ok
