"""Example manifests shared by rule packs (each rule's `example_bad`/`example_good`, which
are also its test fixtures): builders for the shapes many rules start from."""

from __future__ import annotations

from typing import Any

import yaml

# A bare one-container Pod.
EXAMPLE_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.27
"""


# libyaml's emitter when present.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Dumped:
    """An example that yaml.dump writes when it is read (Rule.example_bad), maybe followed by
    more text: the rule packs are imported on every run, and dumping their examples there
    was about 10 ms of a check's start-up."""

    def __init__(self, doc: dict[str, Any], after: str = "") -> None:
        self.doc, self.after = doc, after

    def __call__(self) -> str:
        return yaml.dump(self.doc, Dumper=_DUMPER, sort_keys=False) + self.after

    def __add__(self, text: str) -> Dumped:
        return Dumped(self.doc, self.after + text)


def example_pod(
    container: dict[str, Any] | None = None,
    spec: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
    image: str = "registry.example.com/web:1.4.2",
) -> Dumped:
    """YAML of a one-container Pod, for rule examples (the rule's test fixtures)."""
    metadata: dict[str, Any] = {"name": "web"}
    if annotations:
        metadata["annotations"] = annotations
    pod_spec: dict[str, Any] = dict(spec or {})
    pod_spec["containers"] = [{"name": "web", "image": image, **(container or {})}]
    return Dumped({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec})


# A digest for examples of pinned images.
EXAMPLE_DIGEST = "sha256:" + "4f" * 32


def example_image_pod(image: str, extra: str = "") -> str:
    """YAML of a one-container Pod running `image`; `extra` adds lines to the container."""
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        f"    - name: web\n      image: {image}\n{extra}"
    )


def example_deployment(
    *,
    name: str = "web",
    namespace: str | None = "shop",
    metadata: str = "",
    replicas: int | None = 2,
    pod_labels: str | None = None,
    pod_spec: str = "",
    container: str = "",
    containers: str | None = None,
) -> str:
    """YAML of a Deployment labelled `app: NAME`; `metadata`, `pod_spec` and `container` are
    YAML lines added to the object's metadata, the pod spec and its one container (nginx), or
    `containers` replaces that container with a list of its own (example_container)."""
    ns = f"  namespace: {namespace}\n" if namespace else ""
    shown = f"  replicas: {replicas}\n" if replicas is not None else ""
    labels = pod_labels or f"{{app: {name}}}"
    if containers is None:
        containers = f"        - name: web\n          image: nginx:1.27\n{container}"
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n{ns}{metadata}"
        f"spec:\n{shown}  selector:\n    matchLabels: {{app: {name}}}\n  template:\n"
        f"    metadata:\n      labels: {labels}\n    spec:\n{pod_spec}      containers:\n"
        f"{containers}"
    )


def example_app(name: str, containers: str, namespace: str = "", replicas: int = 1) -> str:
    """A Deployment named and labelled `name` running `containers` (example_container)."""
    return example_deployment(
        name=name, namespace=namespace or None, replicas=replicas, containers=containers
    )


def example_container(name: str, requests: str = "", limits: str = "") -> str:
    """YAML of one container (a list item of example_deployment's `containers`), with the
    given requests and limits (`cpu: 100m, memory: 128Mi`)."""
    out = f"        - name: {name}\n          image: registry.example.com/{name}:1.0\n"
    if requests or limits:
        out += "          resources:\n"
        out += f"            requests: {{{requests}}}\n" if requests else ""
        out += f"            limits: {{{limits}}}\n" if limits else ""
    return out


# A two-replica Deployment with one container: the base of many rules' examples.
EXAMPLE_DEPLOYMENT = example_deployment()


def example_hpa(name: str, namespace: str | None, max_replicas: int) -> str:
    """YAML of a CPU-driven HorizontalPodAutoscaler for Deployment `name`, after a `---`."""
    ns = f"  namespace: {namespace}\n" if namespace else ""
    return (
        f"---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n"
        f"  name: {name}\n{ns}spec:\n"
        f"  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}\n"
        f"  minReplicas: 2\n  maxReplicas: {max_replicas}\n  metrics:\n    - type: Resource\n"
        "      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}\n"
    )


def example_cronjob(name: str, image: str, namespace: str | None, api: str = "batch/v1") -> str:
    """YAML of a nightly one-container CronJob."""
    ns = f"  namespace: {namespace}\n" if namespace else ""
    return (
        f"apiVersion: {api}\nkind: CronJob\nmetadata:\n  name: {name}\n{ns}spec:\n"
        '  schedule: "0 3 * * *"\n  jobTemplate:\n    spec:\n      template:\n'
        "        spec:\n          restartPolicy: OnFailure\n          containers:\n"
        f"            - name: {name}\n              image: {image}\n"
    )


def example_ingress(
    host: str = "shop.example.com",
    port: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
) -> Dumped:
    """YAML of an Ingress routing `host` to the Service `web` (port 80 unless given)."""
    metadata: dict[str, Any] = {"name": "web", "namespace": "shop"}
    if annotations:
        metadata["annotations"] = annotations
    backend = {"service": {"name": "web", "port": port or {"number": 80}}}
    path = {"path": "/", "pathType": "Prefix", "backend": backend}
    spec = {"ingressClassName": "nginx", "rules": [{"host": host, "http": {"paths": [path]}}]}
    doc = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata}
    return Dumped({**doc, "spec": spec})


# A Service in front of the Deployment `web`, port 80 (named http) to the pods' 8080.
EXAMPLE_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
    - name: http
      port: 80
      targetPort: 8080
"""
