"""Helm charts rendered in process by Helm's own engine (helm-python-sdk, Helm v4).

Nothing is fetched: `lookup` returns nothing, dependencies must be vendored under
`charts/`, and a values schema that refers to a remote URL is rendered without the
remote parts (with a warning) instead of failing or touching the network.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable
from typing import Any

from kubevet import jsontext
from kubevet.chartinfo import ChartInfo
from kubevet.context import InputGroup
from kubevet.findings import InputError
from kubevet.model import Origin
from kubevet.quiet import captured_stderr
from kubevet.sources.chartroot import (
    irregular_files,
    link_errors,
    listed,
    outside_links,
)

# The options live apart (a run over plain YAML reads them without importing this module).
from kubevet.sources.helmoptions import DEFAULT_RELEASE as DEFAULT_RELEASE
from kubevet.sources.helmoptions import HelmOptions as HelmOptions
from kubevet.sources.manifests import add_text, load_yaml
from kubevet.sources.reader import leaves, read_bytes, read_text


def render_options(opts: HelmOptions, crd_apis: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Helm's render options: release, namespace and, as a cluster of `kube_version` would
    answer them, the capabilities. Helm adds `api_versions` to its built-in default list
    (which keeps removed group/versions such as policy/v1beta1); the served ones, kinds
    included, are what makes kind-qualified `.Capabilities.APIVersions.Has` checks true."""
    out: dict[str, Any] = {"name": opts.release_name, "namespace": opts.namespace}
    out["is_install"] = True
    apis: list[str] = []
    if opts.kube_version:
        from kubevet.upgrade.served import api_versions_for

        out["kube_version"] = "v" + opts.kube_version.lstrip("v")
        apis.extend(api_versions_for(opts.kube_version))
    apis.extend(opts.api_versions)
    apis.extend(crd_apis)
    if apis:
        out["api_versions"] = list(dict.fromkeys(apis))
    return out


def load_chart(path: str, opts: HelmOptions) -> InputGroup:
    """Render the chart at `path` (directory or .tgz); errors land in the group."""
    group = InputGroup(label=path, source="chart")
    try:
        values = user_values(opts)
    except InputError as err:
        group.errors.append(err)
        return group
    from kubevet.sources.archive import check_archive, check_subchart_archives

    unsound = check_subchart_archives(path) if os.path.isdir(path) else check_archive(path)
    if unsound:  # links, devices, names leaving the chart, bombs: refused whole
        group.errors.extend(unsound)
        return group
    irregular = irregular_files(path) if os.path.isdir(path) else []
    if irregular:  # a FIFO would block the render (Helm refuses such charts too)
        group.errors.extend(irregular)
        return group
    links = outside_links(path) if os.path.isdir(path) else []
    group.errors.extend(link_errors(path, links))  # each one not read, said once
    try:
        from kubevet.sources.renderworker import render

        rendered, crds, meta, names = render(_render, path, values, opts, group.warnings)
    except InputError as err:
        if links and type(err) is InputError:
            err = InputError(
                err.file,
                f"{err.message}; the chart cannot render without the symbolic links that "
                f"lead out of its directory ({listed(links)})",
                err.line,
            )
        group.errors.append(err)
        return group
    from kubevet.sources.kubeversion import refusal

    refused = refusal(path, meta, opts.kube_version)
    if refused is not None:  # Helm's install, upgrade and template refuse the chart
        group.errors.append(refused)
        return group
    group.chart = ChartInfo(meta.get("name"), meta.get("version"), path, values)
    if names is not None:
        group.chart.rendered = (dict(rendered), names)
    is_dir = os.path.isdir(path)
    for template, text in sorted(crds + rendered):
        if not text.strip():
            continue
        disk = _disk_path(path, template, is_dir)

        def origin_for(doc: Any, disk: str = disk, template: str = template) -> Origin:
            return Origin(disk, doc.line, template, meta.get("name"), meta.get("version"), True)

        add_text(group, text, disk, origin_for, default_namespace=opts.namespace)
    if values:
        from kubevet.sources.valuekeys import unused_key_warnings

        group.warnings.extend(unused_key_warnings(path, values, opts))
    return group


