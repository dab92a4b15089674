"""Accuracy of `kubevet ask`'s offline intent mapping on the question set in tests/.

    python bench/ask_accuracy.py [-v]

A question counts as right when the analysis and every expected argument match (for
questions kubevet cannot answer: when it declines). Workload names come from the fixture
inputs the questions are about.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "fixtures" / "ask" / "questions.yaml"
INPUTS = ROOT / "tests" / "fixtures" / "ask" / "shop"


def evaluate() -> tuple[int, int, list[str]]:
    from kubevet.ask.answer import workload_names
    from kubevet.ask.intents import classify

    names = workload_names([str(INPUTS)])
    cases = yaml.safe_load(QUESTIONS.read_text())
    wrong = []
    for case in cases:
        got = classify(case["q"], names)
        ok = got.analysis == case["analysis"] and all(
            got.arguments.get(k) == v for k, v in (case["args"] or {}).items()
        )
        if not ok:
            wrong.append(
                f"{case['q']!r}: want {case['analysis']} {case['args']}, "
                f"got {got.analysis} {got.arguments} {got.problem or ''}"
            )
    return len(cases) - len(wrong), len(cases), wrong


def main() -> int:
    right, total, wrong = evaluate()
    print(f"offline intent mapping: {right}/{total} = {100 * right / total:.1f}%")
    if "-v" in sys.argv:
        print("\n".join(wrong))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
