"""Lever 2: a Kustomize patch set over a chart's render, for what no values key reaches.

The fixes are applied to the rendered objects themselves; each changed object becomes one
JSON 6902 patch (the difference, all its findings together) and each object a fix needs
that the chart lacks (a PodDisruptionBudget) a resource. The set is a directory usable as
`helm install --post-renderer DIR/kustomize.sh` and, for its patches, as the
`spec.postRenderers` of a Flux HelmRelease. It is proven by applying it to the render
(kubectl's Kustomize when installed, and always kubevet's own JSON Patch) and checking
again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any

from kubevet.fix.jsonpatch import JsonOp, PatchError, apply_ops, diff_ops
from kubevet.fix.verify import identity
from kubevet.fix.yamlout import dump, dump_all

RENDERED = "helm-rendered.yaml"  # what the post-renderer script writes Helm's stdin to
KUSTOMIZE_TIMEOUT = 120

SCRIPT = """#!/bin/sh
# Helm post-renderer written by `kubevet fix`:
#   helm install RELEASE CHART --post-renderer {dir}/kustomize.sh
# Helm's render arrives on stdin; the patches of this directory are applied to it with
# kubectl's Kustomize and the result goes to stdout.
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$here"/. "$work"/
cat > "$work/{rendered}"
kubectl kustomize "$work"
"""


@dataclass
class Patch:
    target: dict[str, str]  # Kustomize selector: group, version, kind, name, namespace
    ops: list[JsonOp]
    file: str = ""


@dataclass
class PatchSet:
    patches: list[Patch] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)  # objects added

    def __bool__(self) -> bool:
        return bool(self.patches or self.resources)


def target_of(data: dict[str, Any]) -> dict[str, str]:
    """The Kustomize selector of exactly this object (names are regular expressions to
    Kustomize, so they are escaped)."""
    group, _, version = str(data.get("apiVersion", "")).rpartition("/")
    meta = data.get("metadata") or {}
    out = {"group": group, "version": version, "kind": str(data.get("kind"))}
    out["name"] = _literal(str(meta.get("name")))
    if meta.get("namespace"):
        out["namespace"] = _literal(str(meta["namespace"]))
    return {k: v for k, v in out.items() if v}


def _literal(name: str) -> str:
    """`name` as a regular expression matching only itself (Go's syntax, as Kustomize)."""
    return re.sub(r"([.*+?^${}()|\[\]\\])", r"\\\1", name)


def build(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> PatchSet:
    """The patch set turning the objects `before` into `after` (same order; objects only
    in `after` are resources)."""
    known = {identity(d): d for d in before}
    out = PatchSet()
    for data in after:
        old = known.get(identity(data))
        if old is None:
            out.resources.append(data)
            continue
        ops = diff_ops(old, data)
        if ops:
            name = f"{len(out.patches) + 1:02d}-{_slug(identity(data))}.yaml"
            out.patches.append(Patch(target_of(old), ops, f"patches/{name}"))
    return out


def _slug(ident: tuple[str, str, str]) -> str:
    text = "-".join(p for p in (ident[0], ident[2]) if p).lower()
    return re.sub(r"[^a-z0-9.-]+", "-", text)[:60]


def apply_set(objects: list[dict[str, Any]], patches: PatchSet) -> list[dict[str, Any]]:
    """`objects` with the patch set applied, as Kustomize does: each patch must select
    exactly one object; resources are added after the render."""
    out = list(objects)
    for patch in patches.patches:
        hits = [i for i, d in enumerate(out) if _selects(patch.target, d)]
        if len(hits) != 1:
            raise PatchError(f"{patch.file}: the target selects {len(hits)} objects, not 1")
        out[hits[0]] = apply_ops(out[hits[0]], patch.ops)
    return out + [dict(r) for r in patches.resources]


def _selects(target: dict[str, str], data: dict[str, Any]) -> bool:
    mine = target_of(data)
    return all(mine.get(k, "") == v for k, v in target.items()) and (
        "namespace" in target or "namespace" not in mine
    )


def files(patches: PatchSet, directory: str = ".") -> dict[str, str]:
    """The directory's files by relative path: kustomization.yaml, the patches, the added
    objects, the post-renderer script and the Flux block."""
    out: dict[str, str] = {}
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [RENDERED],
    }
    for i, obj in enumerate(patches.resources, 1):
        name = f"resources/{i:02d}-{_slug(identity(obj))}.yaml"
        out[name] = dump(obj)
        kustomization["resources"].append(name)
    if patches.patches:
        kustomization["patches"] = [{"path": p.file, "target": p.target} for p in patches.patches]
    for p in patches.patches:
        out[p.file] = dump(p.ops)
    head = "# Written by `kubevet fix`: Kustomize patches over the chart's render.\n"
    out["kustomization.yaml"] = head + dump(kustomization)
    out["kustomize.sh"] = SCRIPT.format(dir=directory, rendered=RENDERED)
    out["flux-postrenderers.yaml"] = flux_block(patches)
    return out


def flux_block(patches: PatchSet) -> str:
    """The `spec.postRenderers` of a Flux HelmRelease holding the same patches."""
    inline = [{"target": p.target, "patch": dump(p.ops)} for p in patches.patches]
    block = {"postRenderers": [{"kustomize": {"patches": inline}}]} if inline else {}
    head = "# spec.postRenderers of a Flux HelmRelease (helm.toolkit.fluxcd.io/v2)\n"
    if patches.resources:
        head += (
            "# Flux post-renderers only patch: apply the objects under resources/ beside the\n"
            "# HelmRelease (for example in the same Kustomization).\n"
        )
    return head + (dump(block) if block else "")


def kustomize(objects: list[dict[str, Any]], patches: PatchSet) -> list[dict[str, Any]] | None:
    """The objects as `kubectl kustomize` makes them of the render and the set, or None
    when kubectl is not installed; a Kustomize failure raises PatchError with its words."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    with tempfile.TemporaryDirectory(prefix="kubevet-kustomize-") as tmp:
        for rel, text in files(patches, tmp).items():
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), "w", encoding="utf-8") as fh:
                fh.write(text)
        with open(os.path.join(tmp, RENDERED), "w", encoding="utf-8") as fh:
            dump_all(objects, fh)
        try:
            done = subprocess.run(
                [kubectl, "kustomize", tmp],
                capture_output=True,
                text=True,
                timeout=KUSTOMIZE_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PatchError(f"kubectl kustomize did not run: {exc}") from None
    if done.returncode != 0:
        raise PatchError(f"kubectl kustomize: {done.stderr.strip().splitlines()[-1:]}")
    return _objects(done.stdout)


def _objects(text: str) -> list[dict[str, Any]]:
    """Kustomize's output read as kubevet reads a render (YAML 1.2 plain scalars that
    YAML 1.1 types, such as `=`, are strings, as Kubernetes reads them)."""
    from kubevet.sources.yamldocs import parse_stream

    docs, errors = parse_stream(text, "kubectl kustomize output")
    if errors:
        raise PatchError(str(errors[0]))
    return [d.data for d in docs if d.data]


def same_objects(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> list[str]:
    """Objects that differ between two results of applying a set (order aside)."""
    a = {identity(d): _no_nulls(_no_empty_meta(d)) for d in first}
    b = {identity(d): _no_nulls(_no_empty_meta(d)) for d in second}
    problems = [f"missing {' '.join(k)}" for k in a if k not in b]
    problems += [f"extra {' '.join(k)}" for k in b if k not in a]
    problems += [f"differs {' '.join(k)}" for k in a if k in b and a[k] != b[k]]
    return problems


def _no_empty_meta(data: dict[str, Any]) -> dict[str, Any]:
    """Empty `metadata.annotations` / `labels` and none are the same object (Kustomize
    drops the empty maps it leaves after removing its own annotations)."""
    meta = data.get("metadata")
    if not isinstance(meta, dict) or not any(meta.get(k) == {} for k in ("annotations", "labels")):
        return data
    kept = {k: v for k, v in meta.items() if not (k in ("annotations", "labels") and v == {})}
    return {**data, "metadata": kept}


def _no_nulls(node: Any) -> Any:
    """`field: null` and no field are the same object to the API server (and Kustomize
    writes some of them one way, some the other)."""
    if isinstance(node, dict):
        return {k: _no_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_no_nulls(v) for v in node]
    return node
