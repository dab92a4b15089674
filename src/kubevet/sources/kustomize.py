"""Kustomize overlays, built with `kubectl kustomize` when kubectl is installed.

Remote bases (URLs, git refs) are refused before kubectl runs, since a scan never uses the
network; exec plugins and Helm inflation stay off (kubectl's defaults).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

import yaml

from kubevet.context import InputGroup
from kubevet.findings import InputError
from kubevet.model import Origin
from kubevet.sources.manifests import add_text, read_text

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")
TIMEOUT_S = 120


def kustomization_file(directory: str) -> str | None:
    for name in KUSTOMIZATION_FILES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def load_overlay(directory: str) -> InputGroup:
    group = InputGroup(label=directory, source="kustomize")
    kfile = kustomization_file(directory) or os.path.join(directory, "kustomization.yaml")
    remote = find_remote_resources(directory)
    if remote:
        file, line, ref = remote[0]
        group.errors.append(
            InputError(
                file, f"remote resource {ref!r} not fetched: scans never use the network", line
            )
        )
        return group
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
    try:
        proc = subprocess.run(
            [kubectl, "kustomize", directory],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            env={**os.environ, "KUBECONFIG": os.devnull},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        group.errors.append(InputError(kfile, f"kubectl kustomize failed: {exc}"))
        return group
    if proc.returncode != 0:
        msg = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        group.errors.append(InputError(kfile, f"kustomize build failed: {msg}"))
        return group

    def origin_for(doc: Any) -> Origin:
        return Origin(kfile, doc.line, rendered=True)

    add_text(group, proc.stdout, kfile, origin_for)
    return group


def find_remote_resources(
    directory: str, seen: set[str] | None = None
) -> list[tuple[str, int, str]]:
    """(file, line, reference) of each remote base in this overlay or its local bases."""
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
        data = yaml.safe_load(text) or {}
    except (InputError, yaml.YAMLError):
        return []  # kubectl reports the real error with its own message
    found: list[tuple[str, int, str]] = []
    if not isinstance(data, dict):
        return found
    for key in ("resources", "bases", "components"):
        for ref in data.get(key) or []:
            if not isinstance(ref, str):
                continue
            if _REMOTE.match(ref) or "?ref=" in ref:
                found.append((kfile, _line_of(text, ref), ref))
            else:
                sub = os.path.join(directory, ref)
                if os.path.isdir(sub):
                    found.extend(find_remote_resources(sub, seen))
    return found


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return None
