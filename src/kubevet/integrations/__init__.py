"""Thin entry points for the places users run kubevet from (pre-commit, Helm, kubectl)."""
