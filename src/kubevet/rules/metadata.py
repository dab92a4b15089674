"""Metadata the API server refuses (KV804): names, namespaces, labels and annotations.

The formats are Kubernetes' own (k8s.io/apimachinery/pkg/util/validation: DNS-1123
subdomain and label, DNS-1035 label, qualified names, label values) and the name rule of
each kind (pkg/apis/*/validation); a kind not listed gets the rule every name keeps, a
path segment (no `/` or `%`, not `.` or `..`), so that no valid name is reported.
"""

from __future__ import annotations

import re
from typing import Any

from kubevet.context import RuleContext
from kubevet.findings import Violation
from kubevet.model import K8sObject, Path, is_tool_file
from kubevet.rules.examples import example_deployment
from kubevet.rules.registry import rule

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_DNS_LABEL = re.compile(_LABEL)
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_QUALIFIED = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")

# Kinds whose names must be DNS-1123 subdomains (at most 253 characters).
SUBDOMAIN_KINDS = frozenset(
    {
        "Pod",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "ReplicationController",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "Ingress",
        "NetworkPolicy",
        "HorizontalPodAutoscaler",
    }
)
# A CronJob's Jobs are named after it plus 11 characters, within a DNS-1035 label (63).
CRONJOB_NAME_MAX = 52


def dns_label_problem(text: str) -> str | None:
    """Why `text` is not a DNS-1123 label (at most 63 characters), or None."""
    return _format(text, _DNS_LABEL, 63, "a DNS-1123 label")


def subdomain_problem(text: str, most: int = 253) -> str | None:
    """Why `text` is not a DNS-1123 subdomain of at most `most` characters, or None."""
    return _format(text, _SUBDOMAIN, most, "a DNS-1123 subdomain")


def name_problem(kind: str, name: str) -> str | None:
    """Why the API server would refuse `name` for an object of `kind` (None: it would not)."""
    if kind == "Namespace":
        return dns_label_problem(name)
    if kind == "Service":
        return _format(name, _DNS1035_LABEL, 63, "a DNS-1035 label (starting with a letter)")
    if kind in SUBDOMAIN_KINDS:
        if kind == "CronJob" and len(name) > CRONJOB_NAME_MAX:
            return f"is {len(name)} characters, over the {CRONJOB_NAME_MAX} a CronJob allows"
        return subdomain_problem(name)
    if name in (".", "..") or "/" in name or "%" in name:
        return "cannot be a path segment (it is `.` or `..`, or holds `/` or `%`)"
    return None


def key_problem(key: str) -> str | None:
    """Why a label or annotation key is refused: an optional DNS subdomain prefix and `/`,
    then a name of at most 63 characters."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or subdomain_problem(prefix)):
        return "has a prefix that is not a DNS-1123 subdomain of at most 253 characters"
    if _format(name, _QUALIFIED, 63, ""):
        return (
            "is not a qualified name (at most 63 letters, digits, `-`, `_` or `.`, starting "
            "and ending with a letter or digit, after an optional `prefix/`)"
        )
    return None


def label_value_problem(value: str) -> str | None:
    if value == "" or not _format(value, _QUALIFIED, 63, ""):
        return None
    return (
        "is not a label value (at most 63 letters, digits, `-`, `_` or `.`, starting and "
        "ending with a letter or digit)"
    )


def _format(text: str, pattern: re.Pattern[str], most: int, what: str) -> str | None:
    if len(text) > most:
        return f"is {len(text)} characters, over {most}"
    return None if pattern.fullmatch(text) else f"is not {what}"


def _read_as(value: Any) -> str:
    """How YAML read an unquoted scalar, in YAML's words."""
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return f"a {type(value).__name__} ({value})"


