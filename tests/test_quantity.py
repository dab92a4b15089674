from __future__ import annotations

from fractions import Fraction

import pytest

from kubevet.quantity import (
    QuantityError,
    format_bytes,
    format_cpu,
    parse_cpu,
    parse_memory,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "cores"),
    [
        ("250m", Fraction(1, 4)),
        ("0.5", Fraction(1, 2)),
        ("2", Fraction(2)),
        ("1500m", Fraction(3, 2)),
        (".1", Fraction(1, 10)),
        ("1.", Fraction(1)),
        ("+1", Fraction(1)),
        ("100u", Fraction(1, 10_000)),
        ("5n", Fraction(5, 10**9)),
        (2, Fraction(2)),
        (0.1, Fraction(1, 10)),  # the literal, not the binary float 0.1000000000000000055...
    ],
)
def test_cpu(text, cores):
    assert parse_cpu(text) == cores


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("128Mi", 128 * 2**20),
        ("1.5Gi", 3 * 2**29),
        ("1G", 10**9),
        ("1e3", 1000),
        ("1E3", 1000),
        ("2.5e-3", Fraction(1, 400)),
        ("1Ki", 1024),
        ("1Ei", 2**60),
        ("1E", 10**18),
        ("1k", 1000),
        ("129M", 129 * 10**6),
        ("123Mi", 123 * 1024 * 1024),
        ("128974848000m", 128974848),
    ],
)
def test_memory(text, size):
    assert parse_memory(text) == size


def test_sums_are_exact():
    assert parse_cpu("0.1") + parse_cpu("0.2") == parse_cpu("300m")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("512MB", "unknown suffix 'MB'"),
        ("2Gib", "unknown suffix 'Gib'"),
        ("1 core", "not a quantity"),
        ("", "not a quantity"),
        ("Mi", "not a quantity"),
        ("1Ki2", "unknown suffix"),
        ("1e999999", "exponent out of range"),
        ("1,5Gi", "not a quantity"),
    ],
)
def test_invalid_quantities_are_clear_errors(text, fragment):
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    assert fragment in str(info.value)
    assert repr(text) in str(info.value) or text == ""


@pytest.mark.parametrize("value", [None, True, [], {}])
def test_non_scalars_rejected(value):
    with pytest.raises(QuantityError):
        parse_quantity(value)


def test_formatting():
    assert format_cpu(Fraction(1, 4)) == "250m"
    assert format_cpu(Fraction(2)) == "2"
    assert format_bytes(128 * 2**20) == "128Mi"
    assert format_bytes(3 * 2**29) == "1.5Gi"
    assert format_bytes(512) == "512"
