"""Configuration: `.kubevet.yaml`, or `[tool.kubevet]` in pyproject.toml, found by walking up
from the working directory. Command-line flags win over the file.

    select: [security, KV2]        # codes, code prefixes, slugs or categories
    exclude: [vendor/]             # gitignore patterns skipped when walking
    ignore: [KV801]
    extend-select: [KV9]           # rules added to the default set (off-by-default ones)
    severity: {KV111: high}        # a rule's severity here
    exemptions:                    # for charts and objects you cannot annotate
      - {rules: [KV101], chart: "redis*", reason: "vendor chart", expires: 2027-03-31}
    fail-on: medium
    pss-version: "1.33"
    kube-version: "1.29"           # target version for upgrade rules
    exclude: [vendor/, "*.tmpl.yaml"]  # left out of directory walks (gitignore syntax)
    rules:                         # per-rule knobs (see `kubevet rule CODE`)
      KV103: {min-uid: 1000}
    settings:                      # knobs shared by several rules
      allowed-registries: [registry.example.com]
    limits:                        # bounds on input (see kubevet.limits)
      max-file-size: 64Mi
      render-timeout: 60
      render-memory: 2Gi
      archive-size: 100Mi
      archive-members: 10000
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from kubevet.report import FORMATS as REPORT_FORMATS
from kubevet.rules.options import Option

CONFIG_NAMES = (".kubevet.yaml", ".kubevet.yml")
SEVERITIES = ("info", "low", "medium", "high", "critical")

# Every key the config may hold: an unknown key is an error (a typo must not turn a check
# off). The JSON Schema (kubevet.config_schema) is generated from these tables.
TOP_LEVEL: dict[str, Option] = {
    "select": Option(
        "string-list",
        None,
        "rules to run: codes, code prefixes, slugs, categories, pss-baseline, pss-restricted",
    ),
    "ignore": Option("string-list", None, "rules to skip (same forms as select)"),
    "extend-select": Option(
        "string-list", None, "rules added to the default set (or to select), e.g. off by default"
    ),
    "exclude": Option(
        "string-list", None, "paths skipped when walking directories (gitignore patterns)"
    ),
    "fail-on": Option("string", "low", "lowest severity that fails the run", SEVERITIES),
    "pss-version": Option("version", "latest", "Pod Security Standards policy version"),
    "kube-version": Option("version", None, "Kubernetes version to render for and upgrade to"),
    "format": Option("string", "text", "output format of `kubevet check`", REPORT_FORMATS),
    "jobs": Option("integer", None, "inputs checked in parallel (default: number of cores)"),
}
SECTIONS = ("rules", "settings", "footprint", "limits", "severity", "exemptions")

# `settings:` knobs shared by several rules and analyses (snake_case, kebab-case accepted).
SETTINGS: dict[str, Option] = {
    "allowed_registries": Option(
        "string-list", None, "registries images may come from (KV504; wins over its option)"
    ),
    "attestations": Option("string", None, "directory of attestations (like --attestations)"),
    "image_lock": Option("string", None, "image lock file (like `fix --image-lock`)"),
    "trusted_builders": Option(
        "list", None, "SLSA builder ids (strings, or {id, level}) trusted for provenance"
    ),
    "attestation_keys": Option("strings", None, "public key files for DSSE signatures"),
    "sigstore_identities": Option("list", None, "Sigstore signer identities: [{identity, issuer}]"),
    "sigstore_trusted_root": Option("string", None, "Sigstore trusted root JSON file"),
    "non_production_namespaces": Option(
        "string", None, "regular expression of non-production namespace names"
    ),
    "non_production_labels": Option(
        "string-list", None, "Namespace labels that name the environment"
    ),
}

# `limits:` bounds on input, for the schema; kubevet.limits checks the values itself.
LIMITS: dict[str, Option] = {
    "max-file-size": Option("quantity", "64Mi", "largest file read (manifests, values, charts)"),
    "render-timeout": Option("number", 60, "seconds one chart render may take"),
    "render-memory": Option("quantity", "2Gi", "memory one chart render may use"),
    "archive-size": Option("quantity", "100Mi", "what a chart archive may inflate to"),
    "archive-members": Option("integer", 10000, "files and directories in a chart archive"),
}

# `footprint:` (kubevet footprint); keys in kebab-case, snake_case accepted.
FOOTPRINT: dict[str, Option] = {
    "provider": Option("string", "aws", "cloud provider", ("aws", "gcp", "azure")),
    "region": Option("string", None, "provider region for the grid intensity"),
    "grid-intensity": Option("number", None, "grid intensity in gCO2e/kWh (wins over region)"),
    "utilisation": Option("number", None, "average CPU utilisation (0 to 1)"),
    "utilization": Option("number", None, "same as utilisation"),
    "memory-watts-per-gb": Option("number", None, "memory power coefficient"),
    "daemonset-nodes": Option("integer", None, "nodes a DaemonSet runs on"),
    "hours-per-month": Option("number", None, "hours in a month"),
    "job-run-minutes": Option("number", None, "minutes a Job or CronJob run takes"),
    "office-hours": Option("string", None, "office hours, e.g. Mon-Fri 08:00-20:00"),
    "autoscaled-replica-fraction": Option(
        "number", None, "average fraction of the maximum replicas an autoscaler keeps"
    ),
    "coefficients": Option("mapping", None, "overrides of data/carbon-coefficients.yaml"),
    "format": Option("string", "text", "output format", ("text", "json", "csv")),
    "kepler-window": Option("string", None, "time the Kepler counters cover, e.g. 24h"),
}


class ConfigError(Exception):
    pass


@dataclass
class Config:
    """The configuration file read for a run (its path, None when there is none) and its data."""

    path: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def find_config(start: str | None = None) -> Config:
    directory = os.path.abspath(start or os.getcwd())
    while True:
        for name in CONFIG_NAMES:
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                return Config(path, _normalize(_read_yaml(path), path))
        pyproject = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(pyproject):
            table = _read_pyproject(pyproject, found=True)
            if table is not None:
                return Config(pyproject, _normalize(table, pyproject))
        parent = os.path.dirname(directory)
        if parent == directory:
            return Config()
        directory = parent


def load_config(path: str) -> Config:
    if path.endswith(".toml"):
        return Config(path, _normalize(_read_pyproject(path) or {}, path))
    return Config(path, _normalize(_read_yaml(path), path))


def _read(path: str) -> bytes:
    """The config file's bytes: a regular file only, up to the size bound."""
    from kubevet.findings import InputError
    from kubevet.limits import Limits
    from kubevet.sources.reader import read_bytes

    try:  # the default bound: the limits come from the config itself
        return read_bytes(path, Limits().max_file_size)
    except InputError as err:
        message = err.message.replace("cannot read", "cannot read config")
        raise ConfigError(f"{path}: {message}") from None


