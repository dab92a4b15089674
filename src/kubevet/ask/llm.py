"""An optional OpenAI-compatible chat endpoint (vLLM, Ollama, ...), used for two things only:
choosing the analysis through a fixed tool schema, and rewording computed facts. Its
answer is checked: every number, version, rule code and workload name it states must be
in the facts, or the deterministic answer is used and the reply says so.

Only the question is sent to choose the analysis; the facts (object names, findings) are
sent for rewording only with `--llm-send-objects`.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from typing import Any

from kubevet.ask.intents import ANALYSES

KEY_ENV = "KUBEVET_LLM_API_KEY"
TIMEOUT = 60

TOOL = {
    "type": "function",
    "function": {
        "name": "choose_analysis",
        "description": "Pick the kubevet analysis that answers the question, with arguments.",
        "parameters": {
            "type": "object",
            "properties": {
                "analysis": {"type": "string", "enum": sorted(ANALYSES)},
                "arguments": {
                    "type": "object",
                    "description": "to (version X.Y), source, target, rules, level "
                    "(baseline|restricted), provider, resource (cpu|memory), rule (KVnnn)",
                },
            },
            "required": ["analysis", "arguments"],
        },
    },
}


class LLMError(Exception):
    pass


def chat(url: str, model: str, messages: list[dict[str, Any]], tools: list | None = None) -> dict:
    """One chat completion; the endpoint is the user's own (never a default host)."""
    body: dict[str, Any] = {"model": model, "messages": messages, "temperature": 0}
    if tools:
        body["tools"] = tools
        body["tool_choice"] = {"type": "function", "function": {"name": "choose_analysis"}}
    headers = {"Content-Type": "application/json"}
    if os.environ.get(KEY_ENV):
        headers["Authorization"] = f"Bearer {os.environ[KEY_ENV]}"
    endpoint = url.rstrip("/") + "/chat/completions"
    request = urllib.request.Request(endpoint, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise LLMError(f"{endpoint}: {exc}") from None


def choose(url: str, model: str, question: str) -> tuple[str, dict[str, Any]] | None:
    """The model's choice of analysis, or None when it chose nothing valid."""
    messages = [
        {"role": "system", "content": "Choose the kubevet analysis for the user's question."},
        {"role": "user", "content": question},
    ]
    reply = chat(url, model, messages, [TOOL])
    try:
        call = reply["choices"][0]["message"]["tool_calls"][0]["function"]
        chosen = json.loads(call["arguments"])
        analysis, args = chosen["analysis"], chosen.get("arguments") or {}
    except (KeyError, IndexError, TypeError, json.JSONDecodeError):
        return None
    if analysis not in ANALYSES or not isinstance(args, dict):
        return None
    return analysis, args


def phrase(url: str, model: str, question: str, answer: str, evidence: list[str]) -> str:
    messages = [
        {
            "role": "system",
            "content": "Reword the answer in two or three plain sentences. State no fact, "
            "number, name or version that is not in the answer or the evidence.",
        },
        {
            "role": "user",
            "content": json.dumps({"question": question, "answer": answer, "evidence": evidence}),
        },
    ]
    reply = chat(url, model, messages)
    try:
        return str(reply["choices"][0]["message"]["content"]).strip()
    except (KeyError, IndexError, TypeError):
        raise LLMError("the endpoint's reply holds no message") from None


# What counts as a checkable fact in a sentence: numbers (versions, counts, amounts), rule
# codes, and words with a dash, slash or dot (object names, API versions).
_FACT = re.compile(r"\bKV\d{3}\b|\b\d+(?:\.\d+)*\b|\b[\w.-]+/[\w./-]+\b|\b\w+(?:-\w+)+\b")


_NUMBER = re.compile(r"\b\d+(?:\.\d+)*\b")


def unsupported(text: str, facts_text: str) -> list[str]:
    """The facts `text` states that `facts_text` (answer + evidence + analysis output) lacks.
    A number must be one of its numbers (or the start of a dotted one: 1.29 of 1.29.3), not
    digits inside one: a 7 was "supported" by a path holding pytest-107."""
    numbers = set(_NUMBER.findall(facts_text))
    prefixes = {n.rsplit(".", k)[0] for n in numbers for k in range(1, n.count(".") + 1)}
    return sorted(
        {
            m
            for m in _FACT.findall(text)
            if (m not in numbers | prefixes if _NUMBER.fullmatch(m) else m not in facts_text)
        }
    )