@rule(
    code="KV804",
    slug="invalid-metadata",
    title="Name, namespace, label or annotation the API server refuses",
    category="hygiene",
    severity="high",
    scope="object",
    what="An object's name does not have the format its kind requires (a DNS-1123 "
    "subdomain for most kinds, a DNS-1123 label for a Namespace, a DNS-1035 label for a "
    "Service, at most 52 characters for a CronJob), its namespace is not a DNS-1123 label, "
    "or a label or annotation (of the object or its pod template) has a key that is not a "
    "qualified name, a value that is not a string (an unquoted `1.0`, `true` or `2024`), or "
    "a label value that is not a valid label value.",
    why="The API server refuses the whole object: `kubectl apply` or `helm install` fails "
    "at deploy time on what every other check passed. Unquoted numbers and booleans in "
    "labels and annotations are the usual cause in charts (`version: {{ .Chart.AppVersion "
    "}}` renders as a number).",
    how_to_fix="Quote label and annotation values (`{{ .Chart.AppVersion | quote }}` in a "
    "template); use lowercase letters, digits and `-` in names and namespaces.",
    example_bad=example_deployment(name="Web_App", metadata="  labels:\n    version: 1.0\n"),
    example_good=example_deployment(name="web-app", metadata='  labels:\n    version: "1.0"\n'),
    references=(
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/",
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set",
    ),
)
def invalid_metadata(ctx: RuleContext, obj: K8sObject) -> list[Violation]:
    # A list, not a generator: this runs on every object, and nearly all pass.
    if is_tool_file(obj):
        return []
    meta = obj.metadata
    found: list[Violation] = []
    name = meta.get("name")
    if name and isinstance(name, str):
        problem = name_problem(obj.kind, name)
        if problem:
            found.append(Violation(f"{obj.kind} name {name!r} {problem}", ("metadata", "name")))
    namespace = meta.get("namespace")
    if namespace and isinstance(namespace, str) and namespace not in _GOOD_NAMESPACES:
        problem = dns_label_problem(namespace)
        if problem:
            found.append(Violation(f"namespace {namespace!r} {problem}", ("metadata", "namespace")))
        elif len(_GOOD_NAMESPACES) < _MOST_KEPT:
            _GOOD_NAMESPACES.add(namespace)
    _maps(meta, ("metadata",), found)
    if obj.pod is not None and obj.pod.metadata:
        _maps(obj.pod.metadata, obj.pod.metadata_path, found)
    return found


def _maps(meta: dict[str, Any], at: Path, found: list[Violation]) -> None:
    for field in ("labels", "annotations"):
        entries = meta.get(field)
        if not entries or not isinstance(entries, dict) or _known_good(field, entries):
            continue
        labels = field == "labels"
        for key, value in entries.items():
            # Most entries of a map not known good as a whole are known good one by one.
            if key in _GOOD_KEYS and (
                value is None
                or (type(value) is str and (not labels or value in _GOOD_LABEL_VALUES))
            ):
                continue
            _entry(field, str(key), value, at, found)


# Keys and label values seen valid: most objects of a run repeat the same ones, so the
# check of a whole map is a set comparison (this rule runs on every object).
_GOOD_KEYS: set[Any] = set()
_GOOD_LABEL_VALUES: set[Any] = {""}
_GOOD_NAMESPACES: set[str] = set()
_STR_ONLY = frozenset({str})
_MOST_KEPT = 50_000


def _known_good(field: str, entries: dict[Any, Any]) -> bool:
    if not entries.keys() <= _GOOD_KEYS:
        return False
    if field == "labels":
        return _GOOD_LABEL_VALUES.issuperset(entries.values())
    return set(map(type, entries.values())) <= _STR_ONLY


def _entry(field: str, key: str, value: Any, at: Path, found: list[Violation]) -> None:
    what = field[:-1]  # label, annotation
    problem = _checked_key(key)
    if problem:
        found.append(Violation(f"{what} key {key!r} {problem}", (*at, field, key)))
    if value is not None and not isinstance(value, str):
        message = f"{what} {key!r} is {_read_as(value)}, not a string: quote it"
        found.append(Violation(message, (*at, field, key)))
    elif field == "labels" and value:
        problem = _checked_value(value)
        if problem:
            message = f"label {key!r} has the value {value!r}, which {problem}"
            found.append(Violation(message, (*at, field, key)))


def _checked_key(key: str) -> str | None:
    problem = key_problem(key)
    if problem is None:
        if len(_GOOD_KEYS) > _MOST_KEPT:
            _GOOD_KEYS.clear()
        _GOOD_KEYS.add(key)
    return problem


def _checked_value(value: str) -> str | None:
    problem = label_value_problem(value)
    if problem is None:
        if len(_GOOD_LABEL_VALUES) > _MOST_KEPT:  # a long run's memory stays bounded
            _GOOD_LABEL_VALUES.clear()
            _GOOD_LABEL_VALUES.add("")
        _GOOD_LABEL_VALUES.add(value)
    return problem
