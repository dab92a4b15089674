"""Configuration: `.kubevet.yaml`, or `[tool.kubevet]` in pyproject.toml, found by walking up
from the working directory. Command-line flags win over the file.

    select: [security, KV2]        # codes, code prefixes, slugs or categories
    ignore: [KV801]
    fail-on: medium
    pss-version: "1.33"
    kube-version: "1.29"           # target version for upgrade rules
    rules:                         # per-rule knobs (see `kubevet rule CODE`)
      KV205: {min-replicas: 3}
    settings:                      # knobs shared by several rules
      allowed-registries: [registry.example.com]
    limits:                        # bounds on input (see kubevet.limits)
      max-file-size: 64Mi
      render-timeout: 60
      render-memory: 2Gi
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

import yaml

CONFIG_NAMES = (".kubevet.yaml", ".kubevet.yml")
KNOWN_KEYS = {
    "select",
    "ignore",
    "fail-on",
    "pss-version",
    "kube-version",
    "rules",
    "settings",
    "format",
    "jobs",
    "limits",
    "fix",
    "upgrade",
    "footprint",
    "netpol",
    "supply-chain",
}


class ConfigError(Exception):
    pass


@dataclass
class Config:
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
            table = _read_pyproject(pyproject)
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


def _read_yaml(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: config must be a mapping")
    return data


def _read_pyproject(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    table = data.get("tool", {}).get("kubevet")
    return table if isinstance(table, dict) else None


def _normalize(data: dict[str, Any], path: str) -> dict[str, Any]:
    out = {str(k).replace("_", "-"): v for k, v in data.items()}
    unknown = sorted(set(out) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown config keys: {', '.join(unknown)}")
    rules = out.get("rules") or {}
    if not isinstance(rules, dict):
        raise ConfigError(f"{path}: 'rules' must map rule codes to settings")
    out["rules"] = {
        str(code).upper(): {str(k).replace("-", "_"): v for k, v in (knobs or {}).items()}
        for code, knobs in rules.items()
    }
    settings = out.get("settings") or {}
    out["settings"] = {str(k).replace("-", "_"): v for k, v in settings.items()}
    return out
