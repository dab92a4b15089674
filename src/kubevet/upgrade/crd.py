"""Deprecations declared by CustomResourceDefinitions themselves (spec.versions[])."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubevet.model import K8sObject


@dataclass(frozen=True, slots=True)
class CrdVersion:
    """One version of a CRD in the input: whether it is served and stored."""

    crd: str  # the CRD's name, e.g. widgets.example.com
    group: str
    version: str
    kind: str
    served: bool
    storage: bool
    deprecated: bool
    warning: str  # deprecationWarning, or ""
    preferred: str  # a served, non-deprecated version to move to (the storage one if it is)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


def crd_versions(objects: Iterable[K8sObject]) -> dict[tuple[str, str], CrdVersion]:
    """(apiVersion, kind) -> what the CRD says about that version, for every CRD given."""
    out: dict[tuple[str, str], CrdVersion] = {}
    for obj in objects:
        if obj.kind != "CustomResourceDefinition":
            continue
        for info in _versions(obj.data):
            out[(info.api_version, info.kind)] = info
    return out


def _versions(data: dict[str, Any]) -> list[CrdVersion]:
    spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    group, kind = str(spec.get("group") or ""), str((spec.get("names") or {}).get("kind") or "")
    name = str((data.get("metadata") or {}).get("name") or "")
    raw = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("name")]
    if not raw and spec.get("version"):  # apiextensions v1beta1 single-version form
        raw = [{"name": spec["version"], "served": True, "storage": True}]
    good = [v for v in raw if v.get("served", True) and not v.get("deprecated")]
    good.sort(key=lambda v: not v.get("storage"))
    preferred = str(good[0]["name"]) if good else ""
    return [
        CrdVersion(
            crd=name,
            group=group,
            version=str(v["name"]),
            kind=kind,
            served=v.get("served", True) is not False,
            storage=bool(v.get("storage")),
            deprecated=bool(v.get("deprecated")),
            warning=str(v.get("deprecationWarning") or ""),
            preferred=preferred,
        )
        for v in raw
    ]


def crd_problem(obj: K8sObject, crds: dict[tuple[str, str], CrdVersion]) -> str | None:
    """A sentence on why `obj`'s version is a problem per its CRD, or None."""
    info = crds.get((obj.api_version, obj.kind))
    if info is None:
        return None
    move = f"; use {info.group}/{info.preferred}" if info.preferred else ""
    if not info.served:
        return f"{info.api_version} {info.kind} is not served by CRD {info.crd}{move}"
    if info.deprecated:
        if info.warning:
            named = re.search(rf"{re.escape(info.group)}/{info.preferred}(?![\w.])", info.warning)
            return info.warning + ("" if named else move)
        return f"{info.api_version} {info.kind} is deprecated by CRD {info.crd}{move}"
    return None
