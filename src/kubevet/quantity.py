"""Kubernetes resource quantities ("250m", "1.5Gi", "1e3"), parsed exactly.

The grammar is the one of `k8s.io/apimachinery/pkg/api/resource`:

    <quantity> ::= <signedNumber><suffix>
    <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei          (binary SI)
                 | n | u | m | "" | k | M | G | T | P | E  (decimal SI)
                 | e<signedNumber> | E<signedNumber>     (decimal exponent)

Values are returned as `Fraction`s so "0.1" + "0.2" CPU is exactly "0.3" and a memory
request compared with its limit never suffers a float rounding.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from kubevet import lazy_compile

BINARY_SUFFIXES = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15}
DECIMAL_SUFFIXES["E"] = 18

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)"
_QUANTITY = re.compile(rf"^(?P<num>{_NUMBER})(?P<suffix>[A-Za-z]*)(?P<exp>[+-]?\d+)?$")
MAX_EXPONENT = 36
_EXPONENT = lazy_compile(r"^[eE][+-]?\d+$")  # a rare spelling (1e3): compiled if seen


class QuantityError(ValueError):
    """A value that is not a Kubernetes quantity."""


def parse_quantity(value: Any) -> Fraction:
    """A quantity (string, int or float as YAML gives it) as an exact number of base units."""
    if type(value) in (str, int, float):
        return _parse_cached(value)
    return _parse(value)


def _parse(value: Any) -> Fraction:
    if isinstance(value, bool) or value is None:
        raise QuantityError(f"{value!r} is not a quantity")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))  # the literal the user wrote, not its binary float
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise QuantityError(f"{text!r} is not a quantity (expected like 250m, 0.5, 128Mi, 1G)")
    number, suffix = match["num"], match["suffix"] + (match["exp"] or "")
    try:
        base = Fraction(Decimal(number))
    except InvalidOperation:  # pragma: no cover - the regex admits only decimal literals
        raise QuantityError(f"{text!r}: bad number {number!r}") from None
    return base * _multiplier(text, suffix)


# Charts repeat the same few sizes in every container, and building the exact Fraction is
# most of a resource rule's work. `typed`: 1, 1.0 and "1" stay apart; errors are not kept.
_parse_cached = functools.lru_cache(maxsize=4096, typed=True)(_parse)


_SUFFIX_MULTIPLIERS = {
    **{s: Fraction(1024) ** p for s, p in BINARY_SUFFIXES.items()},
    **{s: Fraction(10) ** p for s, p in DECIMAL_SUFFIXES.items()},
}


def _multiplier(text: str, suffix: str) -> Fraction:
    multiplier = _SUFFIX_MULTIPLIERS.get(suffix)
    if multiplier is not None:
        return multiplier
    if _EXPONENT.match(suffix):
        exponent = int(suffix[1:])
        if abs(exponent) > MAX_EXPONENT:  # no real resource is that size; refuse huge powers
            raise QuantityError(f"{text!r}: exponent out of range")
        return Fraction(10) ** exponent
    raise QuantityError(
        f"{text!r}: unknown suffix {suffix!r} (expected one of n u m k M G T P E, "
        "Ki Mi Gi Ti Pi Ei, or an exponent like e3)"
    )


def parse_cpu(value: Any) -> Fraction:
    """CPU in cores: "250m" -> 1/4, "2" -> 2."""
    return parse_quantity(value)


def parse_memory(value: Any) -> Fraction:
    """Memory (or storage) in bytes: "128Mi" -> 134217728."""
    return parse_quantity(value)


def format_cpu(cores: Fraction | float) -> str:
    """Cores in the way people write them: 0.25 -> "250m", 2 -> "2"."""
    milli = Fraction(cores) * 1000
    if milli.denominator == 1 and milli % 1000:
        return f"{milli.numerator}m"
    value = float(cores)
    return f"{value:g}"


def format_bytes(size: Fraction | float) -> str:
    """Bytes with the largest binary suffix that keeps a short number: 1.5Gi, 128Mi."""
    value = float(size)
    for suffix, power in sorted(BINARY_SUFFIXES.items(), key=lambda kv: -kv[1]):
        unit = 1024.0**power
        if abs(value) >= unit:
            return f"{value / unit:.4g}{suffix}"
    return f"{value:g}"


GIB = Fraction(1024**3)


def to_gib(size: Fraction) -> float:
    return float(size / GIB)
