"""Kustomize overlays, built with `kubectl kustomize` when kubectl is installed.

Remote bases (URLs, git refs) are refused before kubectl runs, since a scan never uses the
network; exec plugins and Helm inflation stay off (kubectl's defaults).

Each object names the file it came from: the overlay is built through a temporary
kustomization that includes it and asks for Kustomize's origin annotations
(`buildMetadata: [originAnnotations]`), so the user's tree is never written to. The
annotation is removed before rules see the object, and a finding's line is the field's
line in that file when the field is there with the value the build gave it (a field an
overlay patched or added has no line in the base: the object's own line is given).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import yaml

from kubevet import lazy_compile
from kubevet.context import InputGroup
from kubevet.findings import InputError
from kubevet.model import K8sObject, Origin, Path, get_path
from kubevet.sources.kustomfile import KUSTOMIZATION_FILES as KUSTOMIZATION_FILES
from kubevet.sources.kustomfile import kustomization_file
from kubevet.sources.manifests import add_text, load_yaml
from kubevet.sources.reader import read_text
from kubevet.sources.yamldocs import Document, locate_many, parse_stream

if TYPE_CHECKING:
    import subprocess

_REMOTE = lazy_compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")
TIMEOUT_S = 120
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"


def load_overlay(directory: str) -> InputGroup:
    group = InputGroup(label=directory, source="kustomize")
    kfile = kustomization_file(directory) or os.path.join(directory, "kustomization.yaml")
    missing: list[tuple[str, int | None, str]] = []
    remote = find_remote_resources(directory, missing=missing)
    if remote or missing:  # each one named; the overlay cannot be built without them
        group.errors.extend(
            InputError(file, _remote_message(ref), line) for file, line, ref in remote
        )
        group.errors.extend(
            InputError(file, f"{ref!r} does not exist (the overlay cannot be built)", line)
            for file, line, ref in missing
        )
        return group
    import shutil  # here: only an overlay build needs it
    import subprocess

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        group.errors.append(
            InputError(
                kfile,
                "Kustomize overlay not built: kubectl is not installed "
                "(install Debian's kubernetes-client package, or run `kubectl kustomize` "
                "yourself and pass its output with `-`)",
            )
        )
        return group
    traced, base = _build_with_origins(kubectl, directory)
    proc = traced if traced is not None and traced.returncode == 0 else None
    try:
        proc = proc or _build(kubectl, directory)
    except (OSError, subprocess.TimeoutExpired) as exc:
        group.errors.append(InputError(kfile, f"kubectl kustomize failed: {exc}"))
        return group
    if proc.returncode != 0:
        msg = kubectl_error(proc.stderr)
        group.errors.append(InputError(kfile, f"kustomize build failed: {msg}"))
        return group

    def origin_for(doc: Any) -> Origin:
        return Origin(kfile, doc.line, rendered=True)

    add_text(group, proc.stdout, kfile, origin_for)
    if traced is proc:
        sources = _Sources()
        located = [_from_source(o, directory, base, sources) for o in group.objects]
        group.objects = located
    return group


def _remote_message(ref: str) -> str:
    if ref.startswith(("helmCharts ", "helmChartInflationGenerator ")) and "://" not in ref:
        # a local chart: Kustomize renders it by running the helm binary (--enable-helm)
        return (
            f"{ref!r}: Kustomize renders it by running helm, which kubevet never does; "
            "check the chart itself (kubevet check CHART -f VALUES)"
        )
    return f"remote resource {ref!r} not fetched: scans never use the network"


_KLOG = lazy_compile(r'^[EWI]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] "command failed" err=')


def kubectl_error(stderr: str) -> str:
    """kubectl's error on one line: its log prefix dropped, a multi-line `err=<...>`
    block joined (its last line alone is ` >`)."""
    text = _KLOG.sub("", stderr.strip(), count=1)
    if text.startswith("<"):
        text = text[1:].rsplit(">", 1)[0]
    text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    text = text[1:-1] if len(text) > 1 and text[0] == text[-1] == '"' else text
    return (text[:400] + " ...") if len(text) > 400 else text or "unknown error"


def _build(kubectl: str, directory: str) -> subprocess.CompletedProcess[str]:
    import subprocess

    return subprocess.run(
        [kubectl, "kustomize", directory],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env={**os.environ, "KUBECONFIG": os.devnull},
    )


def _build_with_origins(
    kubectl: str, directory: str
) -> tuple[subprocess.CompletedProcess[str] | None, str]:
    """The build through a temporary kustomization that includes the overlay and asks for
    origin annotations, and the directory their paths are relative to (Kustomize refuses
    an absolute resource path). A failed result when this kubectl's Kustomize cannot (the
    one in old kubectl has no buildMetadata): the plain build is used then."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kubevet-kustomize-") as tmp:
        try:
            ref = os.path.relpath(os.path.abspath(directory), tmp)
        except ValueError:  # another drive
            return None, tmp
        wrapper = {"resources": [ref], "buildMetadata": ["originAnnotations"]}
        with open(os.path.join(tmp, "kustomization.yaml"), "w", encoding="utf-8") as fh:
            yaml.safe_dump(wrapper, fh)
        try:
            return _build(kubectl, tmp), tmp
        except (OSError, subprocess.TimeoutExpired):
            return None, tmp


