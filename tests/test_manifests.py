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


LIST = """\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: shop}
  spec:
    template:
      spec:
        containers:
        - name: web
          image: nginx:1.27
          securityContext:
            privileged: true
- 5
- apiVersion: v1
  kind: ConfigMapList
  items:
  - metadata: {name: inner, namespace: shop}
"""


def test_list_items_have_their_own_lines_and_field_lines(tmp_path):
    """`kubectl get -o yaml` dumps are Lists: each item and its fields were all reported
    at the List's first line (SARIF annotations piled up on line 1)."""
    from kubevet.cli import main

    group = load_yaml(LIST, "dump.yaml")
    assert [(o.kind, o.name, o.origin.line) for o in group.objects] == [
        ("Deployment", "web", 4),
        ("ConfigMap", "inner", 19),
    ]
    assert [(e.line, e.message) for e in group.errors] == [
        (15, "document is a int, not a Kubernetes object")
    ]
    path = tmp_path / "dump.yaml"
    path.write_text(LIST)
    out = tmp_path / "report.json"
    main(["check", str(path), "--select", "KV105", "--format", f"json={out}"])
    import json

    (finding,) = json.loads(out.read_text())["findings"]
    assert (finding["origin"]["line"], finding["origin"]["fieldLine"]) == (4, 14)


def test_a_json_list_item_has_its_line():
    text = '{"apiVersion": "v1", "kind": "List", "items": [\n{"apiVersion": "v1",\n'
    text += ' "kind": "ConfigMap", "metadata": {"name": "a"}}]}\n'
    group = load_yaml(text, "dump.json")
    assert [(o.name, o.origin.line) for o in group.objects] == [("a", 2)]


def test_a_list_whose_items_are_not_a_list_is_an_error():
    group = load_yaml("apiVersion: v1\nkind: List\nitems:\n  a: 1\n", "x.yaml")
    assert group.objects == []
    assert [(e.line, e.message) for e in group.errors] == [(3, "List: items is a dict, not a list")]


def test_fix_edits_list_items_in_place(tmp_path, capsys):
    """A `kubectl get -o yaml` dump is one List document: each item's edits land under its
    own place in it (they were refused), the other items untouched."""
    from kubevet.api import check_yaml
    from kubevet.cli import main

    path = tmp_path / "dump.yaml"
    dump = LIST.replace("- 5\n", "")
    dump += "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: shop}\n"
    dump += "  spec:\n    containers: [{name: c, image: 'nginx:1.27'}]\n"
    path.write_text(dump)
    assert {f.obj.name for f in check_yaml(dump, select=["KV133"])} == {"web", "p"}
    assert main(["fix", str(path), "--select", "KV133"]) in (0, 1)
    fixed = path.read_text()
    assert "fixed 2 findings" in capsys.readouterr().out
    assert check_yaml(fixed, select=["KV133"]) == []
    assert fixed.count("automountServiceAccountToken: false") == 2
    assert "items:\n  - metadata: {name: inner, namespace: shop}\n" in fixed  # untouched
    assert fixed.startswith("apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n")
