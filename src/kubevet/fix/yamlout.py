"""YAML that every reader on the way to the API server reads back with the same types.

PyYAML quotes a string only where its own (YAML 1.1) resolver would type it. Others read
more: Helm and kubectl decode with go-yaml v2, whose booleans include `y`, `Y`, `n` and
`N`, and whose numbers are whatever Go's ParseInt/ParseFloat take (`0o12`, `1e3`, `+.5`);
Kustomize (YAML 1.2) keeps a plain scalar plain. A label `tier: y` written plain by
kubevet comes back from `kubectl kustomize` plain and reaches the cluster as `true`. So
every string such a reader could type is written quoted; quoting a string never changes
what any reader makes of it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_BASE: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml: renders run to MiBs

# go-yaml v2's extra booleans, and anything a number parser could take (a wide net: a
# string that starts like a number is quoted).
_TYPED = re.compile(
    r"[yYnN]|[-+]?(?:[0-9.][0-9a-zA-Z_:.+-]*|\.?(?:inf|Inf|INF|nan|NaN|NAN|infinity|Infinity))"
)


class Dumper(_BASE):  # type: ignore[misc,valid-type]
    """libyaml's safe dumper, quoting strings another YAML reader would type."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "'" if _TYPED.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


Dumper.add_representer(str, _represent_str)


def dump(data: Any, **kwargs: Any) -> str:
    """`yaml.safe_dump(data, sort_keys=False, ...)`, strings quoted as above."""
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, **kwargs)


def dump_all(docs: Any, stream: Any = None, **kwargs: Any) -> Any:
    """`yaml.safe_dump_all` with the same quoting; into `stream` when given."""
    return yaml.dump_all(docs, stream, Dumper=Dumper, sort_keys=False, **kwargs)
