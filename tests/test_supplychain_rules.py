"""Image rules KV501-KV507 on real manifests: what fires, where, and the digest-pinning fix."""

from __future__ import annotations

from kubevet.api import check_yaml
from kubevet.context import Options

SHA = "sha256:" + "ab" * 32


def _deploy(*containers: str, init: str = "") -> str:
    body = "".join(containers)
    inits = f"      initContainers:\n{init}" if init else ""
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n"
        f"    spec:\n      containers:\n{body}{inits}"
    )


def _c(name: str, image: str, policy: str | None = None) -> str:
    out = f"        - name: {name}\n          image: {image!r}\n"
    return out + (f"          imagePullPolicy: {policy}\n" if policy else "")


def _codes(text: str, options: Options | None = None) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in check_yaml(text, select=["KV5"], options=options):
        out.setdefault(f.code, []).append(f)
    return out


def test_latest_and_untagged_fire_digest_passes():
    found = _codes(_deploy(_c("a", "nginx"), _c("b", "nginx:latest"), _c("c", f"nginx@{SHA}")))
    assert sorted(f.container for f in found["KV501"]) == ["a", "b"]
    assert [f.container for f in found["KV502"]] == ["a", "b"]


def test_init_containers_are_checked_and_lines_point_at_image():
    text = _deploy(_c("a", f"nginx:1@{SHA}"), init=_c("setup", "busybox"))
    hit = _codes(text)["KV501"][0]
    assert hit.container == "setup"
    assert hit.path_text == "spec.template.spec.initContainers[0].image"
    assert hit.line == text.splitlines().index("          image: 'busybox'") + 1


def test_digest_fix_from_image_lock(tmp_path):
    lock = tmp_path / "images.lock.yaml"
    lock.write_text(f"docker.io/library/nginx:1.27: {SHA}\n")
    options = Options(settings={"image_lock": str(lock)})
    found = _codes(_deploy(_c("web", "nginx:1.27"), _c("side", "busybox:1.36")), options)
    by_container = {f.container: f for f in found["KV502"]}
    fix = by_container["web"].fix
    assert fix is not None and fix.applicability == "safe"
    (edit,) = fix.edits
    assert edit.op == "set" and edit.value == f"nginx:1.27@{SHA}"
    assert edit.path == ("spec", "template", "spec", "containers", 0, "image")
    assert by_container["side"].fix is None  # not in the lock: no guess


def test_pull_policy_rules_split_the_cases():
    text = _deploy(
        _c("tag-default", "nginx:1.27"),
        _c("tag-always", "nginx:1.27", "Always"),
        _c("digest-ifnp", f"nginx@{SHA}", "IfNotPresent"),
        _c("latest-ifnp", "nginx:latest", "IfNotPresent"),
        _c("latest-never", "nginx", "Never"),
        _c("typo", "nginx:1.27", "always"),
    )
    found = _codes(text)
    assert [f.container for f in found["KV503"]] == ["tag-default"]
    assert "defaults to IfNotPresent" in found["KV503"][0].message
    assert found["KV503"][0].fix.applicability == "unsafe"
    assert sorted(f.container for f in found["KV506"]) == ["latest-ifnp", "latest-never", "typo"]


def test_registry_allowlist_off_by_default_and_from_settings():
    text = _deploy(_c("a", "ghcr.io/org/app:1"), _c("b", "registry.internal:5000/app:1"))
    assert "KV504" not in {f.code for f in check_yaml(text)}  # not enabled by default
    options = Options(settings={"allowed_registries": ["registry.internal:5000"]})
    found = _codes(text, options)
    assert [f.container for f in found["KV504"]] == ["a"]


def test_frozen_registry_fix_rewrites_host():
    found = _codes(
        _deploy(_c("a", f"k8s.gcr.io/pause:3.9@{SHA}"), _c("b", "docker.pkg.github.com/o/r/i:1"))
    )
    fixes = {f.container: f.fix for f in found["KV505"]}
    assert fixes["a"].applicability == "unsafe"
    assert fixes["a"].edits[0].value == f"registry.k8s.io/pause:3.9@{SHA}"
    assert fixes["b"] is None  # path layout changed: no automatic rewrite


def test_invalid_reference_is_reported_once_and_other_rules_stay_quiet():
    found = _codes(_deploy(_c("a", "Nginx:1"), _c("b", "")))
    assert sorted(f.container for f in found["KV507"]) == ["a", "b"]
    assert "lowercase" in found["KV507"][0].message or "lowercase" in found["KV507"][1].message
    assert set(found) == {"KV507"}
