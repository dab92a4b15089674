"""`kubevet upgrade`: detection per removal release, rewrites, schema, CRDs, charts, audit."""

from __future__ import annotations

import difflib
import json
import shutil

import pytest
import yaml
from conftest import FIXTURES

from kubevet.cli import main
from kubevet.upgrade.schema import choose_schema, shipped_releases, validate_object

UP = FIXTURES / "upgrade"
RELEASES = ["1.16", "1.22", "1.25", "1.26", "1.27", "1.29", "1.32"]
# Objects of the fixtures that have no automatic conversion, and why.
NO_REWRITE = {"CustomResourceDefinition", "PodSecurityPolicy"}


def upgrade(tmp_path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "report.json"
    code = main(["upgrade", "--format", "json", "-o", str(out), *args])
    return code, json.loads(out.read_text())


def _minor(release: str) -> tuple[int, int]:
    a, b = release.split(".")
    return int(a), int(b)


@pytest.mark.parametrize("release", RELEASES)
def test_removed_apis_are_blockers_at_their_release(tmp_path, release):
    fixture = UP / f"removed-{release}.yaml"
    docs = [d for d in yaml.safe_load_all(fixture.read_text()) if d]
    code, report = upgrade(tmp_path, "--to", release, str(fixture))
    assert code == 1 and report["blocked"]
    flagged = {(o["kind"], o["name"]) for o in report["objects"]}
    assert flagged == {(d["kind"], d["metadata"]["name"]) for d in docs}
    for obj in report["objects"]:
        removed = [p for p in obj["problems"] if p["kind"] == "removed"]
        assert len(removed) == 1 and removed[0]["breaks_in"] == release and removed[0]["blocker"]


@pytest.mark.parametrize("release", RELEASES)
def test_not_blocked_one_release_earlier(tmp_path, release):
    major, minor = _minor(release)
    fixture = UP / f"removed-{release}.yaml"
    code, report = upgrade(tmp_path, "--to", f"{major}.{minor - 1}", "--no-schema", str(fixture))
    assert not [p for o in report["objects"] for p in o["problems"] if p["kind"] == "removed"]
    assert code == 0


@pytest.mark.parametrize("release", RELEASES)
def test_fix_rewrites_to_objects_valid_for_the_target(tmp_path, release):
    target = tmp_path / f"removed-{release}.yaml"
    shutil.copy(UP / f"removed-{release}.yaml", target)
    code, report = upgrade(tmp_path, "--to", release, "--fix", str(target))
    done = [c for c in report["rewrites"] if not c["reason"]]
    skipped = {c["kind"] for c in report["rewrites"] if c["reason"]}
    assert done and skipped <= NO_REWRITE
    schema = choose_schema(_minor(release))
    for doc in (d for d in yaml.safe_load_all(target.read_text()) if d):
        if doc["kind"] in NO_REWRITE:
            continue
        assert validate_object(doc, schema).status != "invalid", doc
        if schema.exact:
            assert validate_object(doc, schema).status == "valid", doc
    left = {o["kind"] for o in report["objects"] for p in o["problems"] if p["blocker"]}
    assert left <= NO_REWRITE
    assert code == (1 if left else 0)


def test_fix_keeps_every_untouched_byte(tmp_path):
    original = (UP / "commented.yaml").read_text()
    target = tmp_path / "commented.yaml"
    target.write_text(original)
    upgrade(tmp_path, "--to", "1.29", "--fix", str(target))
    after = target.read_text()
    diff = list(difflib.ndiff(original.splitlines(), after.splitlines()))
    removed = [line[2:] for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ")]
    assert removed == [
        'apiVersion: "extensions/v1beta1"   # old API, removed in 1.22',
        "              serviceName: shop    # the Service above",
        "              servicePort: 80",
        "apiVersion: batch/v1beta1",
    ]
    assert added == [
        'apiVersion: "networking.k8s.io/v1" # old API, removed in 1.22',
        "            pathType: ImplementationSpecific",
        "              service:",
        "                name: shop         # the Service above",
        "                port:",
        "                  number: 80",
        "apiVersion: batch/v1",
    ]
    # The untouched documents are byte for byte what they were.
    for doc in original.split("\n---\n"):
        if "v1beta1" not in doc:
            assert doc in after


def test_fix_leaves_a_file_without_conversions_alone(tmp_path):
    target = tmp_path / "current.yaml"
    text = "# nothing to do\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: a}\n"
    target.write_text(text)
    upgrade(tmp_path, "--to", "1.29", "--fix", str(target))
    assert target.read_text() == text


def test_psp_is_not_rewritten_and_points_at_pod_security_admission(tmp_path):
    target = tmp_path / "psp.yaml"
    shutil.copy(UP / "removed-1.25.yaml", target)
    _, report = upgrade(tmp_path, "--to", "1.25", "--fix", str(target))
    psp = next(c for c in report["rewrites"] if c["kind"] == "PodSecurityPolicy")
    assert "Pod Security Admission" in psp["reason"]
    assert "kind: PodSecurityPolicy\n" in target.read_text()
    assert "policy/v1beta1\nkind: PodSecurityPolicy" in target.read_text()


def test_deprecations_alone_do_not_block(tmp_path):
    code, report = upgrade(tmp_path, "--to", "1.29", str(UP / "removed-1.32.yaml"))
    kinds = {p["kind"] for o in report["objects"] for p in o["problems"]}
    assert kinds == {"deprecated"} and report["warnings"] == 2
    assert code == 0 and not report["blocked"]


def test_from_picks_a_replacement_the_running_cluster_serves(tmp_path):
    fixture = str(UP / "removed-1.26.yaml")
    _, direct = upgrade(tmp_path, "--to", "1.29", fixture)
    _, stepwise = upgrade(tmp_path, "--to", "1.29", "--from", "1.27", fixture)

    def repl(report):
        return {o["kind"]: o["problems"][0]["replacement"] for o in report["objects"]}

    fc = "flowcontrol.apiserver.k8s.io"
    assert repl(direct)["FlowSchema"] == f"{fc}/v1"
    assert repl(stepwise)["FlowSchema"] == f"{fc}/v1beta3"


def test_schema_catches_removed_fields_not_only_removed_versions(tmp_path):
    manifest = tmp_path / "ingress.yaml"
    manifest.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\n"
        "spec:\n  backend: {serviceName: a, servicePort: 80}\n"
    )
    code, report = upgrade(tmp_path, "--to", "1.29", str(manifest))
    problem = report["objects"][0]["problems"][0]
    assert problem["kind"] == "schema" and problem["blocker"] and problem["path"] == "spec"
    assert "backend" in problem["message"]
    # invalid for every release that serves networking.k8s.io/v1: broken today, not by 1.29
    assert problem["already"] == "1.28" and not report["blocked"] and code == 0


def test_schema_nearest_release_is_named_and_not_blocking(tmp_path):
    assert choose_schema((1, 29)).exact
    oldest = shipped_releases()[0]
    assert oldest > (1, 22)  # kubernetes-validate ships no schema that old
    older = choose_schema((1, 22))
    assert not older.exact and older.release == oldest and "nearest" in older.describe()
    newer = choose_schema((1, 99))
    assert not newer.exact and newer.release < (1, 99)
    manifest = tmp_path / "dep.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n"
        "  rollbackTo: {revision: 1}\n  selector: {matchLabels: {a: b}}\n"
        "  template:\n    metadata: {labels: {a: b}}\n"
        "    spec: {containers: [{name: a, image: 'a:1'}]}\n"
    )
    code, report = upgrade(tmp_path, "--to", "1.22", str(manifest))
    problem = report["objects"][0]["problems"][0]
    assert problem["kind"] == "schema" and not problem["blocker"] and code == 0
    assert report["schema"] == {
        "release": f"{oldest[0]}.{oldest[1]}",
        "exact": False,
        "package": report["schema"]["package"],
    }


