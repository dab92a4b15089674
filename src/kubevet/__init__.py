"""kubevet: vet Kubernetes workloads before and after they ship."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import re

__version__ = "0.1.0"


def lazy_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A regular expression compiled when it is first used: a module's pattern that most
    runs never use (a fallback, another input kind, another command) costs them nothing
    at import (compiling one costs about a million instructions)."""
    return _LazyPattern(pattern, flags)  # type: ignore[return-value]


class _LazyPattern:
    """Stands in for `re.compile(text, flags)`, which it calls on first use."""

    __slots__ = ("_compiled", "_flags", "_text")

    def __init__(self, text: str, flags: int = 0) -> None:
        self._text = text
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            import re

            # re.UNICODE, implied for a str pattern: not the cache key this object may be
            # filed under (see _defer_pyyaml_reader_pattern)
            self._compiled = re.compile(self._text, self._flags or re.UNICODE)
        return getattr(self._compiled, name)


def _defer_pyyaml_reader_pattern() -> None:
    """PyYAML compiles its pure-Python reader's pattern of the whole Unicode range when it
    is imported (~57M instructions, an eighth of a check's start-up); kubevet reads YAML
    through libyaml and rapidyaml, which never use it. So, before PyYAML is imported, `re`'s
    cache is given, under that pattern's text, an object that compiles it on first use: the
    reader (PyYAML's SafeLoader, a plugin's yaml.safe_load) behaves the same."""
    import sys

    if "yaml" in sys.modules:
        return
    import re

    text = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
    cache = getattr(re, "_cache", None)  # Python 3.11 to 3.13: {(type, text, flags): Pattern}
    if isinstance(cache, dict):
        cache.setdefault((str, text, 0), _LazyPattern(text))


_defer_pyyaml_reader_pattern()
