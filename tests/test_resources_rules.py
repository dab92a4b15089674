"""Resource requests and limits (KV201-KV208): defaults, units and namespace guardrails."""

from __future__ import annotations

from kubevet.api import check_yaml
from kubevet.context import Options

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  initContainers:
    - name: migrate
      image: busybox:1.36
{init}  containers:
    - name: web
      image: nginx:1.27
{main}"""
FULL = "      resources:\n        requests: {cpu: 100m, memory: 128Mi}\n" + (
    "        limits: {cpu: 500m, memory: 256Mi}\n"
)


def hits(text: str, code: str, options: Options | None = None) -> list:
    return [f for f in check_yaml(text, select=[code], options=options) if f.code == code]


def test_init_containers_are_checked_too():
    found = hits(POD.format(init="", main=FULL), "KV201")
    assert [f.container for f in found] == ["migrate"]
    assert found[0].path_text == "spec.initContainers[0].resources.requests.memory"


def test_missing_request_defaults_to_the_limit():
    limits_only = "      resources:\n        limits: {cpu: 200m, memory: 256Mi}\n"
    text = POD.format(init=limits_only, main=limits_only)
    assert hits(text, "KV201") == []
    assert hits(text, "KV203") == []
    assert hits(text, "KV202") == [] and hits(text, "KV204") == []


def test_zero_counts_as_unset():
    zero = "      resources:\n        requests: {memory: 0, cpu: '0'}\n"
    found = {f.code for f in check_yaml(POD.format(init=FULL, main=zero), select=["KV20"])}
    assert {"KV201", "KV203"} <= found


def test_ephemeral_containers_are_skipped():
    text = POD.format(init=FULL, main=FULL) + (
        "  ephemeralContainers:\n    - name: debug\n      image: busybox:1.36\n"
    )
    assert [f for f in check_yaml(text, select=["KV20"]) if f.container == "debug"] == []


def test_fix_amount_comes_from_rule_options():
    options = Options(rule_settings={"KV202": {"memory_limit": "1Gi"}})
    found = hits(POD.format(init=FULL, main=""), "KV202", options)
    assert len(found) == 1
    fix = found[0].fix
    assert fix.applicability == "unsafe"
    assert fix.edits[0].path == ("spec", "containers", 0, "resources", "limits", "memory")
    assert fix.edits[0].value == "1Gi"
    default = hits(POD.format(init=FULL, main=""), "KV201")[0].fix.edits[0].value
    assert default == "128Mi"


def test_request_equals_limit_compares_quantities_not_strings():
    same = "      resources:\n        requests: {memory: 1Gi, cpu: 1}\n" + (
        "        limits: {memory: 1024Mi, cpu: 1000m}\n"
    )
    text = POD.format(init=FULL.replace("100m", "500m").replace("128Mi", "256Mi"), main=same)
    assert hits(text, "KV205") == [] and hits(text, "KV206") == []
    differ = "      resources:\n        requests: {memory: 1G, cpu: 1}\n" + (
        "        limits: {memory: 1Gi, cpu: 1500m}\n"
    )
    text = POD.format(init=FULL.replace("100m", "500m").replace("128Mi", "256Mi"), main=differ)
    memory = hits(text, "KV205")
    assert [f.container for f in memory] == ["web"]
    assert "1G" in memory[0].message and "1Gi" in memory[0].message
    assert [f.container for f in hits(text, "KV206")] == ["web"]


def test_unequal_rules_are_off_by_default():
    text = POD.format(init=FULL, main=FULL)  # requests differ from limits
    assert not {"KV205", "KV206"} & {f.code for f in check_yaml(text)}


NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
LIMITS = """\
apiVersion: v1
kind: LimitRange
metadata:
  name: defaults
  namespace: {ns}
spec:
  limits:
    - type: Container
      default: {{memory: 256Mi}}
"""


def test_limitrange_must_live_in_the_namespace():
    text = (
        NS.format(name="shop")
        + "---\n"
        + NS.format(name="blog")
        + "---\n"
        + LIMITS.format(ns="shop")
    )
    found = hits(text, "KV207")
    assert [f.object.name for f in found] == ["blog"]
    assert sorted(f.object.name for f in hits(text, "KV208")) == ["blog", "shop"]


def test_namespaces_outside_the_input_are_not_reported():
    assert hits(LIMITS.format(ns="shop"), "KV208") == []