class _Sources:
    """Each source file parsed once per overlay."""

    def __init__(self) -> None:
        self.docs: dict[str, list[Document]] = {}

    def get(self, path: str) -> list[Document]:
        if path not in self.docs:
            try:
                self.docs[path] = parse_stream(read_text(path), path)[0]
            except InputError:
                self.docs[path] = []
        return self.docs[path]


def _from_source(obj: K8sObject, directory: str, base: str, sources: _Sources) -> K8sObject:
    """The object without its origin annotation, placed in the file it came from (shown
    as a path from the overlay directory as the user named it)."""
    annotations = obj.annotations
    raw = annotations.get(ORIGIN_ANNOTATION)
    if not isinstance(raw, str):
        return obj
    data = _without_origin(obj.data)
    try:
        origin = yaml.safe_load(raw) or {}
    except yaml.YAMLError:
        origin = {}
    rel = origin.get("path") or origin.get("configuredIn") if isinstance(origin, dict) else None
    if not isinstance(rel, str) or origin.get("repo"):
        return K8sObject(data, obj.origin, obj.source, obj.default_namespace)
    full = os.path.normpath(os.path.join(base, rel))
    shown = os.path.normpath(os.path.join(directory, os.path.relpath(full, directory)))
    doc = _matching_doc(sources.get(full), data) if origin.get("path") else None
    if doc is None:  # a generated object, or one not found again: the file, no line
        return K8sObject(data, Origin(shown, 0), None, obj.default_namespace)
    return K8sObject(data, Origin(shown, doc.line), _Located(doc, data), obj.default_namespace)


def _without_origin(data: dict[str, Any]) -> dict[str, Any]:
    meta = dict(data.get("metadata") or {})
    annotations = {k: v for k, v in meta.get("annotations", {}).items() if k != ORIGIN_ANNOTATION}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return {**data, "metadata": meta}


def _matching_doc(docs: list[Document], data: dict[str, Any]) -> Document | None:
    """The document of the source file that became `data`: the only one of its kind, or
    the one whose name the build kept or extended (namePrefix, nameSuffix)."""
    kind = data.get("kind")
    same = [d for d in docs if isinstance(d.data, dict) and d.data.get("kind") == kind]
    if len(same) <= 1:
        return same[0] if same else None
    name = str((data.get("metadata") or {}).get("name") or "")

    def source_name(d: Document) -> str:
        return str((d.data.get("metadata") or {}).get("name") or "")

    exact = [d for d in same if source_name(d) == name]
    if len(exact) == 1:
        return exact[0]
    inside = [d for d in same if source_name(d) and source_name(d) in name]
    return inside[0] if len(inside) == 1 else None


