"""Helm v3 releases stored in the cluster, read from a dump (`kubectl get secrets -A -o yaml`).

Helm's Secret storage driver (helm/helm pkg/storage/driver: secrets.go newSecretsObject,
util.go encodeRelease) stores revision N of release NAME in the Secret
`sh.helm.release.v1.NAME.vN` of type `helm.sh/release.v1`, with
`data.release = base64(gzip(JSON of the release))` as the Secret's bytes; a dumped Secret
base64-encodes those bytes once more. The ConfigMap driver stores the same string under
`data.release` without the extra layer (labels `owner: helm`). Releases stored before Helm
compressed them are base64 of plain JSON.

For the newest deployed revision of each release this gives two inputs: the stored
manifest (what runs today, what `helm upgrade` reads back and must still be able to build)
and the stored chart re-rendered with the stored user values for a Kubernetes version
(whether `helm upgrade` with the same chart still works after the cluster upgrade). Helm
does not store subcharts with the release, so their objects are judged on the manifest.
Nothing here contacts a cluster.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from kubevet import jsontext
from kubevet.chartinfo import ChartInfo
from kubevet.context import InputGroup
from kubevet.findings import InputError
from kubevet.model import K8sObject, Origin

SECRET_TYPE = "helm.sh/release.v1"
PREFIX = "sh.helm.release.v1."
GZIP_MAGIC = b"\x1f\x8b"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass
class Release:
    name: str
    namespace: str
    revision: int
    status: str
    data: dict[str, Any]  # the decoded release JSON
    origin: Origin  # the Secret or ConfigMap it was read from

    @property
    def chart_meta(self) -> dict[str, Any]:
        chart = self.data.get("chart") if isinstance(self.data.get("chart"), dict) else {}
        meta = chart.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def chart_ref(self) -> str:
        meta = self.chart_meta
        return f"{meta.get('name', '?')}-{meta.get('version', '?')}"

    @property
    def label(self) -> str:
        return f"release {self.namespace}/{self.name} v{self.revision} ({self.chart_ref})"

    @property
    def user_values(self) -> dict[str, Any]:
        config = self.data.get("config")
        return config if isinstance(config, dict) else {}


def is_release_object(obj: K8sObject) -> bool:
    if obj.kind == "Secret" and obj.api_version == "v1":
        return obj.data.get("type") == SECRET_TYPE or obj.name.startswith(PREFIX)
    if obj.kind == "ConfigMap" and obj.api_version == "v1":
        owner = str(obj.labels.get("owner") or obj.labels.get("OWNER") or "").lower()
        data = obj.data.get("data")
        return owner == "helm" and isinstance(data, dict) and "release" in data
    return False


def decode_release(obj: K8sObject) -> dict[str, Any]:
    """The release JSON of a storage Secret or ConfigMap; ValueError says what is wrong."""
    data = obj.data.get("data")
    raw = data.get("release") if isinstance(data, dict) else None
    if not isinstance(raw, str) or not raw:
        raise ValueError("no data.release")
    try:
        payload = base64.b64decode(raw, validate=False)
        if obj.kind == "Secret":  # the Secret's own encoding of Helm's base64 string
            payload = base64.b64decode(payload, validate=False)
        if payload[:2] == GZIP_MAGIC:
            payload = _inflate(payload)
        release = jsontext.loads(payload)
    except (binascii.Error, OSError, EOFError, zlib.error, ValueError) as exc:
        raise ValueError(f"data.release is not base64 of gzipped release JSON ({exc})") from None
    if not isinstance(release, dict):
        raise ValueError("the release JSON is not an object")
    if not isinstance(release.get("version", 0), int):
        raise ValueError(f"the release version is not a number: {release.get('version')!r}")
    return release


def _inflate(payload: bytes) -> bytes:
    """gunzip, no further than `limits.archive-size`: a few MiB of Secret can hold a
    gzip stream that inflates to gigabytes."""
    from kubevet import limits

    bound = limits.current().archive_size
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = inflater.decompress(payload, bound + 1)
    if len(out) > bound:
        raise ValueError(
            f"the release inflates past the {limits.describe_size(bound)} limit "
            "(config limits.archive-size)"
        )
    if not inflater.eof:
        raise ValueError("the gzip stream is truncated")
    return out


def find_releases(groups: list[InputGroup]) -> tuple[list[Release], list[InputError], list[str]]:
    """The newest deployed revision of each release stored among the groups' objects."""
    found: dict[tuple[str, str], list[Release]] = {}
    errors: list[InputError] = []
    for obj in (o for g in groups for o in g.objects if is_release_object(o)):
        try:
            data = decode_release(obj)
        except ValueError as exc:
            msg = (
                f"{obj.kind} {obj.namespace or ''}/{obj.name}: cannot read the Helm release: {exc}"
            )
            errors.append(InputError(obj.origin.file, msg, obj.origin.line))
            continue
        info = data.get("info") if isinstance(data.get("info"), dict) else {}
        rel = Release(
            name=str(data.get("name") or obj.labels.get("name") or obj.name),
            namespace=str(data.get("namespace") or obj.namespace or "default"),
            revision=int(data.get("version") or 0),
            status=str(info.get("status") or obj.labels.get("status") or ""),
            data=data,
            origin=obj.origin,
        )
        found.setdefault((rel.namespace, rel.name), []).append(rel)
    releases, notes = [], []
    for (ns, name), revisions in sorted(found.items()):
        deployed = [r for r in revisions if r.status == "deployed"]
        if deployed:
            releases.append(max(deployed, key=lambda r: r.revision))
        else:
            latest = max(revisions, key=lambda r: r.revision)
            notes.append(
                f"release {ns}/{name}: no deployed revision (newest v{latest.revision} is "
                f"{latest.status or 'of unknown status'}); not checked"
            )
    return releases, errors, notes


