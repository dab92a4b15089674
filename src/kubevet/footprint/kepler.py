"""Measured power from Kepler's `kepler_container_joules_total` (Prometheus text exposition).

Parsed by hand rather than with prometheus_client: a useful input is several scrapes
concatenated (`curl` in a loop), which repeats series and `# TYPE` lines that a strict
parser rejects, and one counter needs no new dependency. Each series becomes a rate:
(last - first joules) / (last - first timestamp) when it has two timestamped samples, else
joules / the observation window the user gives (`--kepler-window`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from kubevet.model import K8sObject

METRIC = "kepler_container_joules_total"
NAMESPACE_LABELS = ("container_namespace", "pod_namespace", "namespace")
POD_LABELS = ("pod_name", "pod")
CONTAINER_LABELS = ("container_name", "container")

_LINE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+(?P<ts>-?\d+))?\s*$"
)
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}

# How a controller names its pods: <name>-<suffix>.
POD_NAME_PATTERNS = {
    "Deployment": r"-[a-z0-9]{1,10}-[a-z0-9]{5}",
    "StatefulSet": r"-\d+",
    "DaemonSet": r"-[a-z0-9]{5}",
    "ReplicaSet": r"-[a-z0-9]{5}",
    "ReplicationController": r"-[a-z0-9]{5}",
    "Job": r"-[a-z0-9]{5}",
    "CronJob": r"-\d+-[a-z0-9]{5}",
    "Pod": r"",
}


class KeplerError(ValueError):
    pass


@dataclass(frozen=True)
class Sample:
    labels: tuple[tuple[str, str], ...]
    value: float
    timestamp_ms: int | None


def parse(text: str, source: str = "<kepler>") -> list[Sample]:
    """Every `kepler_container_joules_total` sample; other metrics are skipped."""
    out: list[Sample] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            raise KeplerError(f"{source}:{number}: not a Prometheus sample line")
        if m["name"] != METRIC:
            continue
        try:
            value = float(m["value"])
        except ValueError:
            raise KeplerError(f"{source}:{number}: bad value {m['value']!r}") from None
        labels = _labels(m["labels"] or "", source, number)
        out.append(Sample(labels, value, int(m["ts"]) if m["ts"] else None))
    return out


def _labels(text: str, source: str, number: int) -> tuple[tuple[str, str], ...]:
    pairs, pos = [], 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if not m:
            raise KeplerError(f"{source}:{number}: bad label set")
        value = re.sub(r"\\[\\\"n]", lambda e: _ESCAPES[e[0]], m[2])
        pairs.append((m[1], value))
        pos = m.end()
    return tuple(sorted(pairs))


def container_watts(
    samples: list[Sample], window_seconds: float | None
) -> dict[tuple[str, str, str], float]:
    """Average watts per (namespace, pod, container), summed over modes and zones."""
    series: dict[tuple[tuple[str, str], ...], list[Sample]] = defaultdict(list)
    for s in samples:
        series[s.labels].append(s)
    watts: dict[tuple[str, str, str], float] = defaultdict(float)
    for labels, items in series.items():
        watts[_key(dict(labels))] += _rate(items, window_seconds)
    return dict(watts)


def _rate(items: list[Sample], window_seconds: float | None) -> float:
    timed = sorted(
        (s for s in items if s.timestamp_ms is not None), key=lambda s: s.timestamp_ms or 0
    )
    if len(timed) >= 2 and timed[-1].timestamp_ms != timed[0].timestamp_ms:
        seconds = ((timed[-1].timestamp_ms or 0) - (timed[0].timestamp_ms or 0)) / 1000
        return max(0.0, timed[-1].value - timed[0].value) / seconds
    if not window_seconds:
        raise KeplerError(
            "one scrape per series: give the observation window with --kepler-window "
            "(e.g. 24h), or concatenate two timestamped scrapes"
        )
    return max(s.value for s in items) / window_seconds


def _key(labels: dict[str, str]) -> tuple[str, str, str]:
    def first(names: tuple[str, ...]) -> str:
        return next((labels[n] for n in names if labels.get(n)), "")

    return first(NAMESPACE_LABELS), first(POD_LABELS), first(CONTAINER_LABELS)


def workload_watts(
    obj: K8sObject, containers: set[str], watts: dict[tuple[str, str, str], float]
) -> float | None:
    """Measured watts of all of a workload's pods, or None when no series matches it."""
    suffix = POD_NAME_PATTERNS.get(obj.kind)
    if suffix is None or not obj.name:
        return None
    pod_name = re.compile(re.escape(obj.name) + suffix + "$")
    total, matched = 0.0, False
    for (ns, pod, container), w in watts.items():
        if obj.namespace and ns and ns != obj.namespace:
            continue
        if container in containers and pod_name.match(pod):
            total += w
            matched = True
    return total if matched else None


def parse_duration(text: str) -> float:
    """ "90s", "15m", "24h", "7d" or plain seconds -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not m:
        raise KeplerError(f"bad duration {text!r} (expected like 3600, 15m, 24h, 7d)")
    return float(m[1]) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m[2]]
