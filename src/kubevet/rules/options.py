"""Typed rule options: each rule declares its knobs (type, default, description) in its
metadata; config values are checked against them, and the docs and the config JSON Schema
are generated from them.

    @rule(..., options={"min_uid": Option("integer", 10000, "lowest UID accepted")})

Config spells option names in kebab-case or snake_case (`min-uid`, `min_uid`); rules read
them in snake_case through `ctx.setting(name)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from kubevet import lazy_compile

OptionType = Literal[
    "integer",
    "number",
    "string",
    "boolean",
    "quantity",
    "string-list",
    "strings",  # one string or a list of them
    "version",  # a Kubernetes minor version, quoted: "1.29" (YAML reads 1.30 as 1.3)
    "list",
    "mapping",
]

# JSON Schema fragment per option type (the config schema is generated from these).
JSON_SCHEMA: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    # A Kubernetes quantity: YAML may give `64` (int) or `"250m"` / `128Mi` (string).
    "quantity": {
        "type": ["string", "number"],
        "pattern": r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|[KMGTPE]i?|[munk])?$",
    },
    "string-list": {"type": "array", "items": {"type": "string"}},
    "strings": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "version": {"type": "string", "pattern": r"^(latest|v?\d+\.\d+(\.\d+)?)$"},
    "list": {"type": "array"},
    "mapping": {"type": "object"},
}
_VERSION = lazy_compile(r"^(latest|v?1\.\d+(\.\d+)?)$")  # Kubernetes is 1.x; compiled when used


@dataclass(frozen=True)
class Option:
    """A rule's configuration knob: its type, default and meaning."""

    type: OptionType
    default: Any
    description: str
    choices: tuple[str, ...] = ()  # for strings: the accepted values

    def problem(self, value: Any) -> str | None:
        """Why `value` is not acceptable for this option, or None when it is."""
        if value is None and self.default is None:
            return None  # unset, as the default
        problem = type_problem(self.type, value)
        if problem is None and self.choices and value not in self.choices:
            problem = "expected one of: " + ", ".join(self.choices)
        return problem

    def json_schema(self) -> dict[str, Any]:
        schema = dict(JSON_SCHEMA[self.type], description=self.description)
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.default is not None:
            schema["default"] = self.default
        return schema


def type_problem(kind: str, value: Any) -> str | None:
    """Why `value` is not a `kind` (an OptionType), or None when it is."""
    if kind == "boolean":
        return None if isinstance(value, bool) else "expected true or false"
    if isinstance(value, bool):  # YAML `yes` is a bool, never a number or a string here
        return f"expected {_NOUN[kind]}, got a boolean"
    if kind == "integer":
        return None if isinstance(value, int) else "expected an integer"
    if kind == "number":
        return None if isinstance(value, int | float) else "expected a number"
    if kind == "string":
        return None if isinstance(value, str) else "expected a string"
    if kind in ("string-list", "strings"):
        if kind == "strings" and isinstance(value, str):
            return None
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else "expected a list of strings"
    if kind == "version":
        if isinstance(value, int | float):
            return f"quote the version ({value!r} is a number: YAML reads 1.30 as 1.3)"
        ok = isinstance(value, str) and _VERSION.match(value)
        return None if ok else f'expected a version like "1.29" or latest, got {value!r}'
    if kind == "list":
        return None if isinstance(value, list) else "expected a list"
    if kind == "mapping":
        return None if isinstance(value, dict) else "expected a mapping"
    if kind == "quantity":
        from kubevet.quantity import QuantityError, parse_quantity

        if not isinstance(value, str | int | float):
            return "expected a quantity such as 250m or 128Mi"
        try:
            parse_quantity(value)
        except QuantityError as exc:
            return str(exc)
        return None
    raise ValueError(f"unknown option type {kind!r}")  # a bug in a rule's metadata


_NOUN = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "quantity": "a quantity",
    "string-list": "a list of strings",
    "strings": "a string or a list of strings",
    "version": "a quoted version",
    "list": "a list",
    "mapping": "a mapping",
}


def config_name(name: str) -> str:
    """The spelling the docs and the schema use (`min_uid` -> `min-uid`)."""
    return name.replace("_", "-")
