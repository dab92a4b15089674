"""Plain YAML and JSON manifests: multi-document files, `kind: List`, stdin."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from kubevet import lazy_compile
from kubevet.context import InputGroup
from kubevet.findings import InputError
from kubevet.model import (
    KUBEVET_API_VERSION,
    K8sObject,
    Origin,
    Path,
    format_path,
    is_tool_file,
)
from kubevet.sources.builds import is_dockerfile_name, load_dockerfile, special_object
from kubevet.sources.reader import read_text
from kubevet.sources.yamldocs import (
    Document,
    locate_in,
    locate_many,
    parse_json,
    parse_stream,
)


def load_yaml(text: str, path: str) -> Any:
    """The first YAML document of a file that holds no manifests (values, config,
    kustomization) under the guards manifests have: nesting depth, alias expansion (a
    billion-laughs file), duplicate keys. InputError with the line otherwise."""
    docs, errors = parse_stream(text, path)
    if errors:
        raise errors[0]
    return docs[0].data if docs else None


def load_manifest_files(label: str, paths: Iterable[str], walked: bool = False) -> InputGroup:
    """`walked`: the files were found in a directory walk, not named, so one that holds no
    Kubernetes object (a compose file, a CI config) is skipped and counted, not an error."""
    group = InputGroup(label=label, source="manifests")
    for path in paths:
        try:
            text = read_text(path)
        except InputError as err:
            group.errors.append(err)
            continue
        if is_dockerfile_name(os.path.basename(path)):
            obj, error = load_dockerfile(path, text)
            group.objects.extend([obj] if obj else [])
            group.errors.extend([error] if error else [])
            continue
        add_text(group, text, path, walked=walked)
    return group


def load_stdin(text: str) -> InputGroup:
    group = InputGroup(label="-", source="stdin")
    add_text(group, text, "-")
    return group


def add_text(
    group: InputGroup,
    text: str,
    name: str,
    origin_for: Any = None,
    default_namespace: str | None = None,
    walked: bool = False,
) -> None:
    """Parse `text` and append its objects (and errors) to `group`.

    `origin_for(doc) -> Origin` lets chart and overlay sources say where a document
    really comes from; by default the origin is `name` at the document's line.
    `walked`: a file found in a walk that is not Kubernetes YAML lands in `group.skipped`.
    """
    if name.endswith(".json"):
        docs, errors = parse_json(text, name)
    else:
        docs, errors = parse_stream(text, name)
    if origin_for is not None:  # rendered text: its lines are not lines of `name`
        errors = [_rendered_error(e) for e in errors]
    if walked:
        reason = _not_kubernetes(docs, errors, text, name)
        if reason:
            group.skipped.append((name, reason))
            return
    group.errors.extend(errors)
    for doc in docs:
        origin = origin_for(doc) if origin_for else Origin(name, doc.line, _helm_source(doc))
        special = special_object(doc, origin)  # Dockerfile, apko config, attestation
        if special is not None:
            group.objects.append(special)
            continue
        found = list(_objects(doc.data))
        lines = _item_lines(doc, origin, [at for _, _, at in found])
        for (data, err, at), line in zip(found, lines, strict=True):
            where = origin if line == origin.line else replace(origin, line=line)
            if err:
                group.errors.append(InputError(where.file, err, where.line))
                continue
            source = doc
            if at:  # an item of a List: its fields are found under its path in the document
                source = Document(data, line, doc.text, doc.first_line, doc.index, at)
            obj = K8sObject(data, where, source, default_namespace)
            group.objects.append(obj)
            group.errors.extend(object_errors(obj))


def _item_lines(doc: Document, origin: Origin, paths: list[Path]) -> list[int]:
    """The line of each List item (the document's line for a plain object, and where the
    line would count rendered output rather than the file)."""
    if not any(paths) or origin.rendered:
        return [origin.line] * len(paths)
    found = locate_many(doc.text, doc.first_line, doc.index, [p for p in paths if p])
    lines = iter(found)
    return [(next(lines) or origin.line) if p else origin.line for p in paths]


def object_errors(obj: K8sObject) -> list[InputError]:
    """Input errors for an object's malformed fields and a missing name, each at its line
    (absent where the line would count rendered output, not the file named)."""
    problems = [(m.path, f"{format_path(m.path)}: {m.problem}; not checked") for m in obj.malformed]
    if not obj.name and not _config_file_kind(obj):
        problems.append((("metadata",), "has no metadata.name (nor generateName)"))
    if not problems:
        return []
    lines: list[int | None] = [None] * len(problems)
    doc, origin = obj.source, obj.origin
    if doc is not None and not origin.rendered:
        lines = locate_in(doc, [p for p, _ in problems])
    elif not origin.rendered:
        lines = [origin.line] * len(problems)
    errors = [
        InputError(origin.file, f"{obj.kind} {obj.name or '(unnamed)'}: {text}", line)
        for (_, text), line in zip(problems, lines, strict=True)
    ]
    return sorted(errors, key=lambda e: e.line or 0)


def _config_file_kind(obj: K8sObject) -> bool:
    """Files for tools (kubeconfig, kubelet, kubeadm and kustomize configurations): they
    have no name, rightly."""
    return is_tool_file(obj) and obj.api_version != KUBEVET_API_VERSION


_K8S_KEY = lazy_compile(r"^\s*[\"']?(?:apiVersion|kind)[\"']?\s*:", re.MULTILINE)


def _not_kubernetes(
    docs: list[Document], errors: list[InputError], text: str, name: str
) -> str | None:
    """Why a walked file is not Kubernetes input (None when it is, or may be).

    A document with an apiVersion or a kind is meant for Kubernetes even when broken, and
    so is a file that does not parse but has such a key: those stay errors.
    """
    for doc in docs:
        data = doc.data
        if isinstance(data, dict) and ("apiVersion" in data or "kind" in data):
            return None
        if special_object(doc, Origin(name, doc.line)) is not None:
            return None
    if errors:
        if _K8S_KEY.search(text):
            return None
        return "does not parse and has no apiVersion or kind"
    return "no apiVersion or kind" if docs else "empty"


def _rendered_error(err: InputError) -> InputError:
    """A location is exact or absent: a line of rendered output is said in words."""
    if err.line is None:
        return err
    return InputError(err.file, f"{err.message} [line {err.line} of the rendered output]")


def _helm_source(doc: Document) -> str | None:
    """The template named by a `# Source:` comment that `helm template` puts before each
    document, so piped or saved renders still say which template made an object."""
    head = doc.text[:512]
    at = head.find("# Source: ")
    if at < 0 or (at > 0 and head[at - 1] != "\n"):
        return None
    return head[at + len("# Source: ") :].split("\n", 1)[0].strip() or None


def _objects(data: Any, at: Path = ()) -> Iterable[tuple[dict[str, Any], str | None, Path]]:
    """Yield (object, None, path) per Kubernetes object, or ({}, error, path) for
    non-objects; `path` is where a List item sits in the document (() for the document)."""
    if data is None:
        return
    if not isinstance(data, dict):
        yield {}, f"document is a {type(data).__name__}, not a Kubernetes object", at
        return
    kind, api = data.get("kind"), data.get("apiVersion")
    if not kind or not api or not isinstance(kind, str) or not isinstance(api, str):
        missing = " and ".join(k for k in ("apiVersion", "kind") if not data.get(k))
        yield {}, f"document is not a Kubernetes object (no {missing or 'string kind'})", at
        return
    items = data.get("items")
    if kind == "List" or (kind.endswith("List") and isinstance(items, list)):
        if items is not None and not isinstance(items, list):
            yield {}, f"{kind}: items is a {type(items).__name__}, not a list", (*at, "items")
            return
        item_kind = kind[: -len("List")] if kind != "List" else None
        for i, item in enumerate(items or []):
            if item_kind and isinstance(item, dict) and not item.get("kind"):
                # API list responses (NamespaceList, PodList) omit kind on their items
                item = {"apiVersion": api, "kind": item_kind, **item}
            yield from _objects(item, (*at, "items", i))
        return
    yield data, None, at