class _Located:
    """Field lines in the source document, for fields the build left as they are there.

    A field with another value in the build (a patch, a transformer) or missing from the
    source (added by the overlay) has no line of its own: None, so the object's line is
    used. A field missing from both gets its nearest ancestor's line, as for manifests.
    """

    def __init__(self, doc: Document, built: dict[str, Any]) -> None:
        self.doc = doc
        self.built = built

    def locate(self, paths: list[Path]) -> list[int | None]:
        doc = self.doc
        lines = locate_many(doc.text, doc.first_line, doc.index, paths)
        return [line if self._same(path) else None for path, line in zip(paths, lines, strict=True)]

    def _same(self, path: Path) -> bool:
        for cut in range(len(path), 0, -1):
            built = get_path(self.built, path[:cut], _MISSING)
            source = get_path(self.doc.data, path[:cut], _MISSING)
            if built is _MISSING and source is _MISSING:
                continue  # absent from both: judged by the nearest ancestor present
            return built == source or (cut < len(path) and source is not _MISSING)
        return True


_MISSING = object()


def find_remote_resources(
    directory: str,
    seen: set[str] | None = None,
    missing: list[tuple[str, int | None, str]] | None = None,
) -> list[tuple[str, int | None, str]]:
    """(file, line, reference) of each remote reference in this overlay or its local
    bases: Kustomize fetches any file it loads from a URL (resources, patches,
    configurations, CRDs, OpenAPI schemas, generator files ...), and Helm charts.
    `missing` gets (file, line, path) of each local path that does not exist."""
    seen = seen if seen is not None else set()
    real = os.path.realpath(directory)
    if real in seen:
        return []
    seen.add(real)
    kfile = kustomization_file(directory)
    if kfile is None:
        return []
    try:
        text = read_text(kfile)
        data = load_yaml(text, kfile) or {}  # a YAML bomb must not hang the scan
    except InputError:
        return []  # kubectl reports the real error with its own message
    found: list[tuple[str, int | None, str]] = []
    if not isinstance(data, dict):
        return found
    for ref in sorted(loaded_paths(data), key=lambda r: _line_of(text, r) or 0):  # file order
        if _REMOTE.match(ref) or "?ref=" in ref:
            found.append((kfile, _line_of(text, ref), ref))
        elif os.path.isdir(sub := os.path.normpath(os.path.join(directory, ref))):
            found.extend(find_remote_resources(sub, seen, missing))
        elif missing is not None and not os.path.lexists(sub):
            missing.append((kfile, _line_of(text, ref), ref))
    for key in ("helmCharts", "helmChartInflationGenerator"):
        for chart in _items(data.get(key)):
            name = str(chart.get("name") or chart.get("chartName") or "?")
            repo = str(chart.get("repo") or chart.get("chartRepoUrl") or "")
            found.append((kfile, _line_of(text, f"{key}:"), f"{key} {name} {repo}".strip()))
    return found


# kustomization fields holding paths Kustomize loads (a list of them, or items with `path`)
_PATH_LISTS = (
    "resources",
    "bases",
    "components",
    "patchesStrategicMerge",
    "configurations",
    "crds",
    "transformers",
    "generators",
    "validators",
)
_PATH_ITEMS = ("patches", "patchesJson6902", "replacements")
_GENERATORS = ("configMapGenerator", "secretGenerator")


def loaded_paths(data: dict[str, Any]) -> list[str]:
    """Every path or URL a kustomization makes Kustomize load."""
    out = [r for key in _PATH_LISTS for r in data.get(key) or [] if isinstance(r, str)]
    out += [str(i["path"]) for key in _PATH_ITEMS for i in _items(data.get(key)) if "path" in i]
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        out.append(openapi["path"])
    for gen in (g for key in _GENERATORS for g in _items(data.get(key))):
        files = [f for f in gen.get("files") or [] if isinstance(f, str)]
        out += [f.split("=", 1)[-1] for f in files]  # `key=path` or `path`
        out += [e for e in [*(gen.get("envs") or []), gen.get("env")] if isinstance(e, str)]
    return out


def _items(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _line_of(text: str, needle: str) -> int | None:
    """The first line holding `needle` as a value of its own: `p.yaml` is not found in
    `- dep.yaml` (it was, and a missing patch was reported at the resource's line)."""
    alone = re.compile(rf"(?:^|[\s\[,='\"]){re.escape(needle)}(?:$|[\s\],'\"#])")
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line and alone.search(line):
            return number
    return None
