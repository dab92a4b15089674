"""Kustomize overlays: built with kubectl when present, remote bases refused, clear errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from kubevet.report._location import line_of, rendered_note
from kubevet.runner import RunSettings, run_check
from kubevet.sources import discover
from kubevet.sources.kustomize import (
    ORIGIN_ANNOTATION,
    find_remote_resources,
    kubectl_error,
    load_overlay,
)

OVERLAY = FIXTURES / "kustomize" / "overlay"
PREFIXED = FIXTURES / "kustomize" / "prefixed"
KUBECTL = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
REMOTE = FIXTURES / "kustomize" / "remote"


def test_an_overlay_directory_is_one_kustomize_input():
    (item,) = discover([str(OVERLAY)])
    assert (item.kind, item.label) == ("kustomize", str(OVERLAY))


@KUBECTL
def test_overlay_is_built_and_patched():
    group = load_overlay(str(OVERLAY))
    assert group.errors == []
    (deploy,) = group.by_kind("Deployment")
    assert deploy.namespace == "shop"  # from the overlay
    assert deploy.data["spec"]["replicas"] == 3  # from the overlay's patch
    assert deploy.origin.file == str(FIXTURES / "kustomize" / "base" / "deployment.yaml")


def test_remote_bases_are_refused_before_kubectl_runs():
    found = find_remote_resources(str(REMOTE))
    assert [ref for _, _, ref in found] == [
        "https://github.com/example/manifests//deploy?ref=v1.0.0"
    ]
    group = load_overlay(str(REMOTE))
    (err,) = group.errors
    assert "not fetched" in err.message and err.line == 3
    assert group.objects == []


def test_every_remote_file_kustomize_would_load_is_refused_and_named(monkeypatch):
    """Kustomize fetches any file it loads from a URL, not only resources: patches,
    configurations, CRDs, OpenAPI schemas, generator files; Helm charts too."""
    overlay = FIXTURES / "kustomize" / "remote-files"
    kfile = overlay / "kustomization.yaml"
    monkeypatch.setattr(subprocess, "run", _no_kubectl)
    group = load_overlay(str(overlay))
    assert group.objects == []
    lines = kfile.read_text().splitlines()
    urls = [
        (n, ln.split("- ")[-1].split(": ")[-1].split("=")[-1].strip())
        for n, ln in enumerate(lines, 1)
        if "://" in ln and "docs:" not in ln and "repo:" not in ln
    ]
    assert len(urls) == 10
    expected = [
        (str(kfile), n, f"remote resource {u!r} not fetched: scans never use the network")
        for n, u in urls
    ]
    helm = _line(kfile, "helmCharts:")
    expected.append(
        (
            str(kfile),
            helm,
            "remote resource 'helmCharts redis https://charts.example.com/stable' not fetched: "
            "scans never use the network",
        )
    )
    assert [(e.file, e.line, e.message) for e in group.errors] == expected


def _no_kubectl(*args, **kwargs):
    raise AssertionError(f"kubectl ran: {args}")


def test_kubectl_errors_are_one_readable_line():
    stderr = (
        'E1201 19:30:36.811127   24116 run.go:72] "command failed" err=<\n'
        "\ttrouble configuring builtin HelmChartInflationGenerator with config: `\n"
        "\tname: redis\n\t`: must specify --enable-helm\n >\n"
    )
    assert kubectl_error(stderr) == (
        "trouble configuring builtin HelmChartInflationGenerator with config: ` name: redis "
        "`: must specify --enable-helm"
    )
    one = (
        'E1201 19:31:10.186239   24760 run.go:72] "command failed" err="external plugins disabled"'
    )
    assert kubectl_error(one) == "external plugins disabled"


def test_missing_kubectl_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    group = load_overlay(str(OVERLAY))
    (err,) = group.errors
    assert "kubectl is not installed" in err.message
    assert err.file.endswith("kustomization.yaml")


def _line(path: Path, text: str, after: int = 0) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if i > after and text in line)


@KUBECTL
def test_each_object_points_at_the_file_it_is_written_in():
    group = load_overlay(str(PREFIXED))
    assert group.errors == []
    where = {(o.kind, o.name): (o.origin.file, o.origin.line) for o in group.objects}
    services = str(PREFIXED / "services.yaml")
    assert where[("Service", "prod-web")] == (services, 1)
    assert where[("Service", "prod-api")] == (services, 11)
    assert where[("Deployment", "prod-api")] == (
        str(FIXTURES / "kustomize" / "base" / "deployment.yaml"),
        1,
    )
    [generated] = [o for o in group.objects if o.kind == "ConfigMap"]
    assert generated.origin.file == str(PREFIXED / "kustomization.yaml")
    assert generated.origin.line == 0  # made by a generator: no line to point at


@KUBECTL
def test_the_origin_annotation_is_removed_before_rules_see_objects():
    group = load_overlay(str(PREFIXED))
    for obj in group.objects:
        assert ORIGIN_ANNOTATION not in obj.annotations
        assert "annotations" not in obj.metadata  # none of the sources has any
    report = run_check([str(PREFIXED)], RunSettings(jobs=1))
    assert ORIGIN_ANNOTATION not in json.dumps([f.message for f in report.findings])


@KUBECTL
def test_finding_lines_are_field_lines_in_the_source_file():
    report = run_check([str(OVERLAY), str(PREFIXED)], RunSettings(jobs=1))
    base = FIXTURES / "kustomize" / "base" / "deployment.yaml"
    by = {(f.input, f.code, f.object.name): f for f in report.findings}
    privileged = by[(str(OVERLAY), "KV105", "api")]
    assert (privileged.origin.file, line_of(privileged)) == (
        str(base),
        _line(base, "privileged: true"),
    )
    node_port = by[(str(PREFIXED), "KV602", "prod-web")]
    services = PREFIXED / "services.yaml"
    assert (node_port.origin.file, line_of(node_port)) == (
        str(services),
        _line(services, "type: NodePort"),
    )
    for f in report.findings:  # every line given is in the file named
        line = line_of(f)
        if line is not None:
            assert 0 < line <= len(Path(f.origin.file).read_text().splitlines()), f


@KUBECTL
def test_a_field_the_overlay_patched_has_no_line_in_the_base():
    group = load_overlay(str(OVERLAY))
    (deploy,) = group.by_kind("Deployment")
    base = FIXTURES / "kustomize" / "base" / "deployment.yaml"
    replicas, privileged, missing = deploy.source.locate(
        [
            ("spec", "replicas"),  # 2 in the base, 3 after the overlay's patch
            ("spec", "template", "spec", "containers", 0, "securityContext", "privileged"),
            ("spec", "template", "spec", "containers", 0, "securityContext", "runAsNonRoot"),
        ]
    )
    assert replicas is None
    assert privileged == _line(base, "privileged: true")
    assert missing == _line(base, "securityContext:")  # where the absent field would go


@KUBECTL
def test_without_origin_annotations_no_rendered_line_is_paired_with_the_kustomization(
    monkeypatch,
):
    import kubevet.sources.kustomize as kustomize

    monkeypatch.setattr(kustomize, "_build_with_origins", lambda *_: (None, ""))
    report = run_check([str(OVERLAY)], RunSettings(jobs=1))
    assert report.findings
    for f in report.findings:
        assert f.origin.file.endswith("kustomization.yaml")
        assert line_of(f) is None
        assert "rendered output" in rendered_note(f)


def test_a_missing_local_file_is_named_where_it_is_referenced(tmp_path, monkeypatch):
    """Kustomize's own error chain names the overlay and truncates the cause; each missing
    path is named at its line, in the kustomization that references it, before kubectl."""
    base, prod = tmp_path / "base", tmp_path / "prod"
    base.mkdir()
    prod.mkdir()
    (base / "kustomization.yaml").write_text("resources:\n- service.yaml\n- missing.yaml\n")
    (base / "service.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n")
    (prod / "kustomization.yaml").write_text(
        "resources:\n- ../base\npatches:\n- path: nope.yaml\nconfigMapGenerator:\n"
        "- name: c\n  files: [app.conf=conf/app.conf]\n"
    )
    monkeypatch.setattr(subprocess, "run", _no_kubectl)
    group = load_overlay(str(prod))
    assert [(e.file, e.line, e.message) for e in group.errors] == [
        (
            str(base / "kustomization.yaml"),
            3,
            "'missing.yaml' does not exist (the overlay cannot be built)",
        ),
        (
            str(prod / "kustomization.yaml"),
            4,
            "'nope.yaml' does not exist (the overlay cannot be built)",
        ),
        (
            str(prod / "kustomization.yaml"),
            7,
            "'conf/app.conf' does not exist (the overlay cannot be built)",
        ),
    ]
    assert group.objects == []


def test_a_local_helm_chart_of_an_overlay_is_not_called_remote(tmp_path, monkeypatch):
    """Kustomize would run the helm binary for it: never done, and said so plainly."""
    (tmp_path / "kustomization.yaml").write_text("helmCharts:\n- name: redis\n  chartHome: c\n")
    monkeypatch.setattr(subprocess, "run", _no_kubectl)
    (err,) = load_overlay(str(tmp_path)).errors
    assert "Kustomize renders it by running helm, which kubevet never does" in err.message
    assert "remote" not in err.message and err.line == 1


def test_a_missing_file_whose_name_ends_another_path_is_named_at_its_own_line(
    tmp_path, monkeypatch
):
    """`p.yaml` is part of `dep.yaml`: it was reported at the resource's line (2), not at
    the patch's (4)."""
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n  - dep.yaml\npatches:\n  - path: p.yaml\n"
    )
    (tmp_path / "dep.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n")
    monkeypatch.setattr(subprocess, "run", _no_kubectl)
    group = load_overlay(str(tmp_path))
    assert [(e.line, e.message) for e in group.errors] == [
        (4, "'p.yaml' does not exist (the overlay cannot be built)")
    ]


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(
        st.from_regex(r"[a-z0-9._][a-z0-9._/-]{0,8}", fullmatch=True),
        min_size=2,
        max_size=5,
        unique=True,
    ),
    style=st.sampled_from(["  - {}", "  - path: {}", "  - '{}'", '  - "{}"', "  - k={}"]),
)
def test_a_path_is_found_at_the_line_that_holds_it_alone(names, style):
    """Whatever names come before it, each path is found on its own line."""
    from kubevet.sources.kustomize import _line_of

    text = "resources:\n" + "\n".join(style.format(n) for n in names) + "\n"
    for number, name in enumerate(names, 2):
        assert _line_of(text, name) == number
