"""Network reachability under NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy
and Cilium's CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy (L3/L4), IPv4 and IPv6.

`analyze(objects)` returns the allowed connections between workloads, external address
ranges and the ingress controller; `render(connections, fmt)` prints them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubevet.netpol.analysis import INGRESS_CONTROLLER, Connection
    from kubevet.netpol.reach import Result, UnsupportedInput, analyze
    from kubevet.netpol.types import NetpolError

__all__ = [
    "INGRESS_CONTROLLER",
    "Connection",
    "NetpolError",
    "Result",
    "UnsupportedInput",
    "analyze",
]

# Where each name lives, imported on first use: a check imports kubevet.netpol.analysis
# (for KV601) and so runs this package's __init__, but never `analyze` and its Result.
_HOMES = {
    "INGRESS_CONTROLLER": "kubevet.netpol.analysis",
    "Connection": "kubevet.netpol.analysis",
    "NetpolError": "kubevet.netpol.types",
    "Result": "kubevet.netpol.reach",
    "UnsupportedInput": "kubevet.netpol.reach",
    "analyze": "kubevet.netpol.reach",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
