"""Plain manifests: origins, including `helm template` output saved or piped."""

from __future__ import annotations

from kubevet.api import load_yaml

RENDER = """\
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: shop
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
"""


def test_helm_source_comments_name_each_objects_template():
    group = load_yaml(RENDER, "render.yaml")
    origins = [(o.kind, o.origin.file, o.origin.line, o.origin.template) for o in group.objects]
    assert origins == [
        ("Service", "render.yaml", 3, "shop/templates/service.yaml"),
        ("Deployment", "render.yaml", 9, "shop/templates/deployment.yaml"),
    ]


def test_plain_manifests_have_no_template():
    group = load_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", "a.yaml")
    (obj,) = group.objects
    assert (obj.origin.line, obj.origin.template) == (1, None)
