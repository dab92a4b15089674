"""Suppressions as annotations, with a required reason; unused ones are reported.

    metadata:
      annotations:
        kubevet.io/ignore: "KV101: runs as root by design, see ADR-12"
        kubevet.io/ignore.sidecar: "KV201, KV202: resources set by the mesh injector"

`kubevet.io/ignore` covers the whole object; `kubevet.io/ignore.<container>` one container.
An entry may expire: `"KV101 until 2027-03-31: waiting for the vendor fix"` stops applying
on that day, and the expired entry is reported (KV002) so it is renewed or removed.
Entries are separated by newlines or `;`. The annotations are read on the object and on
its pod template, so they survive charts that only let users annotate pods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubevet.context import InputGroup
from kubevet.findings import Finding, Violation, finding_for
from kubevet.model import K8sObject, Path

if TYPE_CHECKING:
    from kubevet.suppressentry import Entry

PREFIX = "kubevet.io/ignore"
UNUSED_CODE = "KV001"
INVALID_CODE = "KV002"


class Suppressions:
    @staticmethod
    def apply(findings: list[Finding], group: InputGroup, active: set[str]) -> list[Finding]:
        """Mark suppressed findings in place; return findings about the suppressions."""
        from kubevet.rules.registry import get_rule

        # Only the objects that carry suppressions, in input order: few do.
        entries_by_obj: dict[int, tuple[K8sObject, list[Entry]]] = {}
        extra: list[Finding] = []
        for obj in group.objects:
            entries, problems = _parse(obj)
            if entries:
                entries_by_obj[id(obj)] = (obj, entries)
            extra.extend(_meta(INVALID_CODE, obj, v, group.label, active) for v in problems)
        for f in findings if entries_by_obj else ():
            _, entries = entries_by_obj.get(id(f.obj), (None, ()))
            for entry in entries:
                if entry.container not in (None, f.container):
                    continue
                for name in entry.rules:
                    r = get_rule(name)
                    if r is not None and r.code == f.code:
                        f.suppressed = entry.reason
                        entry.used.add(name)
        for obj, entries in entries_by_obj.values():
            for entry in entries:
                for name in entry.rules:
                    r = get_rule(name)
                    if r is None:
                        msg = f"suppression names unknown rule {name!r}"
                        v = Violation(msg, entry.path, entry.container)
                        extra.append(_meta(INVALID_CODE, obj, v, group.label, active))
                    elif name not in entry.used and r.code in active:
                        msg = f"unused suppression: {name} ({r.slug}) matched no finding"
                        v = Violation(msg, entry.path, entry.container)
                        extra.append(_meta(UNUSED_CODE, obj, v, group.label, active))
        return [f for f in extra if f is not None]


def _parse(obj: K8sObject) -> tuple[list[Entry], list[Violation]]:
    """The suppressions `obj` carries; the reading (kubevet.suppressentry) is imported only
    for an object that has one: few do."""
    found: list[tuple[str, str | None, Any, Path]] = []
    sources = [(obj.annotations, ("metadata", "annotations"))]
    # A Pod's pod metadata is its own metadata: reading it twice would double every entry.
    if obj.pod is not None and obj.pod.metadata_path not in ((), ("metadata",)):
        sources.append((obj.pod.annotations, (*obj.pod.metadata_path, "annotations")))
    for notes, base in sources:
        for key, value in notes.items():
            if not str(key).startswith(PREFIX):
                continue
            rest = str(key)[len(PREFIX) :]
            if rest and not rest.startswith("."):
                continue
            found.append((str(key), rest[1:] or None, value, (*base, str(key))))
    if not found:
        return [], []
    from kubevet.suppressentry import read_entries

    return read_entries(found)


def _meta(code: str, obj: K8sObject, v: Violation, label: str, active: set[str]) -> Finding | None:
    from kubevet.rules.registry import get_rule

    r = get_rule(code)
    if r is None or code not in active:
        return None
    return finding_for(r, obj, v, label)
