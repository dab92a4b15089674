"""Whether a directory is a Kustomize overlay: asked of every directory a walk meets, so
kept apart from kubevet.sources.kustomize, which only an overlay's build imports."""

from __future__ import annotations

import os

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def kustomization_file(directory: str) -> str | None:
    """The overlay's kustomization file in `directory`, or None."""
    for name in KUSTOMIZATION_FILES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None
