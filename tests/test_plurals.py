"""Counts in messages: the singular for one, the plural otherwise (irregular ones given)."""

from __future__ import annotations

from kubevet.plurals import counted


def test_one_is_singular_and_every_other_count_plural():
    assert counted(1, "finding") == "1 finding"
    assert counted(0, "finding") == "0 findings"
    assert counted(2, "input error") == "2 input errors"


def test_an_irregular_plural_is_given():
    assert counted(1, "fix", "fixes") == "1 fix"
    assert counted(3, "fix", "fixes") == "3 fixes"
