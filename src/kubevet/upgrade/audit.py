"""Kubernetes audit logs: which clients still call deprecated or removed APIs.

The API server marks each request to a deprecated API with the audit annotation
`k8s.io/deprecated: "true"` and, when a removal is planned, `k8s.io/removed-release`
(KEP-1693, Kubernetes 1.19+). The log is JSON lines of audit.k8s.io/v1 Event.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from kubevet import jsontext
from kubevet.findings import InputError
from kubevet.upgrade.table import Version, version

DEPRECATED = "k8s.io/deprecated"
REMOVED_RELEASE = "k8s.io/removed-release"


@dataclass
class ClientUsage:
    user: str
    user_agent: str
    api_version: str  # group/version as called
    resource: str
    removed_release: str  # "" when no removal is planned
    count: int = 0
    last_seen: str = ""
    verbs: set[str] = field(default_factory=set)

    def removed_by(self, target: Version) -> bool:
        rel = version(self.removed_release)
        return rel is not None and rel <= target

    def as_dict(self, target: Version) -> dict[str, Any]:
        return {
            "user": self.user,
            "user_agent": self.user_agent,
            "api_version": self.api_version,
            "resource": self.resource,
            "removed_release": self.removed_release or None,
            "removed_by_target": self.removed_by(target),
            "calls": self.count,
            "last_seen": self.last_seen,
            "verbs": sorted(self.verbs),
        }


def read_audit_log(path: str) -> tuple[list[ClientUsage], list[InputError]]:
    """Per (user, user agent, API, resource, removal release): calls and last seen."""
    usage: dict[tuple[str, ...], ClientUsage] = {}
    errors: list[InputError] = []
    seen_ids: set[str] = set()
    from kubevet.sources.reader import open_regular

    try:  # a regular file only (a FIFO would block); read line by line, logs are large
        with io.TextIOWrapper(open_regular(path), encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                _read_line(line, lineno, path, usage, seen_ids, errors)
    except InputError as err:
        return [], [InputError(path, err.message.replace("cannot read", "cannot read audit log"))]
    except OSError as exc:
        return [], [InputError(path, f"cannot read audit log: {exc.strerror or exc}")]
    return sorted(usage.values(), key=_order), errors


def _read_line(
    line: str,
    lineno: int,
    path: str,
    usage: dict[tuple[str, ...], ClientUsage],
    seen: set[str],
    errors: list[InputError],
) -> None:
    if not line.strip():
        return
    try:
        event = jsontext.loads(line)  # nesting bounded
    except json.JSONDecodeError as exc:
        errors.append(InputError(path, f"invalid JSON in audit log: {exc.msg}", lineno))
        return
    if not isinstance(event, dict):
        errors.append(InputError(path, "audit log line is not an Event object", lineno))
        return
    _add(usage, seen, event)


def _add(usage: dict[tuple[str, ...], ClientUsage], seen: set[str], event: dict[str, Any]) -> None:
    notes = event.get("annotations") or {}
    if str(notes.get(DEPRECATED, "")).lower() != "true":
        return
    ref = event.get("objectRef") or {}
    group, ver = str(ref.get("apiGroup") or ""), str(ref.get("apiVersion") or "")
    api = f"{group}/{ver}" if group else ver
    resource = str(ref.get("resource") or "")
    if ref.get("subresource"):
        resource += f"/{ref['subresource']}"
    user = str((event.get("user") or {}).get("username") or "")
    key = (
        user,
        str(event.get("userAgent") or ""),
        api,
        resource,
        str(notes.get(REMOVED_RELEASE) or ""),
    )
    item = usage.setdefault(key, ClientUsage(*key))
    audit_id = str(event.get("auditID") or "")
    if not audit_id or audit_id not in seen:  # a request logs one event per stage: count once
        seen.add(audit_id)
        item.count += 1
    item.verbs.add(str(event.get("verb") or ""))
    when = str(event.get("stageTimestamp") or event.get("requestReceivedTimestamp") or "")
    item.last_seen = max(item.last_seen, when)  # RFC 3339 UTC timestamps order as text


def _order(u: ClientUsage) -> tuple[Any, ...]:
    rel = version(u.removed_release) or (99, 99)
    return (rel, u.user, u.user_agent, u.api_version, u.resource)
