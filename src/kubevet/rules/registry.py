"""The rule registry: metadata plus a plain check function per rule.

A rule is declared with the `@rule(...)` decorator in the module of its concern. The
metadata (code, slug, docs) is the single source for `kubevet rules`, `kubevet rule CODE`,
docs/rules.md and the SARIF rule descriptors; equivalents in other tools are data, joined
by code (rules/crossref.py).

Check signatures by scope (each yields `Violation`s):
- "container": check(ctx, obj, pod, container)   every container of every workload
- "pod":       check(ctx, obj, pod)              every workload's pod spec
- "object":    check(ctx, obj)                   every object whose kind is in `kinds`
- "group":     check(ctx, group)                 once per input (chart, file set): cross-object
  rules; each Violation names its object in `obj`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kubevet.findings import Applicability, Severity, Violation
from kubevet.rules.options import Option

Scope = Literal["container", "pod", "object", "group"]

# Modules holding rule packs, imported on first use only (keeps `kubevet --help` fast).
RULE_MODULES: tuple[str, ...] = (
    "kubevet.rules.meta",
    "kubevet.rules.security.identity",
    "kubevet.rules.security.privilege",
    "kubevet.rules.security.kernel",
    "kubevet.rules.security.host",
    "kubevet.rules.security.accounts",
    "kubevet.rules.security.workload",
    "kubevet.rules.security.ingress_nginx",
    "kubevet.rules.resources",
    "kubevet.rules.reliability.probes",
    "kubevet.rules.reliability.availability",
    "kubevet.rules.reliability.controllers",
    "kubevet.rules.reliability.references",
    "kubevet.rules.reliability.podspec",
    "kubevet.rules.rbac.roles",
    "kubevet.rules.rbac.accounts",
    "kubevet.rules.rbac.bindings",
    "kubevet.rules.network.services",
    "kubevet.rules.network.serviceports",
    "kubevet.rules.network.ingressspec",
    "kubevet.rules.network.policies",
    "kubevet.rules.network.backends",
    "kubevet.rules.network.peers",
    "kubevet.rules.hygiene",
    "kubevet.rules.metadata",
    "kubevet.rules.supplychain.images",
    "kubevet.rules.supplychain.provenance",
    "kubevet.rules.builds",
    "kubevet.rules.upgrade",
    "kubevet.rules.sustainability.sizes",
    "kubevet.rules.sustainability.scaling",
)

TOOLS = ("checkov", "datree", "kics", "kubelinter", "kubeaudit", "kubescape", "terrascan")


@dataclass(frozen=True)
class Rule:
    """A rule: its metadata (code, docs, examples, options) and its check function."""

    code: str  # stable, e.g. "KV101"
    slug: str  # stable, e.g. "run-as-non-root"
    title: str
    category: str  # security, podsecurity, resources, reliability, rbac, network, ...
    severity: Severity
    scope: Scope
    check: Callable[..., Iterable[Violation]]
    what: str  # what it checks
    why: str  # why it matters
    how_to_fix: str
    # YAML that triggers the rule and YAML that passes (also test fixtures), or what builds
    # it: read as `example_bad` and `example_good`
    bad_yaml: str | Callable[[], str]
    good_yaml: str | Callable[[], str]
    kinds: frozenset[str] | None = None  # for scope "object"; None = every kind
    fix_applicability: Applicability | Literal["none"] = "none"
    unified: tuple[str, ...] = ()  # ids in ../shared/data/mycharts-check-map.csv
    pss: tuple[str, ...] = ()  # pod-security-admission check ids
    references: tuple[str, ...] = ()
    enabled_by_default: bool = True
    options: Mapping[str, Option] = field(default_factory=dict)  # config knobs (snake_case)

    @property
    def example_bad(self) -> str:
        return self.bad_yaml if isinstance(self.bad_yaml, str) else self.bad_yaml()

    @property
    def example_good(self) -> str:
        return self.good_yaml if isinstance(self.good_yaml, str) else self.good_yaml()

    @property
    def defaults(self) -> dict[str, Any]:
        return {name: opt.default for name, opt in self.options.items()}

    def matches(self, selector: str) -> bool:
        """`--select/--ignore` match by code (or code prefix), slug or category."""
        s = selector.strip()
        return (
            self.code.upper().startswith(s.upper())
            or self.slug == s.lower()
            or self.category == s.lower()
            or s.upper() == "ALL"
            or _pss_profile_match(self.pss, s.lower())
            or _framework_match(self.code, s)
        )


def _pss_profile_match(pss: tuple[str, ...], selector: str) -> bool:
    """`pss-baseline`: rules of baseline controls; `pss-restricted`: the whole restricted
    profile (baseline controls included), as pod-security-admission enforces it."""
    if not pss or selector not in ("pss-baseline", "pss-restricted"):
        return False
    from kubevet.rules.security.pss import PSS_CONTROLS  # lazy: rule packs stay unloaded

    levels = {PSS_CONTROLS[p][0] for p in pss if p in PSS_CONTROLS}
    return "baseline" in levels or (selector == "pss-restricted" and bool(levels))


def _framework_match(code: str, selector: str) -> bool:
    """`cis`, `nsa`, `mitre`: the rules that check a control of that framework."""
    from kubevet.frameworks import framework_of

    fw = framework_of(selector)
    return fw is not None and code in fw.rules


_RULES: dict[str, Rule] = {}
_SLUGS: dict[str, str] = {}
_loaded = False


def rule(**meta: Any) -> Callable[[Callable[..., Iterable[Violation]]], Callable[..., Any]]:
    """Register the decorated check function as a rule with the given metadata."""

    def register(fn: Callable[..., Iterable[Violation]]) -> Callable[..., Any]:
        meta.setdefault("what", (fn.__doc__ or "").strip())
        sev = meta["severity"]
        meta["severity"] = Severity.parse(sev) if isinstance(sev, str) else sev
        for key in ("unified", "pss", "references"):
            meta[key] = tuple(meta.get(key, ()))
        if "kinds" in meta and meta["kinds"] is not None:
            meta["kinds"] = frozenset(meta["kinds"])
        for name, opt in meta.get("options", {}).items():
            if not isinstance(opt, Option) or opt.problem(opt.default):
                raise ValueError(f"rule {meta['code']}: option {name} needs a valid Option(...)")
        # An example may be a function (rules/examples.py): built when docs or tests read it,
        # not on every run's import of the rule packs.
        meta["bad_yaml"], meta["good_yaml"] = meta.pop("example_bad"), meta.pop("example_good")
        new = Rule(check=fn, **meta)
        if new.code in _RULES or new.slug in _SLUGS:
            raise ValueError(f"duplicate rule {new.code} / {new.slug}")
        _RULES[new.code] = new
        _SLUGS[new.slug] = new.code
        return fn

    return register


def all_rules() -> list[Rule]:
    """Every registered rule, sorted by code."""
    _load()
    return sorted(_RULES.values(), key=lambda r: r.code)


def get_rule(code_or_slug: str) -> Rule | None:
    _load()
    key = code_or_slug.strip()
    return _RULES.get(key.upper()) or _RULES.get(_SLUGS.get(key.lower(), ""))


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in RULE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a pack that exists but fails to import is a bug
                raise
    load_plugins()


PLUGIN_GROUP = "kubevet.rules"


class PluginError(Exception):
    """A rule plugin that cannot be loaded; names the plugin and the reason."""


def load_plugins() -> list[str]:
    """Import the rule packs other packages declare in the `kubevet.rules` entry-point group
    (`[project.entry-points."kubevet.rules"] acme = "acme_kubevet.rules"`); their `@rule`
    functions register like built-in ones. Returns the entry points loaded."""
    if not _may_declare_plugins():
        return []
    from importlib.metadata import entry_points

    loaded = []
    for ep in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        try:
            ep.load()
        except Exception as exc:  # a broken plugin must name itself, not crash the run
            raise PluginError(
                f"rule plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
            ) from None
        loaded.append(ep.name)
    return loaded


def _may_declare_plugins() -> bool:
    """Whether any installed distribution's entry_points.txt names the plugin group.

    importlib.metadata alone costs a tenth of a second to import (email, zipfile, csv), on
    every run, to find usually nothing; reading the few entry_points.txt files is far
    cheaper. A zip on the path, which only importlib.metadata reads, counts as maybe."""
    import os
    import sys

    header = f"[{PLUGIN_GROUP}]"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except NotADirectoryError:
            return True
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(entry, name, "entry_points.txt"), "rb") as f:
                        if header.encode() in f.read():
                            return True
                except OSError:
                    continue
    return False


PSS_PROFILES = ("pss-baseline", "pss-restricted")
# Names users try that are not selectors, and the selector they mean.
NEAR_MISSES = {"pss": "pss-restricted"}


def selector_problem(selector: str) -> str | None:
    """Why a `--select`/`--ignore` entry selects no rule (with a suggestion), or None.

    A selector that matches nothing would silently turn the gate off, so it is an error."""
    if any(r.matches(selector) for r in all_rules()):
        return None
    import difflib

    words = sorted(
        {r.code for r in all_rules()}
        | {r.slug for r in all_rules()}
        | {r.category for r in all_rules()}
        | set(PSS_PROFILES)
        | set(_framework_names())
    )
    s = selector.strip()
    if s.lower() in NEAR_MISSES:
        return f"{selector!r} is not a selector; did you mean {NEAR_MISSES[s.lower()]!r}?"
    close = difflib.get_close_matches(s.upper() if s[:2].upper() == "KV" else s.lower(), words)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    else:
        categories = ", ".join(sorted({r.category for r in all_rules()}))
        hint = f" (categories: {categories}; codes and slugs: `kubevet rules`)"
    return f"unknown rule, category or selector {selector!r}{hint}"


def _framework_names() -> list[str]:
    from kubevet.frameworks import frameworks

    return list(frameworks())


def select_rules(
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    include_disabled: bool = False,
    extend: Iterable[str] = (),
    severity: Mapping[str, str] | None = None,
) -> list[Rule]:
    """Rules enabled by default (or all matching `select`), plus those matching `extend`,
    minus those matching `ignore`; `severity` overrides a rule's severity (code -> name)."""
    select, ignore, extend = list(select), list(ignore), list(extend)
    chosen = []
    for r in all_rules():
        if any(r.matches(s) for s in ignore):
            continue
        if any(r.matches(s) for s in extend):
            pass
        elif select:
            if not any(r.matches(s) for s in select):
                continue
        elif not (r.enabled_by_default or include_disabled):
            continue
        if severity and r.code in severity:
            r = dataclasses.replace(r, severity=Severity.parse(severity[r.code]))
        chosen.append(r)
    return chosen