def test_crd_declared_deprecations_and_unknown_custom_resources(tmp_path):
    code, report = upgrade(tmp_path, "--to", "1.29", str(UP / "crds.yaml"))
    by_name = {o["name"]: o["problems"] for o in report["objects"]}
    assert set(by_name) == {"old", "older"}  # current Widget and the CRD-less CR are fine
    assert by_name["old"][0]["kind"] == "crd-unserved" and by_name["old"][0]["blocker"]
    older = by_name["older"][0]
    assert older["kind"] == "crd-deprecated" and not older["blocker"]
    assert older["message"].startswith("example.com/v1beta1 Widget is deprecated")
    assert by_name["old"][0]["already"] == "1.28"  # the CRD does not serve it today either
    assert report["already_broken"] == 1 and code == 0


def test_chart_rendered_for_the_target_and_reported_not_rewritten(tmp_path):
    chart = tmp_path / "chart"
    shutil.copytree(UP / "chart", chart)
    before = {p.name: p.read_text() for p in (chart / "templates").iterdir()}
    code, report = upgrade(tmp_path, "--to", "1.29", "--from", "1.24", "--fix", str(chart))
    kinds = {o["kind"]: o for o in report["objects"]}
    assert set(kinds) == {"PodDisruptionBudget"}  # the CronJob template chose batch/v1
    pdb = kinds["PodDisruptionBudget"]
    assert pdb["source"] == "chart" and pdb["template"] == "switcher/templates/pdb.yaml"
    assert pdb["problems"][0]["rewritable"] and report["rewrites"] == []
    assert {p.name: p.read_text() for p in (chart / "templates").iterdir()} == before
    assert code == 1
    _, old = upgrade(tmp_path, "--to", "1.20", str(chart))
    assert old["objects"] == []  # batch/v1beta1 rendered for 1.20, still served there


