"""Helm releases read from a Secret dump, built here exactly as Helm's Secret driver stores
them: the stored manifest is checked, the stored chart re-rendered with the stored values."""

from __future__ import annotations

import json

import yaml
from helm_release import b64, helm_secret

from kubevet.cli import main

PDB_TEMPLATE = """\
{{- if .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" }}
apiVersion: policy/v1
{{- else }}
apiVersion: policy/v1beta1
{{- end }}
kind: PodDisruptionBudget
metadata:
  name: {{ .Release.Name }}
spec:
  minAvailable: {{ .Values.minAvailable }}
  selector:
    matchLabels: {app: web}
"""
CRON_TEMPLATE = """\
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: {{ .Release.Name }}-report
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: report, image: "busybox:1.36"}]
"""
STORED_MANIFEST = """\
---
# Source: web/templates/pdb.yaml
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata:
  name: shop
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: web}
"""


def release_json(revision: int, status: str, templates: dict[str, str]) -> dict:
    return {
        "name": "shop",
        "namespace": "store",
        "version": revision,
        "info": {"status": status, "description": "Upgrade complete"},
        "chart": {
            "metadata": {"apiVersion": "v2", "name": "web", "version": "1.4.0"},
            "lock": None,
            "templates": [{"name": n, "data": b64(t.encode())} for n, t in templates.items()],
            "values": {"minAvailable": 1},
            "schema": None,
            "files": [],
        },
        "config": {"minAvailable": 2},
        "manifest": STORED_MANIFEST,
    }


def dump(tmp_path, *releases: dict):
    path = tmp_path / "secrets.yaml"
    items = [helm_secret(r) for r in releases]
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


def upgrade(tmp_path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "report.json"
    code = main(["upgrade", "--format", "json", "-o", str(out), *args])
    return code, json.loads(out.read_text())


def test_release_secret_is_decoded_checked_and_rerendered(tmp_path):
    templates = {"templates/pdb.yaml": PDB_TEMPLATE}
    old = release_json(1, "superseded", {"templates/pdb.yaml": CRON_TEMPLATE})
    path = dump(tmp_path, old, release_json(2, "deployed", templates))
    code, report = upgrade(tmp_path, "--to", "1.25", "--from", "1.24", str(path))
    inputs = {i["label"]: i for i in report["inputs"]}
    stored = inputs["release store/shop v2 (web-1.4.0) stored manifest"]
    rerendered = inputs["release store/shop v2 (web-1.4.0) chart re-rendered"]
    assert stored["state"] == "BLOCKED" and stored["objects"] == 1
    assert rerendered["state"] == "OK" and rerendered["objects"] == 1
    (obj,) = report["objects"]  # revision 1 (superseded) is not checked
    assert obj["input"] == stored["label"] and obj["file"] == str(path)
    assert obj["template"] == "web/templates/pdb.yaml"
    assert (obj["apiVersion"], obj["namespace"], obj["name"]) == ("policy/v1beta1", "store", "shop")
    assert obj["problems"][0]["kind"] == "removed" and obj["problems"][0]["blocker"]
    assert code == 1


def test_rerendered_chart_that_still_uses_a_removed_api_blocks(tmp_path):
    path = dump(tmp_path, release_json(3, "deployed", {"templates/cron.yaml": CRON_TEMPLATE}))
    code, report = upgrade(tmp_path, "--to", "1.25", "--from", "1.24", str(path))
    (cron,) = [o for o in report["objects"] if o["input"].endswith("chart re-rendered")]
    assert (cron["kind"], cron["name"], cron["namespace"]) == ("CronJob", "shop-report", "store")
    assert cron["problems"][0]["replacement"] == "batch/v1" and code == 1


def test_broken_release_payload_is_an_input_error(tmp_path):
    secret = helm_secret(release_json(1, "deployed", {}))
    secret["data"]["release"] = b64(b"not gzip, not json")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(secret))
    code, report = upgrade(tmp_path, "--to", "1.29", str(path))
    assert "cannot read the Helm release" in report["errors"][0]["message"] and code == 2


def test_a_release_that_inflates_past_the_archive_bound_is_an_input_error(tmp_path):
    release = release_json(1, "deployed", {})
    release["padding"] = " " * (3 << 20)  # compresses to a few KiB
    config = tmp_path / "kubevet.yaml"
    config.write_text("limits:\n  archive-size: 1Mi\n")
    path = dump(tmp_path, release)
    assert path.stat().st_size < 64 << 10
    code, report = upgrade(tmp_path, "--to", "1.29", "--config", str(config), str(path))
    (error,) = report["errors"]
    assert error["message"].endswith(
        "the release inflates past the 1 MiB limit (config limits.archive-size))"
    )
    assert code == 2


def test_last_applied_configuration_is_evidence_of_the_applied_version(tmp_path):
    applied = {
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"backend": {"serviceName": "web", "servicePort": 80}},
    }
    live = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)
            },
        },
        "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
    }
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(live))
    code, report = upgrade(tmp_path, "--to", "1.22", "--from", "1.21", str(path))
    (obj,) = report["objects"]
    assert obj["source"] == "last-applied" and obj["apiVersion"] == "extensions/v1beta1"
    assert obj["problems"][0]["kind"] == "removed" and code == 1


def test_malformed_release_objects_are_errors_not_crashes(tmp_path):
    bad_version = release_json(1, "deployed", {})
    bad_version["version"] = "one"
    odd = helm_secret(release_json(2, "deployed", {}))
    odd["data"] = ["not", "a", "map"]
    odd["metadata"]["name"] = "sh.helm.release.v1.odd.v2"
    path = tmp_path / "odd.yaml"
    items = [helm_secret(bad_version), odd]
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}))
    code, report = upgrade(tmp_path, "--to", "1.29", str(path))
    messages = [e["message"] for e in report["errors"]]
    assert any("release version is not a number" in m for m in messages)
    assert any("no data.release" in m for m in messages)
    assert code == 2
