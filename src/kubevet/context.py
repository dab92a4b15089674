"""What a rule sees besides the object: options, per-rule settings and its input group."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from kubevet.model import K8sObject

if TYPE_CHECKING:
    from kubevet.chartinfo import ChartInfo
    from kubevet.supplychain.inputevidence import InputEvidence

LATEST_PSS_VERSION = "1.35"
T = TypeVar("T")


@dataclass
class Options:
    """Run-wide settings that rules may read (filled from CLI flags and config)."""

    pss_version: str = "latest"
    kube_version: str | None = None  # target Kubernetes version for upgrade rules
    rule_settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> knobs
    settings: dict[str, Any] = field(default_factory=dict)  # global knobs (registries, ...)


@dataclass
class InputGroup:
    """One input unit (a chart render, a manifest file set, an overlay) and its objects."""

    label: str  # what the user passed, or the chart/overlay directory
    source: str  # "manifests", "chart", "kustomize", "stdin"
    objects: list[K8sObject] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)  # InputError
    warnings: list[str] = field(default_factory=list)
    chart: ChartInfo | None = None  # the chart (or Helm release) it was rendered from
    skipped: list[tuple[str, str]] = field(default_factory=list)  # walked non-K8s files, why
    evidence: InputEvidence | None = None  # supply-chain evidence (kubevet.sources.evidence)
    releases: list[K8sObject] = field(default_factory=list)  # a cluster's Helm release Secrets
    kube_version: str | None = None  # what a cluster's /version reported (v1.28.4)
    _index: dict[tuple[str, str], list[K8sObject]] | None = None
    _views: dict[Callable[..., Any], Any] = field(default_factory=dict, repr=False)

    def by_kind(self, kind: str) -> list[K8sObject]:
        return self._kind_index().get(("kind", kind), [])

    def find(self, kind: str, name: str, namespace: str | None) -> K8sObject | None:
        return self._kind_index().get((kind, f"{namespace or ''}/{name}"), [None])[0]

    def view(self, build: Callable[[InputGroup], T]) -> T:
        """`build(self)`, computed once per input: an index that a rule would otherwise
        rebuild for every object it checks (objects are not changed after loading)."""
        if build not in self._views:
            self._views[build] = build(self)
        return self._views[build]  # type: ignore[no-any-return]

    def _kind_index(self) -> dict[tuple[str, str], list[K8sObject]]:
        if self._index is None:
            index: dict[tuple[str, str], list[K8sObject]] = defaultdict(list)
            for obj in self.objects:
                index[("kind", obj.kind)].append(obj)
                index[(obj.kind, f"{obj.namespace or ''}/{obj.name}")].append(obj)
            self._index = dict(index)
        return self._index


@dataclass
class RuleContext:
    """What a rule sees while it checks an input: the options, the input group, its settings."""

    options: Options
    group: InputGroup
    code: str = ""  # the rule being run, for `setting`
    defaults: dict[str, Any] = field(default_factory=dict)

    def setting(self, name: str, default: Any = None) -> Any:
        """A rule knob: config `rules.<CODE>.<name>`, else the rule's declared default."""
        return self._settings.get(name, default)

    # Read once per rule and input (rules ask on every object): options do not change
    # while an input is checked.
    @functools.cached_property
    def _settings(self) -> dict[str, Any]:
        return {**self.defaults, **self.options.rule_settings.get(self.code, {})}

    @functools.cached_property
    def pss_version(self) -> tuple[int, int]:
        return parse_minor(self.options.pss_version, LATEST_PSS_VERSION)


@functools.lru_cache(maxsize=64)  # rules ask for the PSS version on every container
def parse_minor(text: str | None, latest: str) -> tuple[int, int]:
    """ "v1.29", "1.29.3" or "latest" -> (1, 29)."""
    value = latest if not text or text == "latest" else text
    parts = value.lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise ValueError(f"bad version {text!r} (expected like 1.29 or latest)") from None


def __getattr__(name: str) -> Any:
    # ChartInfo lives in kubevet.chartinfo, imported only where charts are rendered (its
    # class is built at import, ~0.1 ms a check of manifests never needs); still here too.
    if name == "ChartInfo":
        from kubevet.chartinfo import ChartInfo

        return ChartInfo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