def _read_yaml(path: str) -> dict[str, Any]:
    from kubevet.findings import InputError
    from kubevet.sources.manifests import load_yaml

    raw = _read(path)
    try:
        data = load_yaml(raw.decode("utf-8"), path) or {}  # depth, alias, duplicate guards
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: config is not UTF-8 text (byte {exc.start})") from None
    except InputError as err:
        line = f":{err.line}" if err.line else ""
        message = err.message.replace("invalid YAML", "invalid YAML in config")
        raise ConfigError(f"{path}{line}: {message}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: config must be a mapping")
    return data


def _read_pyproject(path: str, found: bool = False) -> dict[str, Any] | None:
    """The `[tool.kubevet]` table, or None. `found` in a walk up from the working directory
    (not named by --config): a file that cannot hold the table is not parsed, so another
    project's pyproject.toml, broken or not, neither stops nor slows a run."""
    raw = _read(path)
    if found and not _may_name_kubevet(raw):
        return None
    import tomllib  # here: ~27M instructions of start-up where no pyproject.toml is found

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    tool = data.get("tool")
    table = tool.get("kubevet") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):  # `tool.kubevet = "x"`: a typo
        raise ConfigError(f"{path}: tool.kubevet must be a table ([tool.kubevet])")
    return table


# Where TOML can write a `kubevet` key of the `tool` table: a dotted key or a table header
# (`[tool.kubevet]`, `[[tool.kubevet.x]]`, `tool.kubevet.x = 1`, quoted or spaced:
# `[ "tool" . 'kubevet' ]`), a `[tool]` table holding the key, an inline `tool = {...}`.
# Anything else that matches (`[foo.tool]`, `footool = 1`) only costs a parse.
_TOOL_KUBEVET = rb"""tool["']?[ \t]*(?:\.[ \t]*["']?kubevet|\]|=)"""


def _may_name_kubevet(raw: bytes) -> bool:
    """Whether TOML text could hold a `tool.kubevet` key: it spells it in a place where a
    key can be written, or it has escapes (a quoted key may write `"kube\\u0076et"`). A
    project that names kubevet only as a dependency or a script is not parsed."""
    if b"\\u" in raw or b"\\U" in raw:
        return True
    return b"kubevet" in raw and re.search(_TOOL_KUBEVET, raw) is not None