def test_audit_log_summarises_clients(tmp_path):
    code, report = upgrade(
        tmp_path,
        "--to",
        "1.29",
        "--audit-log",
        str(UP / "audit.log"),
        str(UP / "removed-1.32.yaml"),
    )
    rows = {(a["user"], a["api_version"], a["resource"]): a for a in report["audit"]}
    ci = rows[("system:serviceaccount:ci:deployer", "batch/v1beta1", "cronjobs")]
    assert ci["calls"] == 3 and ci["verbs"] == ["get", "patch", "update"]
    assert ci["last_seen"] == "2026-11-22T13:45:00.004200Z" and ci["removed_by_target"]
    assert ci["user_agent"].startswith("kubectl/v1.24.3")
    op = "system:serviceaccount:monitoring:legacy-operator"
    watch = rows[(op, "flowcontrol.apiserver.k8s.io/v1beta2", "flowschemas")]
    assert watch["calls"] == 1  # two stages of one request
    assert watch["last_seen"] == "2026-11-20T08:31:00.004200Z" and watch["removed_by_target"]
    later = rows[(op, "flowcontrol.apiserver.k8s.io/v1beta3", "prioritylevelconfigurations")]
    assert not later["removed_by_target"] and later["removed_release"] == "1.32"
    endpoints = rows[("alice@example.com", "v1", "endpoints")]
    assert endpoints["removed_release"] is None
    assert len(rows) == 4  # the non-deprecated apps/v1 call is not listed
    assert report["blockers"] == 2 and code == 1


def test_text_output_leads_with_the_verdict(tmp_path, capsys):
    code = main(["upgrade", "--to", "1.25", str(UP / "removed-1.25.yaml")])
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(
        "Upgrade from 1.24 to Kubernetes 1.25: BLOCKED (6 blockers"
    )
    assert "rewrite: yes with --fix, to batch/v1" in out
    assert "rewrite: no (no replacement API; enforce the Pod Security Standards" in out
    assert code == 1


