"""A chart loaded once and rendered many times with different values (all in process).

Tracing and fixing render the same chart a few dozen times; loading it once keeps each
render at Helm's own cost (about 10-60 ms on the corpus). Nothing touches the network.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from typing import Any

from kubevet.model import Path
from kubevet.sources.helm import HelmOptions

ObjKey = tuple[str, str, int]  # (template, kind, ordinal of that kind in the template)


class RenderFailed(Exception):
    """The chart did not render with the given values (`detail`: Helm's whole message)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


@dataclass
class Rendered:
    """One render, parsed: objects keyed by where they come from, not by (mutable) name."""

    objects: dict[ObjKey, dict[str, Any]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    errors: int = 0  # documents that did not parse (a marker pasted into YAML structure)
    error_templates: set[str] = field(default_factory=set)  # where those documents came from


class ChartRenderer:
    """Holds the loaded chart; `render(values)` returns the parsed manifests."""

    def __init__(self, path: str, opts: HelmOptions, validate: bool = True) -> None:
        """`validate=False` (tracing) renders a copy without values.schema.json files
        (markers are strings where a schema wants numbers or enums) and without NOTES.txt
        (it renders no object, and its configuration checks fail on markers)."""
        from kubevet.sources import helm

        self.path = path
        self.opts = opts
        self.count = 0  # renders done, for the cost figures
        self.templates: frozenset[str] = frozenset()  # every template name, from a render
        self._workdir: str | None = None
        local = None  # the copy rendered instead of `path`, if any
        chart = helm._load(path)
        if not validate:
            chart.close()
            self._workdir, local = _copy_for_markers(path)
            chart = helm._load(local)
        elif helm._has_remote_schema(chart):
            chart.close()
            self._workdir, local = helm._copy_without_remote_schema(path)
            chart = helm._load(local)
        self._chart = chart
        self.crd_apis = helm.crd_api_versions(c["data"] for c in chart.crds)
        self.source_dir = local or (path if os.path.isdir(path) else None)  # template sources

    def close(self) -> None:
        self._chart.close()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> ChartRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def merged_values(self, user: dict[str, Any]) -> dict[str, Any]:
        """Chart defaults (subcharts included) coalesced with the user's values."""
        from kubevet.quiet import quiet_stderr

        with quiet_stderr():  # the plain render already reported Helm's warnings
            return self._chart.merge_values(user)

    def render_texts(self, values: dict[str, Any]) -> dict[str, str]:
        import helm_python
        from helm_python import _native

        from kubevet.quiet import quiet_stderr
        from kubevet.sources import helm

        opts = helm.render_options(self.opts, self.crd_apis)
        self.count += 1
        try:
            with quiet_stderr():  # Helm's warnings here are about kubevet's markers
                raw = _native.call_string(
                    "helm_render", self._chart._raw(), json.dumps(values), json.dumps(opts)
                )
        except helm_python.HelmError as exc:
            raise RenderFailed(helm._first_line(exc), str(exc)) from None
        out = json.loads(raw)
        if not self.templates:
            self.templates = frozenset(out)
        return {k: v for k, v in out.items() if helm._is_manifest_template(k) and v.strip()}

    def render(self, values: dict[str, Any]) -> Rendered:
        return parse_render(self.render_texts(values))


def _copy_for_markers(path: str) -> tuple[str, str]:
    """A copy with subchart archives expanded (so their schemas go too and their template
    lines can be read) and without values.schema.json or NOTES.txt anywhere."""
    import helm_python

    from kubevet.sources.helm import copy_chart

    workdir, local = copy_chart(path, lambda schema: None)
    for root, _dirs, files in os.walk(local):
        for name in files:
            file = os.path.join(root, name)
            if os.path.basename(root) == "charts" and name.endswith(".tgz"):
                helm_python.expand(root, file)
                os.remove(file)
    for root, _dirs, files in os.walk(local):  # again: the expanded archives' files too
        for name in files:
            if name == "values.schema.json" or (
                name == "NOTES.txt" and os.path.basename(root) == "templates"
            ):
                os.remove(os.path.join(root, name))
    return workdir, local


def parse_render(texts: dict[str, str]) -> Rendered:
    from kubevet.sources.yamldocs import parse_stream

    result = Rendered(texts=texts)
    for template, text in sorted(texts.items()):
        docs, errors = parse_stream(text, template)
        result.errors += len(errors)
        if errors:
            result.error_templates.add(template)
        ordinal: dict[str, int] = {}
        for doc in docs:
            data = doc.data
            if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
                continue
            kind = data["kind"]
            n = ordinal.get(kind, 0)
            ordinal[kind] = n + 1
            result.objects[(template, kind, n)] = data
    return result


def object_key(rendered: Rendered, template: str, data: dict[str, Any]) -> ObjKey | None:
    """The key of `data` (an object of a previous parse of the same render) in `rendered`."""
    for key, obj in rendered.objects.items():
        if key[0] == template and obj == data:
            return key
    return None


def walk(node: Any, prefix: Path = ()) -> Any:
    """Yield (path, value) for every node, containers included, depth first."""
    yield prefix, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, (*prefix, i))
