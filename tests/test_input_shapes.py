"""Wrong-typed fields: reported once, with file, line and path, when the model is built;
rules, `netpol` and `fix` only ever see well-shaped views; a rule that still raises is an
internal error for its object, and the run goes on."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from typing import Any

import pytest
import yaml
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubevet.cli import EXIT_ERROR, main
from kubevet.context import InputGroup, Options
from kubevet.engine import check_group
from kubevet.fix.manifests import fix_file
from kubevet.model import K8sObject, Origin
from kubevet.netpol import NetpolError, analyze
from kubevet.rules.registry import select_rules
from kubevet.sources.manifests import add_text

INPUT = FIXTURES / "input"
MALFORMED = INPUT / "malformed.yaml"
EVERY_KIND = list(yaml.safe_load_all((INPUT / "shapes-base.yaml").read_text()))
MUTATED_KINDS = ("Deployment", "Pod", "Service", "Role")
# The mutated kinds, with the policy and ingress that cross-object and netpol rules read.
BASE = [d for d in EVERY_KIND if d["kind"] in (*MUTATED_KINDS, "NetworkPolicy", "Ingress")]
ALL_RULES = select_rules(["ALL"], [], include_disabled=True)
DEFAULT_RULES = select_rules([], [])


def test_malformed_fields_are_reported_with_line_and_path_and_the_rest_is_checked(capsys):
    code = main(["check", str(MALFORMED), "--format", "json", "-j", "1", "--select", "KV105"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and code == EXIT_ERROR
    report = json.loads(out)
    errors = {(e["line"], e["message"]) for e in report["errors"]}
    assert all(e["file"] == str(MALFORMED) for e in report["errors"])
    expected = {
        (
            14,
            "Deployment shapes: spec.template.spec.securityContext: expected a mapping, got a list",
        ),
        (
            18,
            "Deployment shapes: spec.template.spec.containers[0].ports: "
            "expected a list, got a string",
        ),
        (
            22,
            "Deployment shapes: spec.template.spec.containers[0].securityContext.capabilities.add: "
            "expected a list, got a mapping",
        ),
        (
            23,
            "Deployment shapes: spec.template.spec.containers[1]: expected a mapping, got a number",
        ),
        (35, "Service shapes: spec.ports: expected a list, got a string"),
        (43, "Role shapes: rules[0].resources: expected a list, got a mapping"),
        (51, "Pod listed: spec.containers: expected a list, got a string"),
    }
    assert {(line, f"{text}; not checked") for line, text in expected} <= errors
    # the well-shaped rest is checked: both privileged containers, at their own lines
    privileged = sorted(
        (f["origin"]["fieldLine"], f["container"])
        for f in report["findings"]
        if f["code"] == "KV105"
    )
    assert privileged == [(20, "app"), (27, "sidecar")]


def test_an_object_without_a_name_is_reported(capsys):
    main(["check", str(MALFORMED), "--format", "json", "-j", "1", "--select", "KV105"])
    report = json.loads(capsys.readouterr().out)
    unnamed = [e for e in report["errors"] if "metadata.name" in e["message"]]
    assert unnamed == [
        {
            "file": str(MALFORMED),
            "line": 55,
            "message": "ConfigMap (unnamed): has no metadata.name (nor generateName)",
        }
    ]


def test_no_fix_is_offered_through_a_malformed_field():
    group = InputGroup("m", "manifests")
    add_text(group, MALFORMED.read_text(), str(MALFORMED))
    findings = check_group(group, ALL_RULES, Options())
    through = [
        f
        for f in findings
        if f.fix
        and any(e.path[:5] == ("spec", "template", "spec", "securityContext") for e in f.fix.edits)
    ]
    assert through == []  # the file has a list there: an edit would be computed blind
    assert any(f.fix for f in findings)  # elsewhere fixes are still offered


def test_a_rule_that_raises_is_an_internal_error_for_its_object(monkeypatch):
    from kubevet.rules import registry

    group = InputGroup("m", "manifests")
    add_text(group, (INPUT / "privileged.yaml").read_text(), "pods.yaml")
    add_text(group, MALFORMED.read_text(), str(MALFORMED))
    broken = next(r for r in ALL_RULES if r.code == "KV105")

    def explode(ctx, obj, pod, container):
        if obj.name == "still-checked":
            raise KeyError("boom")
        return broken.check(ctx, obj, pod, container)

    rules = [registry.Rule(**{**broken.__dict__, "check": explode})]
    findings = check_group(group, rules, Options())
    internal = [e for e in group.errors if "internal error" in e.message]
    assert [(e.file, e.line, e.message) for e in internal] == [
        (
            "pods.yaml",
            2,  # the document starts under the file's comment
            "internal error in rule KV105 on Pod still-checked: KeyError: 'boom' "
            "(please report it)",
        )
    ]
    assert {f.container for f in findings} == {"app", "sidecar"}  # the other object still checked


def test_a_rule_that_raises_midway_keeps_none_of_its_findings_on_that_object():
    from kubevet.rules import registry

    group = InputGroup("m", "manifests")
    add_text(group, (INPUT / "privileged.yaml").read_text(), "pods.yaml")
    broken = next(r for r in ALL_RULES if r.code == "KV105")

    def half(ctx, obj, pod, container):
        yield from broken.check(ctx, obj, pod, container)  # a finding, then a failure
        if obj.name == "still-checked":
            raise KeyError("boom")

    whole = check_group(group, [broken], Options())
    group.errors.clear()
    rules = [registry.Rule(**{**broken.__dict__, "check": half})]
    findings = check_group(group, rules, Options())
    assert [e.message.split(":")[0] for e in group.errors] == [
        "internal error in rule KV105 on Pod still-checked"
    ]
    assert whole and [f.object.name for f in findings] == [
        f.object.name for f in whole if f.object.name != "still-checked"
    ]


# --- property: no generated shape makes anything raise -------------------------------------

KEYS = st.sampled_from(
    [
        "name",
        "containers",
        "securityContext",
        "capabilities",
        "add",
        "ports",
        "port",
        "spec",
        "metadata",
        "labels",
        "image",
        "resources",
        "limits",
        "rules",
        "verbs",
        "selector",
        "env",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 70000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
# Containers as often as scalars: a wrong type is what breaks a rule, so each kind of
# value is as likely as the others, nested a level or two.
NESTED = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS | NESTED, min_size=1, max_size=3),
    st.dictionaries(KEYS | st.text(max_size=4), SCALARS | NESTED, min_size=1, max_size=3),
    st.lists(st.dictionaries(KEYS, NESTED, max_size=3), min_size=1, max_size=2),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


TARGETS = [
    (i, path)
    for i, doc in enumerate(BASE)
    if doc["kind"] in MUTATED_KINDS
    for path in _paths(doc)
    if len(path) > 1 and path[0] != "kind" and path[0] != "apiVersion"
]


@st.composite
def mutated(draw: Any) -> list[dict[str, Any]]:
    docs = copy.deepcopy(BASE)
    for i, path in draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=8)):
        node = docs[i]
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced an ancestor
    return docs


def _load(docs: list[dict[str, Any]]) -> tuple[str, InputGroup]:
    text = yaml.safe_dump_all(docs, sort_keys=False)
    group = InputGroup("shapes.yaml", "manifests")
    add_text(group, text, "shapes.yaml")
    return text, group


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_no_generated_shape_makes_a_rule_raise(docs):
    for rules in (DEFAULT_RULES, ALL_RULES):
        _text, group = _load(docs)
        check_group(group, rules, Options())
        assert [e for e in group.errors if "internal error" in e.message] == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_no_generated_shape_breaks_netpol_or_fix(docs):
    text, group = _load(docs)
    with contextlib.suppress(NetpolError):  # an invalid policy is reported as such
        analyze(group.objects)
    findings = check_group(group, ALL_RULES, Options())
    chosen = [(f, f.fix.edits) for f in findings if f.fix and f.fix.edits]
    result = fix_file("shapes.yaml", text, chosen, None)
    assert result.old == text  # edits are computed, never applied to anything but text


# Sites a type-mutation fuzz of shapes-base.yaml found raising before shapes were checked.
FUZZ_FOUND = [
    ("Deployment", "spec.template.spec.securityContext.seccompProfile.type", [1]),
    ("Deployment", "spec.template.spec.containers.0.securityContext.capabilities.add", [{"a": 1}]),
    ("Deployment", "spec.template.spec.securityContext.sysctls.0.name", [1]),
    ("Deployment", "spec.template.spec.containers.0.ports", 7),
    ("NetworkPolicy", "spec.ingress.0.ports.0.port", [1]),
    ("NetworkPolicy", "spec.ingress.0.ports.0.endPort", "x"),
    ("NetworkPolicy", "spec.ingress.0.from.0.namespaceSelector.matchExpressions.0.operator", [1]),
    ("NetworkPolicy", "spec.ingress.0.from.1.ipBlock.except", 7),
    ("Service", "spec.ports", 7),
    ("Ingress", "spec.rules", 7),
    ("Ingress", "spec.rules.0.http.paths", 7),
    ("Pod", "metadata.ownerReferences", 7),
]


@pytest.mark.parametrize("kind, dotted, value", FUZZ_FOUND)
def test_fuzz_found_sites_are_malformed_fields_not_crashes(kind, dotted, value):
    docs = copy.deepcopy(EVERY_KIND)
    doc = next(d for d in docs if d["kind"] == kind)
    path = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    _text, group = _load(docs)
    check_group(group, ALL_RULES, Options())
    assert [e.message for e in group.errors if "internal error" in e.message] == []
    shown = re.sub(r"\.(\d+)", r"[\1]", dotted)
    if kind == "NetworkPolicy":  # netpol validates policies itself (and sets them aside)
        analyze(group.objects)
        return
    (error,) = group.errors
    assert error.message.startswith(f"{kind} {doc['metadata']['name']}: {shown}")  # or in it
    with contextlib.suppress(NetpolError):  # an invalid policy is reported as such
        analyze(group.objects)


def test_object_built_directly_is_conformed_too():
    """Embedders build K8sObjects themselves: they get the same well-shaped view."""
    obj = K8sObject(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": "x"}},
        Origin("api", 1),
    )
    assert [(m.path, m.problem) for m in obj.malformed] == [
        (("spec", "containers"), "expected a list, got a string")
    ]
    assert obj.pod is not None and obj.pod.containers == []
    assert "containers" not in obj.data["spec"]


@pytest.mark.parametrize(
    "doc",
    [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}]},
        },
        *EVERY_KIND,
    ],
)
def test_a_well_shaped_object_is_not_copied(doc):
    obj = K8sObject(doc, Origin("api", 1))
    assert obj.data is doc and obj.malformed == []


def test_tool_configuration_files_need_no_name():
    group = InputGroup("k", "manifests")
    add_text(group, "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n", "k")
    add_text(group, "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n", "cm.yaml")
    assert [(e.file, e.line) for e in group.errors] == [("cm.yaml", 1)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_the_quick_shape_walk_agrees_with_the_full_one(docs):
    """conform() skips its copying walk when the kind's compiled checker says nothing is
    malformed: the two must agree on every generated document (a disagreement would hide a
    bad field)."""
    from kubevet.kindshapes import KINDS, META
    from kubevet.shapes import _conform, _kind_checker

    for doc in docs:
        kind = str(doc.get("kind", ""))
        shape = {"metadata": META, **KINDS.get(kind, {})}
        problems: list[Any] = []
        _conform(doc, shape, (), problems)
        assert _kind_checker(kind)(doc) == (problems == [])