def user_values(opts: HelmOptions) -> dict[str, Any]:
    """Merge -f files, then --set, --set-string, --set-file and --set-json, as `helm
    template` does (it applies the --set forms in that order too)."""
    import helm_python

    merged: dict[str, Any] = {}
    for vf in opts.values_files:
        data = load_yaml(read_text(vf), vf) or {}  # depth, alias and duplicate guards
        if not isinstance(data, dict):
            raise InputError(vf, "values file must hold a mapping at the top level", 1)
        deep_merge(merged, data)
    parsers = {
        "--set": helm_python.parse_set_string,
        "--set-string": helm_python.parse_set_string_values,
        "--set-file": helm_python.parse_set_file,
        "--set-json": helm_python.parse_set_json,
    }
    for expr in opts.set_file_values:  # Helm reads them itself: check them first
        for item in expr.split(","):
            read_bytes(item.partition("=")[2])  # a regular file, up to the size bound
    for flag, expressions in opts.set_forms():
        for expr in expressions:
            try:
                value = parsers[flag](expr)
            except helm_python.HelmError as exc:
                raise InputError(flag, f"bad expression {expr!r}: {exc}") from None
            except RecursionError:  # JSON nested past Python's own limit
                value = None
            shown = expr if len(expr) < 60 else expr[:60] + "..."
            if value is None or jsontext.deeper_than(value, jsontext.MAX_DEPTH):
                raise InputError(flag, f"bad expression {shown!r}: nesting too deep")
            if not value and expr.strip():
                # Helm drops `a[`, `=b` or `.a=1` without a word: the check would then
                # pass on values the user never gave (an empty expression sets nothing).
                raise InputError(flag, f"bad expression {shown!r}: it sets no value")
            deep_merge(merged, value)
    return merged


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def _render(
    path: str, values: dict[str, Any], opts: HelmOptions, warnings: list[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict[str, Any], frozenset[str] | None]:
    """(manifest texts, CRD texts, Chart.yaml, every template's name or None where the
    templates rendered were rewritten: `--kube-version` checks of wrongly served APIs)."""
    import helm_python
    from helm_python import _native

    workdirs: list[str] = []
    try:
        workdir, source = loadable(path)
        workdirs += [workdir] if workdir else []
        chart = _load(source, path)  # loadable's: no link leads out
        crds = [(c["filename"], c["data"]) for c in chart.crds]
        render_opts = render_options(opts, crd_api_versions(text for _, text in crds))
        remote = _has_remote_schema(chart)
        unserved = _wrongly_served(path, opts, render_opts)
        if remote or unserved:
            if remote:
                warnings.append(
                    f"{path}: values.schema.json refers to a remote schema; rendered offline "
                    "with the remote references ignored"
                )
            chart.close()
            workdir, local = copy_chart(source, _strip_remote if remote else lambda s: s)
            workdirs.append(workdir)
            if unserved:
                from kubevet.sources.capabilities import rewrite_copy

                rewrite_copy(local, unserved, str(opts.kube_version))
            chart = _load(local)  # a copy of `source`
        with chart:
            meta = chart.metadata
            _check_dependencies(path, chart)
            logged: list[str] = []
            try:
                # Chart.render() has no kube_version parameter; the library's own render
                # entry point accepts it in the options JSON, so call that directly.
                with captured_stderr(logged):
                    raw = _native.call_string(
                        "helm_render", chart._raw(), json.dumps(values), json.dumps(render_opts)
                    )
                out = json.loads(raw)
            except helm_python.HelmError as exc:
                raise InputError(path, f"chart failed to render: {_message(exc)}") from None
            finally:
                warnings.extend(f"{path}: helm: {m}" for m in _helm_log(logged))
    finally:
        import shutil  # imported where used: plain YAML runs import this module too

        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)
    rendered = [(k, v) for k, v in out.items() if _is_manifest_template(k)]
    return rendered, crds, meta, None if unserved else frozenset(out)


