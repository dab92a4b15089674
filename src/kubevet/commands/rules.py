"""`kubevet rules`: the catalogue, filterable by code, slug, category or text."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "filters",
        nargs="*",
        metavar="FILTER",
        help="code prefix, slug, category, or text in the title",
    )
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")


def run(args: argparse.Namespace) -> int:
    import json

    from kubevet.plurals import counted
    from kubevet.rules.docs import rule_dict, rules_markdown
    from kubevet.rules.registry import all_rules

    chosen = [r for r in all_rules() if _keep(r, args.filters)]
    if args.filters and not chosen:  # a typo should not look like an empty catalogue
        from kubevet.commands.exits import UsageError
        from kubevet.rules.registry import selector_problem

        raise UsageError(selector_problem(args.filters[0]) or "no rule matches")
    if args.format == "json":
        print(json.dumps([rule_dict(r) for r in chosen], indent=2))
    elif args.format == "markdown":
        print(rules_markdown(chosen), end="")
    else:
        for r in chosen:
            fix = "" if r.fix_applicability == "none" else f" [fix: {r.fix_applicability}]"
            off = "" if r.enabled_by_default else " [off by default: --extend-select]"
            print(f"{r.code:7} {r.slug:40} {r.category:14} {r.severity!s:8} {r.title}{fix}{off}")
        off = sum(not r.enabled_by_default for r in chosen)
        print(f"{counted(len(chosen), 'rule')} ({off} off by default)")
    return 0


def _keep(r: object, filters: list[str]) -> bool:
    if not filters:
        return True
    return any(r.matches(f) or f.lower() in r.title.lower() for f in filters)  # type: ignore[attr-defined]
