"""`kubevet ask "QUESTION" [PATH...]`: a plain-language question answered from one of
kubevet's analyses, with the evidence behind the answer."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", help='for example "can I upgrade to 1.29?"')
    p.add_argument("paths", nargs="*", metavar="PATH", help="charts, manifests, overlays")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--llm",
        metavar="URL",
        help="OpenAI-compatible endpoint (e.g. http://127.0.0.1:8000/v1) that may choose the "
        f"analysis and reword the answer; key from ${'KUBEVET_LLM_API_KEY'}",
    )
    p.add_argument("--llm-model", default="default", metavar="NAME", help="model name to ask for")
    p.add_argument(
        "--llm-send-objects",
        action="store_true",
        help="let the model see the computed facts (object names, findings) to reword them",
    )


def run(args: argparse.Namespace) -> int:
    import json

    from kubevet.ask.answer import AnalysisError, answer, connections, workload_names
    from kubevet.ask.intents import ANALYSES, classify
    from kubevet.commands.exits import EXIT_ERROR, EXIT_OK

    connections.cache_clear()  # reused within this question only: the files may change
    names = workload_names(args.paths)
    notes: list[str] = []
    choice = _model_choice(args, notes) if args.llm else None
    if choice is None:
        intent = classify(args.question, names)
        if intent.analysis is None:
            return _cannot(args, intent.problem or "", ANALYSES)
        choice = (intent.analysis, intent.arguments)
    if choice[0] not in ("rule-doc",) and not args.paths:
        return _cannot(args, f"{choice[0]} needs inputs: name charts or manifests", ANALYSES)
    try:
        result = answer(args.question, choice[0], choice[1], args.paths)
    except (AnalysisError, KeyError) as exc:
        return _cannot(args, f"the {choice[0]} analysis could not run: {exc}", ANALYSES)
    if args.llm and args.llm_send_objects:
        _reword(args, result, notes)
    if args.format == "json":
        print(json.dumps({**result.as_dict(), "notes": notes}, indent=2))
    else:
        print(result.answer)
        for note in notes:
            print(f"({note})")
        if result.evidence:
            print("\nEvidence (" + " ".join(result.command) + "):")
            for line in result.evidence:
                print(f"  {line}")
    return EXIT_OK if result.analysis else EXIT_ERROR


def _model_choice(args: argparse.Namespace, notes: list[str]) -> tuple[str, dict] | None:
    from kubevet.ask.llm import LLMError, choose

    try:
        chosen = choose(args.llm, args.llm_model, args.question)
    except LLMError as exc:
        notes.append(f"model not used: {exc}")
        return None
    if chosen is None:
        notes.append("the model chose no valid analysis; the offline parser chose instead")
    return chosen


def _reword(args: argparse.Namespace, result: object, notes: list[str]) -> None:
    import json

    from kubevet.ask.llm import LLMError, phrase, unsupported

    facts = json.dumps(result.facts, default=str) + result.answer + " ".join(result.evidence)  # type: ignore[attr-defined]
    try:
        text = phrase(args.llm, args.llm_model, args.question, result.answer, result.evidence)  # type: ignore[attr-defined]
    except LLMError as exc:
        notes.append(f"model not used for wording: {exc}")
        return
    wrong = unsupported(text, facts)
    if wrong:
        notes.append(
            "the model's wording stated what the analysis does not ("
            + ", ".join(wrong)
            + "); the computed answer is shown instead"
        )
        return
    result.answer = text  # type: ignore[attr-defined]


def _cannot(args: argparse.Namespace, why: str, analyses: dict[str, str]) -> int:
    import json
    import sys

    from kubevet.commands.exits import EXIT_ERROR

    if args.format == "json":
        doc = {
            "question": args.question,
            "analysis": None,
            "arguments": {},
            "answer": None,
            "evidence": [],
            "problem": why,
            "can_answer": analyses,
        }
        print(json.dumps(doc, indent=2))
    else:
        print(f"kubevet: cannot answer that: {why}. kubevet can answer:", file=sys.stderr)
        for what in analyses.values():
            print(f"  - {what}", file=sys.stderr)
    return EXIT_ERROR
