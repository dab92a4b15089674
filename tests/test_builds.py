"""Dockerfiles and apko configs: discovery, parsing into objects, rules KV520-KV527."""

from __future__ import annotations

from collections import defaultdict

from conftest import FIXTURES

from kubevet.runner import RunSettings, run_check
from kubevet.sources import discover
from kubevet.sources.builds import dockerfile_object, is_apko, is_dockerfile_name

BUILDS = FIXTURES / "supplychain" / "builds"


def _report(path):
    report = run_check([str(path)], RunSettings(select=["KV52"]))
    by: dict[tuple[str, str], list] = defaultdict(list)
    for f in report.findings:
        by[(f.origin.file.rsplit("/", 1)[-1], f.code)].append(f)
    return report, by


def test_names_and_apko_shape():
    for name in ("Dockerfile", "Containerfile", "app.Dockerfile", "Dockerfile.prod"):
        assert is_dockerfile_name(name), name
    for name in ("Dockerfile.dockerignore", "dockerfile.md", "values.yaml"):
        assert not is_dockerfile_name(name), name
    assert is_apko({"contents": {"packages": []}, "archs": ["x86_64"]})
    assert not is_apko({"contents": {}, "kind": "ConfigMap", "apiVersion": "v1"})


def test_discovery_routes_build_files():
    (item,) = discover([str(BUILDS / "bad")])
    names = sorted(p.rsplit("/", 1)[-1] for p in item.files)
    assert names == ["Containerfile", "apko.yaml", "app.Dockerfile"]


def test_dockerfile_object_resolves_args_and_stages():
    obj = dockerfile_object((BUILDS / "good" / "Dockerfile").read_text(), "Dockerfile")
    assert obj.kind == "Dockerfile" and obj.api_version == "kubevet.io/v1"
    stages = obj.data["stages"]
    assert next(s["base"] for s in stages) == "golang:1.22"
    assert [s["name"] for s in stages] == ["build", "runtime"]
    run = next(i for i in obj.data["instructions"] if i["instruction"] == "RUN")
    assert run["line"] == 6 and run["stage"] == 0


def test_good_fixtures_pass():
    report, _by = _report(BUILDS / "good")
    assert not report.errors
    assert report.findings == [], [(f.code, f.message) for f in report.findings]


def test_bad_dockerfile_findings_point_at_lines():
    report, by = _report(BUILDS / "bad")
    assert not report.errors
    lines = {
        code: [f.line for f in fs] for (file, code), fs in by.items() if file == "app.Dockerfile"
    }
    assert lines == {
        "KV520": [1],
        "KV521": [1],
        "KV522": [2],
        "KV523": [6],
        "KV524": [4],
    }
    assert "build-essential" in by[("app.Dockerfile", "KV522")][0].message


def test_user_inherited_through_stages():
    _, by = _report(BUILDS / "bad")
    (root,) = by[("Containerfile", "KV523")]
    assert root.line == 4 and "no non-root USER" in root.message
    assert [f.line for f in by[("Containerfile", "KV520")]] == [1]  # the chain's root base


def test_bad_apko_findings():
    _, by = _report(BUILDS / "bad")
    codes = {code: len(fs) for (file, code), fs in by.items() if file == "apko.yaml"}
    assert codes == {"KV525": 1, "KV526": 2, "KV527": 1}
    http = next(f for f in by[("apko.yaml", "KV526")] if "plain http" in f.message)
    assert http.line == 3


def test_apko_with_shell_package_may_use_a_shell():
    from kubevet.api import check_yaml

    text = (
        (BUILDS / "bad" / "apko.yaml")
        .read_text()
        .replace("    - app\n", "    - app\n    - busybox\n")
    )
    assert "KV525" not in {f.code for f in check_yaml(text, select=["KV525"])}
