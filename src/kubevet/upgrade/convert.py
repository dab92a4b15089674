"""Object conversions to a replacement API version, with the schema changes that go with it.

Converters edit a mapping in place (a plain dict, or a ruamel.yaml CommentedMap when
rewriting a file), touching only the fields that change, so formatting and comments of
the rest survive. Each returns notes for the report; `NotConvertible` says why not.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from kubevet.upgrade.table import ApiEntry, Table, Version, split_api

Mapping_ = MutableMapping[str, Any]


class NotConvertible(Exception):
    """The object cannot be converted safely; the message says what to do instead."""


@dataclass
class Conversion:
    entry: ApiEntry
    new_api: str
    notes: list[str] = field(default_factory=list)


def plan(data: Any, table: Table, target: Version, current: Version | None = None) -> Any:
    """The Conversion for `data` at `target`; None when it needs none; NotConvertible raised
    when it needs one kubevet cannot make."""
    if not isinstance(data, MutableMapping):
        return None
    entry = table.lookup(str(data.get("apiVersion", "")), str(data.get("kind", "")))
    if entry is None or not (entry.removed_at(target) or entry.deprecated_at(target)):
        return None
    new_api = table.replacement_for(entry, target, current)
    if new_api is None or entry.rewrite == "none" or entry.rewrite not in CONVERTERS:
        if entry.removed_at(target) or new_api:
            raise NotConvertible(entry.note or f"no automatic conversion to {new_api}")
        return None
    return Conversion(entry, new_api)


def convert(data: Mapping_, conv: Conversion) -> list[str]:
    """Apply `conv` to `data` in place; returns the notes. Raises NotConvertible."""
    notes = CONVERTERS[conv.entry.rewrite](data, conv.entry.version, split_api(conv.new_api)[1])
    _set_scalar(data, "apiVersion", conv.new_api)
    conv.notes = notes
    return notes


def converted_copy(data: dict[str, Any], conv: Conversion) -> dict[str, Any]:
    out = copy.deepcopy(data)
    convert(out, conv)
    return out


# ---- helpers that keep position, quoting and comments -------------------------------------


def _set_scalar(m: Mapping_, key: str, value: Any) -> None:
    old = m.get(key)
    if isinstance(old, str) and type(old) is not str and isinstance(value, str):
        value = type(old)(value)  # keep the original quoting style (ruamel scalar strings)
    m[key] = value


def _insert(m: Mapping_, pos: int, key: str, value: Any) -> None:
    if hasattr(m, "insert"):
        m.insert(pos, key, value)
    else:
        m[key] = value


def _replace_keys(m: Mapping_, old: list[str], new_key: str, value: Any) -> None:
    """Put `new_key: value` where the first of `old` was, and drop the `old` keys."""
    present = [k for k in old if k in m]
    pos = list(m).index(present[0]) if present else len(m)
    comments = getattr(m, "ca", None)
    found = [comments.items.get(k) for k in present] if comments is not None else []
    moved = next((c for c in found if c), None)
    for k in present:
        del m[k]
    if moved is not None and isinstance(value, dict) and value:
        value = _commented(value, moved)  # the comment follows the first new scalar line
        moved = None
    _insert(m, pos, new_key, value)
    if moved is not None:
        comments.items[new_key] = moved  # type: ignore[union-attr]


def _commented(value: dict[str, Any], comment: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap()
    for k, v in value.items():
        out[k] = v
    out.ca.items[next(iter(out))] = comment
    return out


def _dicts(value: Any) -> list[Mapping_]:
    return [v for v in value if isinstance(v, MutableMapping)] if isinstance(value, list) else []


def _map(value: Any) -> Mapping_ | None:
    return value if isinstance(value, MutableMapping) else None


# ---- converters ---------------------------------------------------------------------------


def _version_only(data: Mapping_, old: str, new: str) -> list[str]:
    return []


def _workload(data: Mapping_, old: str, new: str) -> list[str]:
    spec = _map(data.get("spec"))
    if spec is None:
        raise NotConvertible("no spec")
    notes = []
    if not _map(spec.get("selector")):
        labels = _map(
            (_map((_map(spec.get("template")) or {}).get("metadata")) or {}).get("labels")
        )
        if not labels:
            raise NotConvertible(
                "apps/v1 requires spec.selector and the pod template has no labels"
            )
        _insert(spec, 0 if "replicas" not in spec else 1, "selector", {"matchLabels": dict(labels)})
        notes.append("spec.selector added from the pod template labels")
    for gone in ("rollbackTo", "templateGeneration"):
        if gone in spec:
            del spec[gone]
            notes.append(f"spec.{gone} removed (not in apps/v1)")
    return notes


def _ingress(data: Mapping_, old: str, new: str) -> list[str]:
    notes: list[str] = []
    spec = _map(data.get("spec"))
    if spec is None:
        return notes
    if "backend" in spec:
        backend = spec["backend"]
        _convert_backend(_map(backend))
        _replace_keys(spec, ["backend"], "defaultBackend", backend)
        notes.append("spec.backend renamed spec.defaultBackend")
    for rule in _dicts(spec.get("rules")):
        for path in _dicts((_map(rule.get("http")) or {}).get("paths")):
            _convert_backend(_map(path.get("backend")))
            if "pathType" not in path:
                pos = list(path).index("path") + 1 if "path" in path else 0
                _insert(path, pos, "pathType", "ImplementationSpecific")
                notes.append("pathType ImplementationSpecific set (the v1beta1 behaviour)")
    return sorted(set(notes), key=notes.index)


def _convert_backend(backend: Mapping_ | None) -> None:
    if backend is None or "serviceName" not in backend:
        return
    port = backend.get("servicePort")
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    service: dict[str, Any] = {"name": backend["serviceName"]}
    if port is not None:
        service["port"] = {"number": port} if isinstance(port, int) else {"name": port}
    _replace_keys(backend, ["serviceName", "servicePort"], "service", service)


def _hpa(data: Mapping_, old: str, new: str) -> list[str]:
    if old != "v2beta1":
        return []  # v2beta2 and v2 share one schema
    spec = _map(data.get("spec"))
    notes = []
    for metric in _dicts((spec or {}).get("metrics")):
        kind = metric.get("type")
        key = {"Resource": "resource", "ContainerResource": "containerResource"}.get(kind, "")
        key = key or {"Pods": "pods", "Object": "object", "External": "external"}.get(kind, "")
        source = _map(metric.get(key))
        if source is None:
            continue
        _HPA_METRICS[key](source)
        notes.append(f"{key} metric moved to the autoscaling/v2 metric/target shape")
    return notes


def _target(pairs: list[tuple[str, str, str]], source: Mapping_) -> dict[str, Any]:
    """The v2 `target` from the first v2beta1 field present: (old field, type, new field)."""
    for old, kind, new in pairs:
        if old in source:
            return {"type": kind, new: source[old]}
    raise NotConvertible("metric has no target value")


def _resource_metric(src: Mapping_) -> None:
    pairs = [
        ("targetAverageUtilization", "Utilization", "averageUtilization"),
        ("targetAverageValue", "AverageValue", "averageValue"),
    ]
    target = _target(pairs, src)
    _replace_keys(src, [p[0] for p in pairs], "target", target)


def _metric_id(src: Mapping_, selector_key: str) -> dict[str, Any]:
    metric: dict[str, Any] = {"name": src.get("metricName")}
    if selector_key in src:
        metric["selector"] = src[selector_key]
    return metric


def _pods_metric(src: Mapping_) -> None:
    target = _target([("targetAverageValue", "AverageValue", "averageValue")], src)
    metric = _metric_id(src, "selector")
    _replace_keys(src, ["metricName", "selector"], "metric", metric)
    _replace_keys(src, ["targetAverageValue"], "target", target)


def _object_metric(src: Mapping_) -> None:
    pairs = [("averageValue", "AverageValue", "averageValue"), ("targetValue", "Value", "value")]
    target = _target(pairs, src)
    described = src.get("target")
    metric = _metric_id(src, "selector")
    _replace_keys(src, ["target"], "describedObject", described)
    _replace_keys(src, ["metricName", "selector"], "metric", metric)
    _replace_keys(src, [p[0] for p in pairs], "target", target)


def _external_metric(src: Mapping_) -> None:
    pairs = [
        ("targetAverageValue", "AverageValue", "averageValue"),
        ("targetValue", "Value", "value"),
    ]
    target = _target(pairs, src)
    metric = _metric_id(src, "metricSelector")
    _replace_keys(src, ["metricName", "metricSelector"], "metric", metric)
    _replace_keys(src, [p[0] for p in pairs], "target", target)


_HPA_METRICS: dict[str, Callable[[Mapping_], None]] = {
    "resource": _resource_metric,
    "containerResource": _resource_metric,
    "pods": _pods_metric,
    "object": _object_metric,
    "external": _external_metric,
}

DEFAULT_NOMINAL_SHARES = 30


def _flowcontrol(data: Mapping_, old: str, new: str) -> list[str]:
    if data.get("kind") != "PriorityLevelConfiguration":
        return []
    limited = _map((_map(data.get("spec")) or {}).get("limited"))
    if limited is None:
        return []
    notes = []
    if "assuredConcurrencyShares" in limited:
        value = limited["assuredConcurrencyShares"]
        _replace_keys(limited, ["assuredConcurrencyShares"], "nominalConcurrencyShares", value)
        notes.append("spec.limited.assuredConcurrencyShares renamed nominalConcurrencyShares")
    # Before v1 an explicit 0 meant the default (30); in v1 it means zero nominal seats.
    if new == "v1" and limited.get("nominalConcurrencyShares") == 0:
        _set_scalar(limited, "nominalConcurrencyShares", DEFAULT_NOMINAL_SHARES)
        notes.append("nominalConcurrencyShares 0 set to 30, which is what 0 meant before v1")
    return notes


def _webhook(data: Mapping_, old: str, new: str) -> list[str]:
    # Spell out the v1beta1 defaults, since v1 changes them.
    defaults = {"failurePolicy": "Ignore", "matchPolicy": "Exact", "timeoutSeconds": 30}
    notes = []
    for hook in _dicts(data.get("webhooks")):
        if hook.get("sideEffects") not in ("None", "NoneOnDryRun"):
            raise NotConvertible(
                f"webhook {hook.get('name')!r}: v1 requires sideEffects None or NoneOnDryRun; "
                "set it once you know what the webhook does"
            )
        for key, value in defaults.items():
            if key not in hook:
                hook[key] = value
                notes.append(f"{key} {value} kept explicitly (the v1beta1 default)")
        if "admissionReviewVersions" not in hook:
            hook["admissionReviewVersions"] = ["v1beta1"]
            notes.append("admissionReviewVersions [v1beta1] kept explicitly")
    return sorted(set(notes), key=notes.index)


def _endpointslice(data: Mapping_, old: str, new: str) -> list[str]:
    for ep in _dicts(data.get("endpoints")):
        if ep.get("topology"):
            raise NotConvertible("endpoints[].topology: move it to nodeName/zone by hand")
    return []


CONVERTERS: dict[str, Callable[[Mapping_, str, str], list[str]]] = {
    "version": _version_only,
    "workload": _workload,
    "ingress": _ingress,
    "hpa": _hpa,
    "flowcontrol": _flowcontrol,
    "webhook": _webhook,
    "endpointslice": _endpointslice,
}