def manifest_group(rel: Release) -> InputGroup:
    """The stored manifest (hooks included) as objects, located at the release's Secret."""
    from kubevet.sources.manifests import add_text

    group = InputGroup(label=f"{rel.label} stored manifest", source="release")
    group.chart = ChartInfo(rel.chart_meta.get("name"), rel.chart_meta.get("version"))
    texts = [str(rel.data.get("manifest") or "")]
    for hook in rel.data.get("hooks") or []:
        if isinstance(hook, dict) and hook.get("manifest"):
            texts.append(str(hook["manifest"]))
    for text in texts:

        def origin_for(doc: Any) -> Origin:
            return dataclasses.replace(rel.origin, template=_source_comment(doc))

        add_text(group, text, rel.origin.file, origin_for, default_namespace=rel.namespace)
    return group


@contextlib.contextmanager
def stored_chart(rel: Release, helm_opts: Any) -> Iterator[tuple[str, Any, list[str]]]:
    """The stored chart written to a temporary directory, and render options for it with
    the stored user values, release name and namespace: what `helm upgrade NAME` with the
    same chart and `--reuse-values` renders. Raises OSError/ValueError for a bad chart."""
    workdir = tempfile.mkdtemp(prefix="kubevet-release-")
    try:
        chart_dir = os.path.join(workdir, "chart")
        notes = _write_chart(rel.data.get("chart") or {}, chart_dir)
        values = os.path.join(workdir, "stored-values.yaml")
        with open(values, "w", encoding="utf-8") as fh:
            yaml.safe_dump(rel.user_values, fh)
        opts = dataclasses.replace(
            helm_opts,
            values_files=[values],
            set_values=[],
            set_string_values=[],
            set_file_values=[],
            set_json_values=[],
            release_name=rel.name,
            namespace=rel.namespace,
        )
        yield chart_dir, opts, notes
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def render_release(rel: Release, helm_opts: Any) -> InputGroup:
    """The stored chart rendered with the stored user values, as `helm upgrade NAME` with
    the same chart and `--reuse-values` would render it for `helm_opts.kube_version`."""
    from kubevet.sources.helm import load_chart

    try:
        with stored_chart(rel, helm_opts) as (chart_dir, opts, notes):
            rendered = load_chart(chart_dir, opts)
    except (OSError, ValueError) as exc:
        rendered = InputGroup(label="", source="release-chart")
        rendered.errors.append(InputError(rel.origin.file, f"{rel.label}: {exc}", rel.origin.line))
        notes = []
    group = InputGroup(label=f"{rel.label} chart re-rendered", source="release-chart")
    group.chart = ChartInfo(rel.chart_meta.get("name"), rel.chart_meta.get("version"), release=rel)
    group.warnings = [f"{rel.label}: {n}" for n in notes]
    group.errors = [_relocated_error(e, rel) for e in rendered.errors]
    for obj in rendered.objects:
        origin = dataclasses.replace(
            rel.origin, template=obj.origin.template, chart=obj.origin.chart
        )
        group.objects.append(K8sObject(obj.data, origin, None, obj.default_namespace))
    return group


def _write_chart(chart: dict[str, Any], where: str) -> list[str]:
    """A chart directory from the stored chart (metadata, values, templates, files, schema)."""
    meta = dict(chart.get("metadata") or {})
    if not meta.get("name"):
        raise ValueError("the stored chart has no metadata")
    notes = []
    if meta.pop("dependencies", None):
        notes.append(
            "Helm stores no subcharts with a release: their objects are judged on "
            "the stored manifest only"
        )
    os.makedirs(where)
    _write(where, "Chart.yaml", yaml.safe_dump(meta).encode())
    _write(where, "values.yaml", yaml.safe_dump(chart.get("values") or {}).encode())
    if chart.get("schema"):
        _write(where, "values.schema.json", base64.b64decode(chart["schema"]))
    for item in [*(chart.get("templates") or []), *(chart.get("files") or [])]:
        if isinstance(item, dict) and item.get("name"):
            _write(where, str(item["name"]), base64.b64decode(item.get("data") or ""))
    return notes


def _write(root: str, name: str, data: bytes) -> None:
    path = os.path.normpath(os.path.join(root, name))
    if os.path.isabs(name) or not path.startswith(root + os.sep):
        raise ValueError(f"the stored chart names a file outside the chart: {name!r}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def _relocated_error(err: InputError, rel: Release) -> InputError:
    return InputError(rel.origin.file, f"{rel.label}: {err.message}", rel.origin.line)


def _source_comment(doc: Any) -> str | None:
    from kubevet.sources.manifests import _helm_source

    return _helm_source(doc)


def applied_group(groups: list[InputGroup]) -> InputGroup | None:
    """Objects as last applied by `kubectl apply`, where that apiVersion differs from the
    object's own (a live object read back through a newer version still came from a
    manifest written for the older one, and the next apply of it fails)."""
    group = InputGroup(label="kubectl last-applied-configuration", source="last-applied")
    for obj in (o for g in groups for o in g.objects):
        text = obj.annotations.get(LAST_APPLIED)
        if not isinstance(text, str):
            continue
        try:
            applied = jsontext.loads(text)
        except ValueError:
            msg = f"{obj.kind} {obj.name}: {LAST_APPLIED} is not JSON"
            group.errors.append(InputError(obj.origin.file, msg, obj.origin.line))
            continue
        if isinstance(applied, dict) and applied.get("apiVersion") != obj.api_version:
            group.objects.append(K8sObject(applied, obj.origin, None, obj.default_namespace))
    return group if group.objects or group.errors else None