def _normalize(data: dict[str, Any], path: str) -> dict[str, Any]:
    """Keys in one spelling, every key and value checked; a ConfigError names each problem."""
    out = {str(k).replace("_", "-"): v for k, v in data.items()}
    problems: list[str] = []
    for key, value in out.items():
        if key in TOP_LEVEL:
            _check(TOP_LEVEL[key], key, value, problems)
        elif key not in SECTIONS:
            problems.append(_unknown("config key", key, [*TOP_LEVEL, *SECTIONS]))
    for key in ("select", "ignore", "extend-select"):
        if isinstance(out.get(key), list) and not _has_problem(problems, key):
            problems += [f"{key}: {p}" for p in _selector_problems(out[key])]
    out["rules"] = _rules(out.get("rules"), problems)
    out["severity"] = _severities(out.get("severity"), problems)
    if "exemptions" in out:
        from kubevet.exemptions import parse

        problems += parse(out["exemptions"])[1]
    out["settings"] = _section("settings", out.get("settings"), SETTINGS, "_", problems)
    if "footprint" in out:
        out["footprint"] = _section("footprint", out["footprint"], FOOTPRINT, "-", problems)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return out


def _check(opt: Option, where: str, value: Any, problems: list[str]) -> None:
    problem = opt.problem(value)
    if problem:
        got = "" if repr(value) in problem else f", got {value!r}"
        problems.append(f"{where}: {problem}{got}")


def _has_problem(problems: list[str], key: str) -> bool:
    return any(p.startswith(f"{key}:") for p in problems)


def _unknown(what: str, name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(known))})"
    return f"unknown {what} {name!r}{hint}"


def _selector_problems(selectors: list[str]) -> list[str]:
    from kubevet.rules.registry import selector_problem

    return [p for p in (selector_problem(str(s)) for s in selectors) if p]


def _section(
    name: str, raw: Any, known: dict[str, Option], sep: str, problems: list[str]
) -> dict[str, Any]:
    """A mapping of known knobs, keys spelled with `sep` ("_" or "-")."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"{name}: expected a mapping")
        return {}
    other = "-" if sep == "_" else "_"
    out: dict[str, Any] = {}
    for key, value in raw.items():
        norm = str(key).replace(other, sep)
        if norm not in known:
            names = [k.replace("_", "-") for k in known]
            problems.append(f"{name}: " + _unknown("key", str(key).replace("_", "-"), names))
            continue
        _check(known[norm], f"{name}.{key}", value, problems)
        out[norm] = value
    return out


def _severities(raw: Any, problems: list[str]) -> dict[str, str]:
    """`severity: {KV111: high}`: a rule's severity in this repository."""
    from kubevet.rules.registry import get_rule

    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append("severity: expected a mapping of rule codes to severities")
        return {}
    out: dict[str, str] = {}
    for code, value in raw.items():
        r = get_rule(str(code))
        if r is None:
            problems.append("severity: " + _unknown_rule(str(code)))
        elif str(value).lower() not in SEVERITIES:
            problems.append(f"severity.{code}: expected one of {', '.join(SEVERITIES)}")
        else:
            out[r.code] = str(value).lower()
    return out


def _unknown_rule(code: str) -> str:
    from kubevet.rules.registry import all_rules

    return _unknown("rule", code, [x.code for x in all_rules()])


def _rules(raw: Any, problems: list[str]) -> dict[str, dict[str, Any]]:
    """`rules: {CODE: {option: value}}`, each option checked against the rule's metadata."""
    from kubevet.rules.options import config_name
    from kubevet.rules.registry import get_rule

    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append("rules: expected a mapping of rule codes to options")
        return {}
    out: dict[str, dict[str, Any]] = {}
    for code, knobs in raw.items():
        r = get_rule(str(code))
        if r is None:
            problems.append("rules: " + _unknown_rule(str(code)))
            continue
        if r.code != str(code).upper():
            problems.append(f"rules: write the rule code {r.code} instead of {code!r}")
            continue
        if not r.options:
            problems.append(f"rules.{r.code}: the rule has no options")
            continue
        if not isinstance(knobs, dict):
            problems.append(f"rules.{r.code}: expected a mapping of options")
            continue
        out[r.code] = {}
        for key, value in knobs.items():
            name = str(key).replace("-", "_")
            opt = r.options.get(name)
            if opt is None:
                names = [config_name(n) for n in r.options]
                problems.append(f"rules.{r.code}: " + _unknown("option", config_name(name), names))
                continue
            _check(opt, f"rules.{r.code}.{key}", value, problems)
            out[r.code][name] = value
    return out