def _check_dependencies(path: str, chart: Any) -> None:
    """Refuse a chart whose declared dependencies are not vendored, as `helm template`
    does (by subchart name; alias and condition do not matter): rendering without them
    would check a different release, silently."""
    present = {d.get("name") for d in chart.dependencies}
    missing = [
        str(d.get("name"))
        for d in chart.metadata.get("dependencies") or ()
        if isinstance(d, dict) and d.get("name") not in present
    ]
    if missing:
        declared = "requirements.yaml" if chart.metadata.get("apiVersion") == "v1" else "Chart.yaml"
        raise InputError(
            path,
            f"found in {declared}, but missing in charts/ directory: {', '.join(missing)}; "
            f"run `helm dependency build {path}` first (kubevet fetches nothing)",
        )


def _wrongly_served(path: str, opts: HelmOptions, render_opts: dict[str, Any]) -> set[str]:
    """Group/versions the templates check that Helm's built-in list claims and the target
    does not serve (only known when a kube version is given)."""
    if not opts.kube_version:
        return set()
    from kubevet.sources.capabilities import wrongly_served

    return wrongly_served(path, set(render_opts.get("api_versions", ())))


def crd_api_versions(texts: Any) -> list[str]:
    """group/version and group/version/kind of every CRD in these YAML texts (a chart's
    crds/ files): the cluster serves them once the chart's CRDs are installed."""
    return list(_crd_api_versions(tuple(texts)))


@functools.lru_cache(maxsize=4)  # the render worker's last charts: a trace reads them again
def _crd_api_versions(texts: tuple[str, ...]) -> tuple[str, ...]:
    """Read as manifests are (rapidyaml): PyYAML's constructor took 0.18 s over the
    corpus's 4 MiB of CRDs against 0.03 s, on every run, and refused a whole file for one
    value it cannot construct (kube-prometheus-stack's AlertmanagerConfig CRD has a `=`
    key, a plain string to Helm). A document that does not parse is left out: the crds/
    file itself is parsed, and its errors reported, with the rest."""
    from kubevet.sources.yamldocs import parse_stream

    out: list[str] = []
    for text in texts:
        docs, _errors = parse_stream(text, "crds")
        out.extend(crd_apis_of(doc.data for doc in docs))
    return tuple(out)


def crd_apis_of(docs: Any) -> list[str]:
    out: list[str] = []
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        group, names = spec.get("group"), spec.get("names")
        kind = names.get("kind") if isinstance(names, dict) else None
        versions = [v.get("name") for v in spec.get("versions") or [] if isinstance(v, dict)]
        versions += [spec["version"]] if spec.get("version") else []
        for ver in versions:
            if isinstance(group, str) and isinstance(ver, str) and ver:
                out.append(f"{group}/{ver}")
                if isinstance(kind, str) and kind:
                    out.append(f"{group}/{ver}/{kind}")
    return out


def _load(path: str, shown: str = "") -> Any:
    """The chart at `path` loaded (errors name `shown`: the user's chart for a copy).
    Helm follows symbolic links wherever they lead, so `path` is only ever what `loadable`
    gave, or a copy made without links leading out (the trace's, the twin of a loaded
    chart): its walk is the one check (every load walked the chart again before)."""
    import helm_python

    try:
        return helm_python.Chart.load(path)
    except helm_python.HelmError as exc:
        message = _first_line(exc).replace(path, shown or path)
        raise InputError(shown or path, f"cannot load chart: {message}") from None


def loadable(path: str) -> tuple[str | None, str]:
    """(workdir to remove or None, chart to load): the chart itself, or for a directory
    with links leading out of it, a temporary copy without them (Helm follows links
    wherever they go: a template or `.Files.Get` could read any file on the machine)."""
    if os.path.isdir(path) and outside_links(path):
        return copy_chart(path, lambda schema: schema)
    return None, path


