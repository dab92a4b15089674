"""Validation of objects against a Kubernetes release's OpenAPI schema (kubernetes-validate).

kubernetes-validate ships strict JSON schemas for a range of releases; a target outside
that range is mapped to the nearest shipped release, and the report says so. Strict
schemas reject unknown fields, which is how fields removed in the target are caught.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from kubevet.model import format_path
from kubevet.upgrade.table import Version, fmt, split_api, version


@dataclass(frozen=True, slots=True)
class SchemaChoice:
    release: Version  # the schema release used
    target: Version
    package_version: str

    @property
    def exact(self) -> bool:
        return self.release == self.target

    def describe(self) -> str:
        where = f"kubernetes-validate {self.package_version}"
        if self.exact:
            return f"Kubernetes {fmt(self.release)} OpenAPI schema ({where})"
        return (
            f"Kubernetes {fmt(self.release)} OpenAPI schema, the nearest shipped by {where} "
            f"to target {fmt(self.target)}: schema failures are warnings, not blockers"
        )


@dataclass(frozen=True, slots=True)
class SchemaResult:
    status: Literal["valid", "invalid", "no-schema"]
    message: str = ""
    path: str = ""


@cache
def shipped_releases() -> tuple[Version, ...]:
    from kubernetes_validate import utils

    found = {version(v) for v in utils.all_versions()}
    return tuple(sorted(v for v in found if v))


def choose_schema(target: Version) -> SchemaChoice:
    """The shipped schema release nearest to `target` (the newest not newer, else the oldest)."""
    from kubernetes_validate.version import __version__

    releases = shipped_releases()
    older = [r for r in releases if r <= target]
    return SchemaChoice(older[-1] if older else releases[0], target, __version__)


# API groups served by Kubernetes itself; everything else is a custom resource.
def is_builtin_group(group: str) -> bool:
    if "." not in group:
        return True  # "", apps, batch, policy, autoscaling, extensions, ...
    return group.endswith(".k8s.io") and not group.endswith(".x-k8s.io")


def validate_object(data: dict[str, Any], choice: SchemaChoice) -> SchemaResult:
    """Validate one object; objects without a shipped schema are `no-schema`, not errors."""
    import jsonschema

    api_version, kind = str(data.get("apiVersion", "")), str(data.get("kind", ""))
    group, _ = split_api(api_version)
    if not is_builtin_group(group):
        return SchemaResult("no-schema", "custom resource")
    validator = compiled_validator(fmt(choice.release), api_version, kind)
    if validator is None:
        where = f"{api_version} {kind}"
        return SchemaResult("no-schema", f"no Kubernetes {fmt(choice.release)} schema for {where}")
    error = next(validator.iter_errors(data), None)  # the first, as jsonschema's validate()
    if error is None:
        return SchemaResult("valid")
    assert isinstance(error, jsonschema.ValidationError)
    return SchemaResult("invalid", error.message, format_path(tuple(error.absolute_path)))


SAFE_KIND = re.compile(r"^[A-Za-z0-9]+$")
SAFE_API = re.compile(r"^(?:[a-z0-9.-]+/)?v[a-z0-9]+$")


@cache
def compiled_validator(release: str, api_version: str, kind: str, strict: bool = True) -> Any:
    """The validator of kubernetes-validate (strict: unknown fields rejected) for
    (release, apiVersion, kind), built once: its `validate()` reads and compiles the schema
    and the release's whole definitions file on every call, which dominated `upgrade` on
    a chart corpus and `fix`'s proofs."""
    import jsonschema
    from kubernetes_validate import utils

    if not (SAFE_KIND.match(kind) and SAFE_API.match(api_version)):
        return None  # the names become a file name inside the package: nothing else
    # kubernetes-validate's file naming: rbac.authorization.k8s.io/v1 -> rbac-v1
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder = f"kubernetes-json-schema/v{release}.0-local" + ("-strict" if strict else "")
    try:
        schema = utils.schema_contents(f"{folder}/{kind.lower()}-{api}.json", release)
    except FileNotFoundError:
        return None
    registry, inline = _registry(folder, release)
    from referencing import Resource

    schema = inline(schema)
    return jsonschema.validators.Draft202012Validator(
        schema, registry=Resource.from_contents(schema) @ registry
    )


DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"


@cache
def _registry(folder: str, release: str) -> tuple[Any, Callable[[Any], Any]]:
    """The release's definitions as a registry, and a function that inlines them into a
    schema: following a `$ref` through the registry cost more than checking what it
    points at (a third of `upgrade`'s validation)."""
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    definitions = utils.schema_contents(f"{folder}/_definitions.json", release)
    registry = Resource.from_contents(definitions) @ Registry()
    return registry, _inliner(definitions.get("$defs", {}))


def _inliner(defs: dict[str, Any]) -> Callable[[Any], Any]:
    """Replace each `$ref` to a definition by the definition itself (inlined in turn, built
    once and shared). Kubernetes' references carry only annotations beside `$ref`
    (description, x-kubernetes-*), so the replacement validates exactly the same. A
    reference back into a definition being inlined (JSONSchemaProps nests itself) stays a
    `$ref`, made absolute so that it still resolves from inside another schema."""
    done: dict[str, Any] = {}
    active: set[str] = set()

    def name_of(ref: Any) -> str | None:
        if not isinstance(ref, str):
            return None
        head, sep, name = ref.partition("#/$defs/")
        if not sep or head not in ("", "/api/_definitions.json", DEFINITIONS_ID):
            return None
        return name if name in defs else None

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(v) for v in node]
        if not isinstance(node, dict):
            return node
        name = name_of(node.get("$ref"))
        if name is not None and _annotations_only(node):
            if name in done:
                return done[name]
            if name in active:
                return {**node, "$ref": f"{DEFINITIONS_ID}#/$defs/{name}"}
            active.add(name)
            done[name] = inline(defs[name])
            active.discard(name)
            return done[name]
        return {k: inline(v) for k, v in node.items()}

    return inline


def _annotations_only(node: dict[str, Any]) -> bool:
    return all(k in ("$ref", "description") or k.startswith("x-kubernetes-") for k in node)
