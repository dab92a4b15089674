"""Input discovery: turn command-line paths into inputs (charts, overlays, manifest sets)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubevet.context import InputGroup
from kubevet.findings import InputError
from kubevet.sources.helmoptions import is_values_name as _is_values_name

if TYPE_CHECKING:
    from kubevet.sources.cluster import ClusterOptions
    from kubevet.sources.helmoptions import HelmOptions

MANIFEST_EXTENSIONS = (".yaml", ".yml", ".json")
CHART_ARCHIVES = (".tgz", ".tar.gz")
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox"}


@dataclass
class Input:
    """One input of a run (files, a chart, an overlay, stdin, a cluster) before it is read."""

    kind: str  # "manifests", "chart", "kustomize", "stdin", "cluster", "error"
    label: str
    files: list[str] = field(default_factory=list)
    error: InputError | None = None
    walked: bool = False  # files found in a walk: non-Kubernetes YAML is skipped, not an error
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) left out


def discover(
    paths: list[str], exclude: Sequence[str] = (), gitignore: bool = True, lenient: bool = False
) -> list[Input]:
    """Charts (a dir with Chart.yaml, or a .tgz) and overlays are inputs of their own;
    manifest files named on the command line form one input, and so do those of each
    directory found in a walk. A walk leaves out `exclude` patterns and, with `gitignore`,
    what `.gitignore` files ignore; paths named on the command line are always read.
    `lenient`: a named file holding no Kubernetes object is skipped and counted, as in a
    walk (for hooks that pass every changed file)."""
    from kubevet.sources.kustomfile import kustomization_file

    inputs: list[Input] = []
    loose: list[str] = []
    for path in paths:
        refused = _refused(path)
        if path == "-":
            inputs.append(Input("stdin", "-"))
        elif refused:
            inputs.append(Input("error", path, error=InputError(path, refused)))
        elif os.path.isfile(path):
            if path.endswith(CHART_ARCHIVES):
                inputs.append(Input("chart", path))
            else:
                loose.append(path)
        elif os.path.isdir(path):
            if os.path.isfile(os.path.join(path, "Chart.yaml")):
                inputs.append(Input("chart", path))
            elif kustomization_file(path):
                inputs.append(Input("kustomize", path))
            else:
                inputs.extend(_walk(path, exclude, gitignore))
        elif os.path.exists(path):
            loose.append(path)  # a FIFO or device: the reader reports what it is
        else:
            err = InputError(path, "no such file or directory")
            inputs.append(Input("error", path, error=err))
    if loose:
        label = loose[0] if len(loose) == 1 else f"{len(loose)} files"
        inputs.insert(0, Input("manifests", label, loose, walked=lenient))
    return inputs


def input_bytes(item: Input) -> int:
    """The bytes an input reads from disk (its files, or every file under a chart or an
    overlay directory), to schedule the largest first: 0 where unknown (stdin, a cluster,
    an unreadable entry). Links are not followed; nothing is opened."""
    paths = list(item.files)
    if item.kind in ("chart", "kustomize"):
        if os.path.isdir(item.label):
            for root, _dirs, names in os.walk(item.label):
                paths += [os.path.join(root, n) for n in names]
        else:
            paths.append(item.label)
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += os.lstat(path).st_size
    return total


def with_cluster(inputs: list[Input], cluster: object) -> list[Input]:
    """The inputs, plus the live cluster as one more when `cluster` (ClusterOptions) is set."""
    return [*inputs, Input("cluster", "cluster")] if cluster is not None else inputs


REMOTE_CHART = ("oci://", "http://", "https://")
# What a chart holds besides manifests: passing one of these alone cannot work.
CHART_PARTS = ("templates", "ci")
CHART_FILES = ("Chart.yaml", "Chart.lock", "requirements.yaml", "values.schema.json")


def _refused(path: str) -> str | None:
    """Why `path` cannot be checked as given, with what to pass instead."""
    if path.startswith(REMOTE_CHART):
        return (
            "chart repositories are not fetched (scans never use the network): run "
            f"`helm pull {path}` and pass the downloaded .tgz (or its unpacked directory)"
        )
    chart = _enclosing_chart(path)
    if chart is None:
        return None
    return f"this is part of the chart {chart}: pass the chart directory (kubevet check {chart})"


def _enclosing_chart(path: str) -> str | None:
    """The chart whose templates, values or metadata `path` is (None for the chart itself,
    for its `crds/` and other plain manifests kept beside it, and for paths outside charts)."""
    if not os.path.exists(path) or os.path.isfile(os.path.join(path, "Chart.yaml")):
        return None
    full = os.path.abspath(path)
    parts: list[str] = []
    directory = full
    while True:
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        parts.insert(0, os.path.basename(directory))
        directory = parent
        if os.path.isfile(os.path.join(directory, "Chart.yaml")):
            break
    first = parts[0]
    is_values = len(parts) == 1 and _is_values_name(first)
    if first not in CHART_PARTS and first not in CHART_FILES and not is_values:
        return None
    cwd = os.getcwd()
    inside = directory == cwd or directory.startswith(cwd.rstrip(os.sep) + os.sep)
    return os.path.relpath(directory) if inside else directory


def _walk(root: str, exclude: Sequence[str] = (), gitignore: bool = True) -> list[Input]:
    """Each directory's own manifest files form one input (cross-object rules, such as a
    Service selecting a Deployment, see the files of one directory together); charts and
    overlays found on the way are inputs of their own and are not descended into. Helm
    values files beside a chart are the chart's values, not manifests."""
    from kubevet.sources.builds import is_dockerfile_name
    from kubevet.sources.ignore import PathFilter
    from kubevet.sources.kustomfile import kustomization_file

    keep_out = PathFilter(root, exclude, gitignore)
    found: list[Input] = []

    def unreadable(exc: OSError) -> None:  # a directory that cannot be listed is reported
        where = exc.filename or root
        err = InputError(where, f"cannot read directory: {exc.strerror or exc}")
        found.append(Input("error", where, error=err))

    for directory, dirs, names in os.walk(root, onerror=unreadable):
        keep_out.enter(directory)
        dirs.sort()
        keep = []
        charts = False
        for d in dirs:
            sub = os.path.join(directory, d)
            if d in SKIP_DIRS or d.startswith(".") or keep_out.skips(sub, is_dir=True):
                continue
            if os.path.isfile(os.path.join(sub, "Chart.yaml")):
                found.append(Input("chart", sub))
                charts = True
            elif kustomization_file(sub):
                found.append(Input("kustomize", sub))
            else:
                keep.append(d)
        dirs[:] = keep
        charts = charts or any(n.endswith(CHART_ARCHIVES) for n in names)
        files, skipped = [], []
        for name in sorted(names):
            path = os.path.join(directory, name)
            if keep_out.skips(path):
                continue
            if charts and _is_values_name(name):
                skipped.append((path, "Helm values file beside a chart"))
            elif name.endswith(MANIFEST_EXTENSIONS) or is_dockerfile_name(name):
                files.append(path)
            elif name.endswith(CHART_ARCHIVES):
                found.append(Input("chart", path))
        if files or skipped:
            found.append(Input("manifests", directory, files, walked=True, skipped=skipped))
    return found