def _is_manifest_template(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return not base.startswith("_") and base != "NOTES.txt"


def _disk_path(chart_path: str, template: str, is_dir: bool) -> str:
    """`grafana/templates/x.yaml` -> `<chart dir>/templates/x.yaml` (or `x.tgz!templates/...`).

    A subchart is found by its alias too, and one vendored as an archive is named as
    `<chart dir>/charts/sub-1.0.tgz!templates/x.yaml`: a location names a file that exists.
    """
    rel = template.split("/", 1)[1] if "/" in template else template
    if not is_dir:
        return f"{chart_path}!{rel}"
    from kubevet.trace.blame import template_file

    disk = template_file(chart_path, template)
    if os.path.isfile(disk) or not rel.startswith("charts/"):
        return disk
    return _in_subchart_archive(chart_path, rel.split("/")[1:]) or disk


def _in_subchart_archive(directory: str, parts: list[str]) -> str | None:
    """`charts/<name>-<version>.tgz!rest` for the first subchart on the way that is an
    archive (`parts` is what follows `charts/`: name, then its own path)."""
    import glob

    from kubevet.trace.blame import _aliases

    name, rest = parts[0], parts[1:]
    real = _aliases(directory).get(name, name)
    sub = os.path.join(directory, "charts", real)
    if os.path.isdir(sub):
        if len(rest) >= 2 and rest[0] == "charts":
            return _in_subchart_archive(sub, rest[1:])
        return None
    archives = sorted(glob.glob(os.path.join(glob.escape(directory), "charts", f"{real}-*.tgz")))
    return f"{archives[0]}!{'/'.join(rest)}" if len(archives) == 1 else None


def _message(exc: Exception) -> str:
    """Helm's whole error on one line (schema errors list each failing value below)."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return (text[:800] + " ...") if len(text) > 800 else text or type(exc).__name__


_LOG_PREFIX = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:WARN |INFO |warning: )?")


def _helm_log(lines: list[str]) -> list[str]:
    """Go log lines without their timestamps, each once."""
    return list(dict.fromkeys(_LOG_PREFIX.sub("", line).strip() for line in lines if line.strip()))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _has_remote_schema(chart: Any) -> bool:
    schema = chart.schema
    return schema is not None and _refs_remote(schema)


def _refs_remote(node: Any) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(("http://", "https://")):
            return True
        return any(_refs_remote(v) for v in node.values())
    if isinstance(node, list):
        return any(_refs_remote(v) for v in node)
    return False


def _strip_remote(node: Any) -> Any:
    """Replace each remote `$ref` with an empty (accept-anything) schema."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(("http://", "https://")):
            return {k: _strip_remote(v) for k, v in node.items() if k != "$ref"}
        return {k: _strip_remote(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_strip_remote(v) for v in node]
    return node


def _copy_without_remote_schema(path: str) -> tuple[str, str]:
    """A temporary copy of the chart whose schemas no longer point at the network."""
    return copy_chart(path, lambda schema: _strip_remote(schema))


def copy_chart(path: str, schema_edit: Callable[[Any], Any | None]) -> tuple[str, str]:
    """(workdir, chart dir) of a temporary copy of a chart directory or archive, with each
    values.schema.json replaced by `schema_edit(schema)`, or removed where that is None."""
    import shutil

    import helm_python

    from kubevet.tempdirs import chart_workdir

    workdir = chart_workdir()
    if os.path.isdir(path):
        local = os.path.join(workdir, "chart")
        base = os.path.realpath(path)
        shutil.copytree(  # links inside are copied as what they lead to, those out not at all
            path,
            local,
            symlinks=False,
            ignore=lambda d, names: [n for n in names if leaves(base, os.path.join(d, n))],
        )
    else:
        helm_python.expand(workdir, path)
        local = os.path.join(workdir, os.listdir(workdir)[0])
    for root, _dirs, files in os.walk(local):
        if "values.schema.json" not in files:
            continue
        schema_path = os.path.join(root, "values.schema.json")
        with open(schema_path, encoding="utf-8") as fh:
            edited = schema_edit(json.load(fh))
        if edited is None:
            os.remove(schema_path)
        else:
            with open(schema_path, "w", encoding="utf-8") as fh:
                json.dump(edited, fh)
    return workdir, local
