"""The JSON Schema of `.kubevet.yaml`, generated from the same tables the config loader
checks against (kubevet.config) and from each rule's declared options.

Regenerate the shipped copies (the package's and the one in docs/) after changing a rule's
options or a config key:

    python -m kubevet.config_schema
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from kubevet.rules.options import Option

SCHEMA_ID = "https://kubevet.dev/schemas/kubevet.schema.json"
PACKAGED = Path(__file__).parent / "data" / "kubevet.schema.json"
DOCS = Path("docs") / "kubevet.schema.json"


def config_schema() -> dict[str, Any]:
    from kubevet.config import FOOTPRINT, LIMITS, SETTINGS, TOP_LEVEL

    props = _properties(TOP_LEVEL)
    for key in ("select", "ignore", "extend-select"):
        for spelling in _spellings(key):
            props[spelling]["items"] = _selector_schema()
    props["rules"] = {
        "type": "object",
        "description": "per-rule options (see `kubevet rule CODE`)",
        "properties": _rule_options(),
        "additionalProperties": False,
    }
    props["settings"] = _object(SETTINGS, "knobs shared by several rules and analyses")
    props["footprint"] = _object(FOOTPRINT, "`kubevet footprint` settings")
    props["limits"] = _object(LIMITS, "bounds on input")
    props["severity"] = _severity_schema()
    props["exemptions"] = _exemptions_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "kubevet configuration (.kubevet.yaml, or [tool.kubevet] in pyproject.toml)",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }


def _spellings(name: str) -> list[str]:
    """The loader accepts kebab-case and snake_case; the schema lists both."""
    kebab, snake = name.replace("_", "-"), name.replace("-", "_")
    return [kebab] if kebab == snake else [kebab, snake]


def _properties(table: dict[str, Option]) -> dict[str, Any]:
    return {s: opt.json_schema() for name, opt in table.items() for s in _spellings(name)}


def _object(table: dict[str, Option], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": _properties(table),
        "additionalProperties": False,
    }


def _rule_options() -> dict[str, Any]:
    from kubevet.rules.registry import all_rules

    return {
        r.code: _object(dict(r.options), f"{r.slug}: {r.title}") for r in all_rules() if r.options
    }


def _severity_schema() -> dict[str, Any]:
    from kubevet.config import SEVERITIES

    return {
        "type": "object",
        "description": "rule code -> severity in this repository",
        "propertyNames": {"pattern": "^[Kk][Vv][0-9]+$"},
        "additionalProperties": {"enum": list(SEVERITIES)},
    }


def _exemptions_schema() -> dict[str, Any]:
    from kubevet.exemptions import MATCH_FIELDS

    entry: dict[str, Any] = {
        "type": "object",
        "required": ["rules", "reason"],
        "properties": {
            "rules": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "reason": {"type": "string", "minLength": 1},
            "expires": {"type": "string", "format": "date"},
            **{k: {"type": "string", "description": "glob"} for k in MATCH_FIELDS},
        },
        "additionalProperties": False,
    }
    return {"type": "array", "description": "exemptions by chart and object", "items": entry}


def _selector_schema() -> dict[str, Any]:
    from kubevet.frameworks import frameworks
    from kubevet.rules.registry import PSS_PROFILES, all_rules

    names = {r.slug for r in all_rules()} | {r.category for r in all_rules()} | set(frameworks())
    return {
        "anyOf": [
            {"type": "string", "pattern": "^[Kk][Vv][0-9]*$", "description": "code or prefix"},
            {"enum": sorted(names | set(PSS_PROFILES) | {"all", "ALL"})},
        ]
    }


def schema_text() -> str:
    return json.dumps(config_schema(), indent=2, sort_keys=False) + "\n"


def main() -> int:
    """Write the packaged schema and the copy in docs/ (run from the repository root)."""
    text = schema_text()
    for path in (PACKAGED, DOCS):
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
