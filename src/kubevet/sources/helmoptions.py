"""How charts are rendered, apart from the renderer (kubevet.sources.helm): every run's
settings hold these options, and a run over plain YAML need not import Helm's side."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_RELEASE = "release-name"


@dataclass
class HelmOptions:
    """How charts are rendered: values files, --set flags, versions, release name and namespace."""

    values_files: list[str] = field(default_factory=list)
    set_values: list[str] = field(default_factory=list)
    set_string_values: list[str] = field(default_factory=list)
    set_file_values: list[str] = field(default_factory=list)  # --set-file key=path
    set_json_values: list[str] = field(default_factory=list)  # --set-json key=JSON
    kube_version: str | None = None
    release_name: str = DEFAULT_RELEASE
    namespace: str = "default"
    api_versions: list[str] = field(default_factory=list)  # --api-versions, input CRDs

    def set_forms(self) -> list[tuple[str, list[str]]]:
        """Each --set form's flag and expressions, in the order Helm applies them."""
        return [
            ("--set", self.set_values),
            ("--set-string", self.set_string_values),
            ("--set-file", self.set_file_values),
            ("--set-json", self.set_json_values),
        ]

    def values_flags(self) -> list[str]:
        """The flags of the values given (-f and the --set forms)."""
        given = [("-f", self.values_files), *self.set_forms()]
        return [flag for flag, values in given if values]


def is_values_name(name: str) -> bool:
    """`values.yaml`, `values-prod.yaml`, `prod.values.yml`, `prod-values.yaml`."""
    stem, ext = os.path.splitext(name)
    return ext in (".yaml", ".yml") and (
        stem.startswith("values") or stem.endswith((".values", "-values", "_values"))
    )
