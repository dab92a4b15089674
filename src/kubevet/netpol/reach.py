"""`analyze`: the connections the policies of a set of objects allow (kubevet.netpol's
entry point, importable from the package)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubevet.findings import InputError
from kubevet.model import K8sObject
from kubevet.netpol.analysis import Analysis, Connection
from kubevet.netpol.resources import collect
from kubevet.netpol.types import NetpolError, Resources


class UnsupportedInput(NetpolError):
    """The input relies on network extensions the analysis does not model."""


@dataclass
class Result:
    """The connections the policies allow between the workloads read, and what was left out."""

    connections: list[Connection]
    resources: Resources
    warnings: list[str] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)  # policies left out, and why


def analyze(objects: list[K8sObject], focus: str | None = None) -> Result:
    """Compute the connectivity of everything valid; a policy the API would reject is left
    out and listed in `errors`. Raises UnsupportedInput on out-of-scope network objects."""
    res = collect(objects)
    if res.unsupported:
        listed = "; ".join(res.unsupported[:5]) + (" ..." if len(res.unsupported) > 5 else "")
        raise UnsupportedInput(
            f"unsupported network objects (out of scope: OVN-Kubernetes user-defined "
            f"networks, Multus, KubeVirt): {listed}"
        )
    conns = Analysis(res).connections()
    if focus:
        conns = [c for c in conns if _focused(c, focus)]
    return Result(conns, res, list(res.warnings), list(res.errors))


def _focused(c: Connection, focus: str) -> bool:
    def hit(end: str) -> bool:
        base = end.split("[", 1)[0]
        return focus in (end, base, base.rsplit("/", 1)[-1])

    return hit(c.src) or hit(c.dst)
