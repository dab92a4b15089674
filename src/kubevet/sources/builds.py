"""Build inputs as objects the engine can check: Dockerfiles, apko configs, attestations.

Each becomes a `K8sObject` with `apiVersion: kubevet.io/v1` so object-scope rules select it
by kind:
- `Dockerfile`: parsed with dockerfile-parse (no Docker needed); `instructions[i]` holds
  each instruction with its line and stage, `stages[j]` each FROM with its resolved base.
- `ApkoConfig`: the apko YAML itself (fields keep their lines).
- `Attestation`: an in-toto statement, DSSE envelope or Sigstore bundle found among the
  inputs, under `document`; the supply-chain rules read it.

A Dockerfile can also be written inline in YAML (how rule examples carry one)::

    apiVersion: kubevet.io/v1
    kind: Dockerfile
    dockerfile: |
      FROM ...
"""

from __future__ import annotations

import io
import os
from typing import Any

from kubevet.findings import InputError
from kubevet.model import KUBEVET_API_VERSION, K8sObject, Origin, Path

API_VERSION = KUBEVET_API_VERSION
DOCKERFILE_NAMES = ("Dockerfile", "Containerfile")
_APKO_MARKERS = ("entrypoint", "accounts", "archs")


def is_dockerfile_name(name: str) -> bool:
    """Dockerfile, Containerfile, *.Dockerfile, Dockerfile.* (not .dockerignore files)."""
    if name.endswith(".dockerignore"):
        return False
    return (
        name in DOCKERFILE_NAMES
        or name.endswith((".Dockerfile", ".dockerfile", ".Containerfile"))
        or name.startswith(tuple(n + "." for n in DOCKERFILE_NAMES))
    )


def is_apko(data: Any) -> bool:
    """An apko config: top-level `contents:` and one of entrypoint/accounts/archs, no kind."""
    return (
        isinstance(data, dict)
        and "kind" not in data
        and isinstance(data.get("contents"), dict)
        and any(k in data for k in _APKO_MARKERS)
    )


class InstructionLines:
    """Line lookup for a Dockerfile object: paths start with ("instructions", i)."""

    def __init__(self, lines: list[int], first: int) -> None:
        self.lines = lines
        self.first = first

    def locate(self, paths: list[Path]) -> list[int | None]:
        out: list[int | None] = []
        for path in paths:
            if len(path) >= 2 and path[0] == "instructions" and isinstance(path[1], int):
                index = path[1]
                out.append(self.lines[index] if 0 <= index < len(self.lines) else self.first)
            else:
                out.append(self.first)
        return out


def dockerfile_object(text: str, name: str, first_line: int = 1) -> K8sObject:
    """Parse Dockerfile `text`; `first_line` is where the text starts in `name`."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.StringIO(text))
    structure = [s for s in parser.structure if s["instruction"] != "COMMENT"]
    bases = list(parser.parent_images)
    instructions: list[dict[str, Any]] = []
    stages: list[dict[str, Any]] = []
    for item in structure:
        kind = item["instruction"].upper()
        if kind == "FROM":
            stages.append(_stage(item["value"], len(stages), len(instructions), bases))
        instructions.append(
            {
                "instruction": kind,
                "value": item["value"],
                "line": item["startline"] + first_line,
                "stage": len(stages) - 1,
            }
        )
    data = {
        "apiVersion": API_VERSION,
        "kind": "Dockerfile",
        "metadata": {"name": name},
        "instructions": instructions,
        "stages": stages,
    }
    lines = [i["line"] for i in instructions]
    return K8sObject(data, Origin(name, first_line), InstructionLines(lines, first_line))


def _stage(value: str, index: int, at: int, bases: list[str]) -> dict[str, Any]:
    words = [w for w in value.split() if not w.startswith("--")]
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    raw = words[0] if words else ""
    base = bases[index] if index < len(bases) else raw
    return {"index": index, "name": alias, "base": base, "raw": raw, "from": at}


def load_dockerfile(path: str, text: str) -> tuple[K8sObject | None, InputError | None]:
    try:
        return dockerfile_object(text, path), None
    except Exception as exc:  # the parser's own errors are not a documented type
        return None, InputError(path, f"cannot parse Dockerfile: {exc}")


def special_object(doc: Any, origin: Origin) -> K8sObject | None:
    """The build or attestation object a YAML/JSON document stands for, or None."""
    data = doc.data
    if not isinstance(data, dict):
        return None
    api = data.get("apiVersion")
    if api is not None and api != API_VERSION:
        return None  # an ordinary Kubernetes object: the fast path
    if api == API_VERSION and data.get("kind") == "Dockerfile":
        return _inline_dockerfile(doc, origin)
    if is_apko(data):
        meta = {"name": os.path.basename(origin.file)}
        full = {**data, "apiVersion": API_VERSION, "kind": "ApkoConfig", "metadata": meta}
        return K8sObject(full, origin, doc)
    from kubevet.supplychain.attest import is_attestation

    if is_attestation(data):
        wrapped = {
            "apiVersion": API_VERSION,
            "kind": "Attestation",
            "metadata": {"name": f"{os.path.basename(origin.file)}:{origin.line}"},
            "document": data,
        }
        return K8sObject(wrapped, origin)
    return None


def _inline_dockerfile(doc: Any, origin: Origin) -> K8sObject | None:
    text = doc.data.get("dockerfile")
    if not isinstance(text, str):
        return None
    from kubevet.sources.yamldocs import locate_many

    key_line = locate_many(doc.text, doc.first_line, doc.index, [("dockerfile",)])[0]
    name = str((doc.data.get("metadata") or {}).get("name") or origin.file)
    obj = dockerfile_object(text, name, (key_line or origin.line) + 1)
    obj.origin = Origin(origin.file, origin.line)
    return obj