def test_input_errors_exit_2(tmp_path):
    bad = tmp_path / "audit.log"
    bad.write_text('{"kind": "Event"}\nnot json\n')
    code, report = upgrade(tmp_path, "--to", "1.29", "--audit-log", str(bad), str(UP / "crds.yaml"))
    assert code == 2 and report["errors"][0]["line"] == 2
    assert main(["upgrade", "--to", "1.29", str(tmp_path / "missing.yaml")]) == 2
    assert main(["upgrade", "--to", "one.two", str(UP / "crds.yaml")]) == 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--to", "2.0"], "--to 2.0: Kubernetes releases are 1.x"),
        (["--to", "1.29", "--from", "0.9"], "--from 0.9: Kubernetes releases are 1.x"),
        (["--to", "1.92"], "--to 1.92: this kubevet knows Kubernetes releases from 1.11 to"),
        (["--to", "1.3"], "--to 1.3: this kubevet knows Kubernetes releases from 1.11 to"),
        (["--kube-version", "1.92"], "kube-version 1.92: this kubevet knows"),
    ],
)
def test_a_target_no_table_stands_behind_is_a_usage_error(capsys, args, says):
    """`--to 1.92` for 1.29 was NOT BLOCKED, exit 0: a gate passed on a typo."""
    assert main(["upgrade", *args, str(UP / "crds.yaml")]) == 2
    out, err = capsys.readouterr()
    assert says in err and out == ""


def test_the_newest_known_release_is_a_target(capsys):
    from kubevet.upgrade.schema import shipped_releases

    newest = ".".join(map(str, shipped_releases()[-1]))
    assert main(["upgrade", "--to", newest, str(UP / "crds.yaml")]) in (0, 1)
    assert f"to Kubernetes {newest}:" in capsys.readouterr().out


def _by_registry(release: str, api_version: str, kind: str):  # type: ignore[no-untyped-def]
    """kubernetes-validate's own way: the kind's schema, every `$ref` followed through the
    definitions registry (what compiled_validator inlines)."""
    import re

    import jsonschema
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder = f"kubernetes-json-schema/v{release}.0-local-strict"
    try:
        schema = utils.schema_contents(f"{folder}/{kind.lower()}-{api}.json", release)
    except FileNotFoundError:
        return None
    defs = Resource.from_contents(utils.schema_contents(f"{folder}/_definitions.json", release))
    registry = Resource.from_contents(schema) @ (defs @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _broken(doc: dict) -> list[dict]:
    """Copies of `doc` with an unknown field or a wrong type at each mapping inside it."""
    import copy

    out = []

    def mappings(node, path):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            yield path
            for k, v in node.items():
                yield from mappings(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from mappings(v, (*path, i))

    for path in list(mappings(doc, ()))[1:]:
        for change in ({"notAField": 1}, []):
            broken = copy.deepcopy(doc)
            node = broken
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = {**node[path[-1]], **change} if change else change
            out.append(broken)
    return out


@pytest.mark.parametrize("release", ["1.25", "1.29"])
def test_inlined_schemas_report_what_the_definitions_registry_reports(release):
    """compiled_validator inlines the definitions (JSONSchemaProps, which nests itself,
    stays a reference): on every fixture object and broken copies of it (unknown fields,
    wrong types at every depth) the first error, its message and path are unchanged."""
    from kubevet.model import format_path
    from kubevet.upgrade.schema import compiled_validator

    docs = [d for p in sorted(UP.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text())]
    compared = failed = 0
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        api, kind = str(doc.get("apiVersion")), str(doc.get("kind"))
        ours, theirs = compiled_validator(release, api, kind), _by_registry(release, api, kind)
        assert (ours is None) == (theirs is None)
        if ours is None:
            continue
        for case in [doc, *_broken(doc)]:
            mine = next(ours.iter_errors(case), None)
            ref = next(theirs.iter_errors(case), None)
            assert (mine is None) == (ref is None), case
            if ref is not None:
                failed += 1
                assert mine.message == ref.message
                assert format_path(tuple(mine.absolute_path)) == format_path(
                    tuple(ref.absolute_path)
                )
            compared += 1
    assert compared > 50 and failed > 25  # the fixtures give 65 cases at 1.29
