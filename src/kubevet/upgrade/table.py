"""The versioned table of removed and deprecated Kubernetes APIs (data/deprecations.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from kubevet.context import parse_minor
from kubevet.data import read_text
from kubevet.sources.yamldocs import load_one

Version = tuple[int, int]


def version(text: str | None) -> Version | None:
    """ "1.29", "v1.29.3" -> (1, 29); None stays None."""
    return None if text in (None, "") else parse_minor(str(text), "")


def fmt(v: Version | None) -> str:
    return f"{v[0]}.{v[1]}" if v else ""


def split_api(api_version: str) -> tuple[str, str]:
    """ "apps/v1" -> ("apps", "v1"); "v1" -> ("", "v1")."""
    group, _, ver = api_version.rpartition("/")
    return group, ver


@dataclass(frozen=True, slots=True)
class ApiEntry:
    """One API version of a kind: when it was deprecated and removed, and its replacement."""

    group: str
    version: str
    kind: str
    deprecated: Version | None
    removed: Version | None
    replacement: str | None  # group/version, or None when nothing replaces it
    available: Version | None  # release from which the replacement is served
    changes: tuple[str, ...]
    rewrite: str  # converter name in kubevet.upgrade.convert, or "none"
    note: str
    source: str
    replacement_kind: str | None = None
    alternatives: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def removed_at(self, target: Version) -> bool:
        return self.removed is not None and self.removed <= target

    def deprecated_at(self, target: Version) -> bool:
        return self.deprecated is not None and self.deprecated <= target


@dataclass
class Table:
    """The deprecated and removed API table, indexed by (apiVersion, kind)."""

    entries: tuple[ApiEntry, ...]
    newest: Version
    guide: str
    _index: dict[tuple[str, str], ApiEntry] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {(e.api_version, e.kind): e for e in self.entries}

    def lookup(self, api_version: str, kind: str) -> ApiEntry | None:
        return self._index.get((api_version, kind))

    def removed_in(self, release: Version) -> set[tuple[str, str]]:
        """(apiVersion, kind) pairs whose removal release is `release`."""
        return {(e.api_version, e.kind) for e in self.entries if e.removed == release}

    def removal_versions(self) -> list[Version]:
        return sorted({e.removed for e in self.entries if e.removed})

    def replacement_for(
        self, entry: ApiEntry, target: Version, current: Version | None = None
    ) -> str | None:
        """The API to move to for `target`: the entry's replacement, followed further while
        that one is removed at the target, or deprecated there with its own successor already
        served by the running cluster (`current`, else the target)."""
        best = entry.replacement
        while best:
            nxt = self.lookup(best, entry.kind)
            if nxt is None:
                return best
            superseded = nxt.deprecated_at(target) and _served(nxt, current or target)
            if not (nxt.removed_at(target) or (superseded and nxt.replacement)):
                return best
            best = nxt.replacement
        return None


def _served(entry: ApiEntry, release: Version) -> bool:
    return entry.available is not None and entry.available <= release


@cache
def load_table() -> Table:
    """The packaged table, parsed once."""
    text = read_text("deprecations.yaml")
    return parse_table(load_one(text))


def parse_table(data: dict[str, Any]) -> Table:
    entries: list[ApiEntry] = []
    for item in data["apis"]:
        for kind in item["kinds"]:
            entries.append(
                ApiEntry(
                    group=item["group"],
                    version=item["version"],
                    kind=kind,
                    deprecated=version(item.get("deprecated")),
                    removed=version(item.get("removed")),
                    replacement=item.get("replacement"),
                    available=version(item.get("available")),
                    changes=tuple(item.get("changes") or ()),
                    rewrite=item.get("rewrite", "none"),
                    note=item.get("note", ""),
                    source=item["source"],
                    replacement_kind=item.get("replacement-kind"),
                    alternatives=tuple(item.get("alternatives") or ()),
                )
            )
    newest = version(str(data["newest"]))
    assert newest is not None
    return Table(tuple(entries), newest, data.get("guide", ""))
