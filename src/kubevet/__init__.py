"""kubevet: vet Kubernetes workloads before and after they ship."""

__version__ = "0.1.0"


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


class _LazyPattern:
    """A regular expression compiled when it is first used (see above)."""

    __slots__ = ("_compiled", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._compiled = None

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        if self._compiled is None:
            import re

            # re.UNICODE, implied for a str pattern: another cache key than this object's
            self._compiled = re.compile(self._text, re.UNICODE)
        return getattr(self._compiled, name)


_defer_pyyaml_reader_pattern()
