"""Kustomize overlays: built with kubectl when present, remote bases refused, clear errors."""

from __future__ import annotations

import shutil

import pytest
from conftest import FIXTURES

from kubevet.sources import discover
from kubevet.sources.kustomize import find_remote_resources, load_overlay

OVERLAY = FIXTURES / "kustomize" / "overlay"
REMOTE = FIXTURES / "kustomize" / "remote"


def test_an_overlay_directory_is_one_kustomize_input():
    (item,) = discover([str(OVERLAY)])
    assert (item.kind, item.label) == ("kustomize", str(OVERLAY))


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_overlay_is_built_and_patched():
    group = load_overlay(str(OVERLAY))
    assert group.errors == []
    (deploy,) = group.by_kind("Deployment")
    assert deploy.namespace == "shop"  # from the overlay
    assert deploy.data["spec"]["replicas"] == 3  # from the overlay's patch
    assert deploy.origin.file.endswith("overlay/kustomization.yaml")


def test_remote_bases_are_refused_before_kubectl_runs():
    found = find_remote_resources(str(REMOTE))
    assert [ref for _, _, ref in found] == [
        "https://github.com/example/manifests//deploy?ref=v1.0.0"
    ]
    group = load_overlay(str(REMOTE))
    (err,) = group.errors
    assert "not fetched" in err.message and err.line == 3
    assert group.objects == []


def test_missing_kubectl_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    group = load_overlay(str(OVERLAY))
    (err,) = group.errors
    assert "kubectl is not installed" in err.message
    assert err.file.endswith("kustomization.yaml")
