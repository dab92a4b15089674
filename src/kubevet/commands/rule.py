"""`kubevet rule CODE`: one rule's documentation, generated from its metadata."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("code", metavar="CODE", help="rule code or slug, e.g. KV101")
    p.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    import json

    from kubevet.commands.exits import UsageError
    from kubevet.rules.docs import rule_dict, rule_markdown
    from kubevet.rules.registry import get_rule

    r = get_rule(args.code)
    if r is None:
        import difflib

        from kubevet.rules.registry import all_rules

        names = [x.code for x in all_rules()] + [x.slug for x in all_rules()]
        close = difflib.get_close_matches(args.code, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (see `kubevet rules`)"
        raise UsageError(f"no rule {args.code!r}{hint}")
    if args.format == "json":
        print(json.dumps(rule_dict(r), indent=2))
    else:
        print(rule_markdown(r), end="")
    return 0
