"""A chart's `kubeVersion` range against the Kubernetes release it is rendered for.

`helm install`, `upgrade` and `template --kube-version` refuse a chart whose Chart.yaml
`kubeVersion` excludes the cluster's version. Helm reads the range with Masterminds/semver,
whose syntax is npm's (`>=1.20.0-0`, `^1.19`, `~1.18`, `1.19.x`, `||`) plus commas for
"and"; `semantic_version`'s NpmSpec reads it after commas become spaces. A release given as
X.Y stands for any patch: it is excluded only when no patch of it fits.
"""

from __future__ import annotations

import os
import re
from typing import Any

from kubevet.findings import InputError

_V_BEFORE_DIGIT = re.compile(r"\bv(?=\d)")
_SPACED_OPERATOR = re.compile(r"([<>=~^!]+)\s+(?=\d)")  # `>= 1.16` is `>=1.16` to Helm
_PATCHES = (0, 999)  # the first and a last patch of a minor release


def excludes(constraint: str, release: str) -> bool | None:
    """True when `constraint` admits no patch of Kubernetes `release` (`1.29`, `v1.29.3`),
    False when it admits one, None when the range cannot be read (Helm reports that)."""
    import semantic_version

    text = _V_BEFORE_DIGIT.sub("", constraint.replace(",", " "))
    text = " ".join(_SPACED_OPERATOR.sub(r"\1", text).split())
    try:
        spec = semantic_version.NpmSpec(text)
    except ValueError:
        return None
    parts = release.lstrip("v").split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None
    if len(parts) > 2 and parts[2].isdigit():
        patches: tuple[int, ...] = (int(parts[2]),)
    else:
        patches = _PATCHES
    return not any(
        spec.match(semantic_version.Version(major=major, minor=minor, patch=p)) for p in patches
    )


def refusal(path: str, meta: dict[str, Any], release: str | None) -> InputError | None:
    """Chart.yaml's kubeVersion against the release asked for (`--kube-version`, `upgrade
    --to`): Helm refuses a chart whose range excludes the cluster's version, and the render
    (which does not check it) would look installable."""
    constraint = meta.get("kubeVersion")
    if not release or not constraint or release == "latest":
        return None
    if not excludes(str(constraint), release):
        return None
    where = os.path.join(path, "Chart.yaml") if os.path.isdir(path) else path
    return InputError(
        where,
        f"chart requires kubeVersion {constraint}, which excludes Kubernetes "
        f"{release.lstrip('v')}: helm install and upgrade refuse it",
    )
