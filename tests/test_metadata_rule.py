"""KV804: names, namespaces, labels and annotations the API server refuses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.api import check_yaml
from kubevet.rules.metadata import key_problem, label_value_problem, name_problem


def hits(text: str) -> list[tuple[str, str]]:
    return [(f.path_text, f.message) for f in check_yaml(text, select=["KV804"])]


def obj(kind: str, name: str, meta: str = "", api: str = "v1") -> str:
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name!r}\n{meta}"


@pytest.mark.parametrize(
    ("kind", "name", "refused"),
    [
        ("ConfigMap", "web.config-1", False),
        ("ConfigMap", "Web", True),
        ("ConfigMap", "web_config", True),
        ("ConfigMap", "-web", True),
        ("ConfigMap", "a" * 253, False),
        ("ConfigMap", "a" * 254, True),
        ("Namespace", "shop.eu", True),  # a label: no dots
        ("Namespace", "a" * 64, True),
        ("Service", "1web", True),  # DNS-1035: starts with a letter
        ("Service", "web-1", False),
        ("CronJob", "a" * 52, False),
        ("CronJob", "a" * 53, True),
        ("ClusterRole", "system:aggregate-to-view", False),  # RBAC: a path segment
        ("ClusterRole", "a/b", True),
        ("Widget", "Any_Name:OK", False),  # a kind not listed: only the path-segment rule
        ("Widget", "..", True),
    ],
)
def test_names_by_kind(kind, name, refused):
    assert (name_problem(kind, name) is not None) == refused
    found = hits(obj(kind, name, "  namespace: shop\n" if kind != "Namespace" else ""))
    assert bool(found) == refused, found
    if refused:
        assert found[0][0] == "metadata.name"


def test_namespace_labels_and_annotations_of_the_object_and_its_pods():
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: Shop
  labels:
    version: 1.10
    app.kubernetes.io/name: web
    "example.com/bad key": x
  annotations:
    checksum/config: abc
    enabled: true
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web, tier: "front end"}
      annotations: {replicas: 3}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
"""
    assert sorted(hits(text)) == sorted(
        [
            ("metadata.namespace", "namespace 'Shop' is not a DNS-1123 label"),
            (
                "metadata.labels.version",
                "label 'version' is the number 1.1, not a string: quote it",
            ),
            (
                "metadata.labels.example.com/bad key",
                "label key 'example.com/bad key' is not a qualified name (at most 63 letters, "
                "digits, `-`, `_` or `.`, starting and ending with a letter or digit, after an "
                "optional `prefix/`)",
            ),
            (
                "metadata.annotations.enabled",
                "annotation 'enabled' is the boolean true, not a string: quote it",
            ),
            (
                "spec.template.metadata.labels.tier",
                "label 'tier' has the value 'front end', which is not a label value (at most 63 "
                "letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit)",
            ),
            (
                "spec.template.metadata.annotations.replicas",
                "annotation 'replicas' is the number 3, not a string: quote it",
            ),
        ]
    )


def test_valid_metadata_and_generated_names_pass():
    text = obj(
        "Pod",
        "",
        "  generateName: Web-\n  labels: {empty: '', a.b/c_d: e-f.g}\n  annotations: {x: null}\n",
    )
    assert hits(text) == []


LABEL_ALPHABET = "aZ09-_./ :"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=LABEL_ALPHABET, max_size=70))
def test_keys_and_values_follow_the_stated_syntax(text):
    """Against a plain reading of the syntax: letters, digits, `-_.`, alphanumeric ends,
    63 at most; a key may have a `prefix/` that is a lowercase DNS subdomain."""

    def qualified(s: str) -> bool:
        ok = set(s) <= set("aZ09-_.") and 0 < len(s) <= 63
        return ok and s[0] not in "-_." and s[-1] not in "-_."

    def subdomain(s: str) -> bool:
        parts = s.split(".")
        labels_ok = all(p and set(p) <= set("a09-") and "-" not in (p[0], p[-1]) for p in parts)
        return labels_ok and len(s) <= 253

    assert (label_value_problem(text) is None) == (text == "" or qualified(text))
    prefix, slash, name = text.rpartition("/")
    key_ok = qualified(name) and (not slash or subdomain(prefix))
    assert (key_problem(text) is None) == key_ok


def test_files_for_tools_are_not_api_objects(tmp_path):
    """A Dockerfile's object is named by its path, a kubeconfig is `kind: Config`: neither
    goes to the API server, so their names are nobody's concern."""
    from kubevet.runner import RunSettings, run_check

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile").write_text("FROM nginx:1.27\nUSER 1000\n")
    (tmp_path / "kubeconfig.yaml").write_text(
        "apiVersion: v1\nkind: Config\nclusters: []\nmetadata: {name: My_Config}\n"
    )
    report = run_check([str(tmp_path)], RunSettings(select=["KV804"], jobs=1))
    assert sum(g.objects for g in report.groups) == 2 and list(report.findings) == []


entries = st.dictionaries(
    st.text(alphabet=LABEL_ALPHABET, max_size=12),
    st.one_of(
        st.text(alphabet=LABEL_ALPHABET, max_size=12), st.none(), st.integers(), st.booleans()
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(entries, entries)
def test_a_map_reports_what_its_entries_report_however_often_seen(labels, annotations):
    """The rule keeps the keys and label values it found valid, to pass a map already seen
    with a set comparison and most entries of a new map with a lookup: neither may hide or
    add a finding. A map's findings are its entries' findings, on every sighting."""
    import json

    def text(labels: dict, annotations: dict) -> str:
        meta = f"  labels: {json.dumps(labels)}\n  annotations: {json.dumps(annotations)}\n"
        return obj("ConfigMap", "web", "  namespace: shop\n" + meta)

    whole = sorted(hits(text(labels, annotations)))
    assert sorted(hits(text(labels, annotations))) == whole  # the second sighting
    one_by_one = [hits(text({k: v}, {})) for k, v in labels.items()]
    one_by_one += [hits(text({}, {k: v})) for k, v in annotations.items()]
    assert sorted(f for found in one_by_one for f in found) == whole