def load_input(
    item: Input,
    helm_opts: HelmOptions,
    cluster: ClusterOptions | None = None,
    snapshot: bool = False,
) -> InputGroup:
    """Read one input into objects; every problem becomes an InputError in the group.
    `snapshot`: manifests are `kubectl get -o yaml` dumps, normalised as a cluster is."""
    group = _load(item, helm_opts, cluster)
    if snapshot and group.source in ("manifests", "stdin"):
        from kubevet.sources.cluster import as_snapshot

        as_snapshot(group)
    return group


def _load(item: Input, helm_opts: HelmOptions, cluster: ClusterOptions | None) -> InputGroup:
    if item.kind == "cluster":
        from kubevet.sources.cluster import load_cluster_input

        return load_cluster_input(cluster)  # type: ignore[arg-type]
    if item.kind == "chart":
        from kubevet.sources.helm import load_chart

        return load_chart(item.label, helm_opts)  # type: ignore[arg-type]
    if item.kind == "kustomize":
        from kubevet.sources.kustomize import load_overlay

        return load_overlay(item.label)
    if item.kind == "stdin":
        from kubevet.sources.manifests import load_stdin
        from kubevet.sources.reader import decode_text, read_stdin

        try:
            return load_stdin(decode_text("-", read_stdin()))
        except InputError as err:
            return InputGroup(label="-", source="stdin", errors=[err])
    if item.kind == "manifests":
        from kubevet.sources.manifests import load_manifest_files

        group = load_manifest_files(item.label, item.files, item.walked)
        group.skipped[:0] = item.skipped
        return group
    group = InputGroup(label=item.label, source="error")
    if item.error:
        group.errors.append(item.error)
    return group


def skipped_summary(skipped: list[tuple[str, str]]) -> list[str]:
    """The same on one line, for commands that report it as a warning."""
    if not skipped:
        return []
    names = sorted(path for path, _ in skipped)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return [f"{len(names)} non-Kubernetes YAML files skipped: {shown}"]


def skipped_lines(skipped: list[tuple[str, str]], verbose: bool) -> list[str]:
    """What a walk left out, for stderr: a count, or with `verbose` each file and why."""
    if not skipped:
        return []
    noun = "file" if len(skipped) == 1 else "files"
    head = f"{len(skipped)} non-Kubernetes YAML {noun} skipped"
    if not verbose:
        return [head + " (list them with -v)"]
    return [head + ":"] + [f"  {path}: {why}" for path, why in sorted(skipped)]
