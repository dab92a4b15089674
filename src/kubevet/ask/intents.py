"""Questions -> (analysis, arguments), deterministically, with typos forgiven.

Each intent is a set of cue words; the question's words are first corrected against the
vocabulary of all cues (difflib), then the intent whose cues match best wins. Slots
(Kubernetes versions, rule codes, Pod Security levels, providers, workload names) are read
from the question; workload names are matched against the names the inputs hold. A
question that matches no intent, or two equally, is not guessed at.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

ANALYSES = {
    "upgrade": "upgrade readiness for a Kubernetes version (kubevet upgrade)",
    "reach": "can one workload reach another (kubevet netpol)",
    "reachers": "who can reach a workload (kubevet netpol)",
    "exposed": "what accepts connections from outside the cluster (kubevet netpol)",
    "posture": "which workloads have a given security problem (kubevet check)",
    "pss": "does it pass a Pod Security Standard (kubevet check --select pss-...)",
    "carbon": "energy and carbon per month (kubevet footprint)",
    "top-resource": "which workload requests the most CPU or memory (kubevet footprint)",
    "fixes": "how to fix the findings (kubevet check, fix availability)",
    "values-key": "which values key controls a setting (kubevet check --trace)",
    "rule-doc": "what a rule means (kubevet rule CODE)",
}

# Cue phrases per intent, strongest first; a phrase's words must all appear.
CUES: dict[str, list[str]] = {
    "upgrade": [
        "upgrade",
        "upgrading",
        "breaks on",
        "break on",
        "removed api",
        "removed apis",
        "deprecated",
        "move to",
        "ready for",
        "migrate to",
        "safe to go to",
        "go to",
    ],
    "reach": ["reach", "talk to", "connect to", "access", "call", "send traffic"],
    "reachers": ["who can", "who talks", "what can reach", "which workloads can reach", "callers"],
    "exposed": ["exposed", "outside the cluster", "internet", "external", "publicly", "public"],
    "posture": [
        "run as root",
        "runs as root",
        "root",
        "privileged",
        "host network",
        "hostpath",
        "host path",
        "latest tag",
        "without limits",
        "no limits",
        "probes",
        "secrets in env",
        "capabilities",
        "insecure",
        "writable root",
    ],
    "pss": ["pod security", "pss", "restricted", "baseline standard", "restricted standard"],
    "carbon": ["co2", "carbon", "emissions", "emit", "energy", "kwh", "footprint"],
    "top-resource": [
        "most cpu",
        "most memory",
        "biggest",
        "largest",
        "requests the most",
        "heaviest",
    ],
    "fixes": [
        "fix",
        "fixed",
        "fixes",
        "remediate",
        "repair",
        "how do i fix",
        "resolve the findings",
    ],
    "values-key": ["values key", "which value", "which key", "values.yaml", "value controls"],
    "rule-doc": ["what does", "mean", "explain", "what is kv", "documentation"],
}

# Posture phrases -> the rules that answer them.
POSTURE_RULES: list[tuple[str, list[str]]] = [
    ("privileged", ["KV105"]),
    ("root", ["KV101", "KV102"]),
    ("host network", ["KV123"]),
    ("hostpath", ["KV125"]),
    ("host path", ["KV125"]),
    ("latest", ["KV501"]),
    ("limits", ["KV202", "KV204"]),
    ("probes", ["KV301", "KV302"]),
    ("secrets", ["KV132"]),
    ("capabilities", ["KV108", "KV109"]),
    ("writable", ["KV111"]),
]

# Pod spec fields people name -> the rule whose findings carry their values key.
FIELD_RULES: dict[str, str] = {
    "runasnonroot": "KV101",
    "runasuser": "KV103",
    "privileged": "KV105",
    "allowprivilegeescalation": "KV106",
    "readonlyrootfilesystem": "KV111",
    "seccomp": "KV113",
    "seccompprofile": "KV113",
    "capabilities": "KV109",
    "memory": "KV202",
    "cpu": "KV204",
    "limits": "KV202",
    "replicas": "KV305",
    "image": "KV502",
    "imagepullpolicy": "KV503",
    "hostnetwork": "KV123",
}

VERSION = re.compile(r"\b(?:v)?(1\.\d{1,2})(?:\.\d+)?\b")
RULE = re.compile(r"\bkv\s?-?(\d{3})\b", re.IGNORECASE)
PROVIDERS = ("aws", "gcp", "azure")


@dataclass
class Intent:
    analysis: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # why no analysis was chosen


def vocabulary() -> set[str]:
    words = {w for cues in CUES.values() for cue in cues for w in cue.split()}
    words |= {w for phrase, _ in POSTURE_RULES for w in phrase.split()}
    words |= set(FIELD_RULES) | {"workload", "workloads", "chart", "database", "frontend"}
    words |= {"problems", "findings", "issues", "the", "can", "any", "who", "what", "non"}
    return {w for w in words if len(w) > 2}


def normalize(question: str, names: list[str] = ()) -> str:
    """Lowercase words, each misspelt one replaced by the nearest cue word or name."""
    known = vocabulary() | {n.lower() for n in names}
    out = []
    anagrams = {"".join(sorted(w)): w for w in known}
    for word in re.findall(r"[a-z0-9][a-z0-9._/-]*", question.lower()):
        if word in known or len(word) <= 2 or VERSION.fullmatch(word):
            out.append(word)
            continue
        close = difflib.get_close_matches(word, known, n=1, cutoff=0.8)
        # swapped letters ("fxi", "databse" aside) are anagrams of the word meant
        out.append(close[0] if close else anagrams.get("".join(sorted(word)), word))
    return " ".join(out)


def classify(question: str, names: list[str] = ()) -> Intent:
    text = normalize(question, names)
    scores = {name: _score(text, cues) for name, cues in CUES.items()}
    rule = RULE.search(question)
    if rule and scores["values-key"] == 0 and scores["fixes"] == 0:
        scores["rule-doc"] += 3  # a rule code alone asks about the rule
    _tie_breaks(text, scores)
    best = max(scores.values())
    if best == 0:
        return Intent(None, problem="no analysis answers this question")
    top = sorted(n for n, s in scores.items() if s == best)
    if len(top) > 1:
        return Intent(None, problem=f"the question fits several analyses: {', '.join(top)}")
    return _slots(top[0], question, text, names)


def _score(text: str, cues: list[str]) -> int:
    padded = f" {text} "
    return sum(len(c.split()) + 1 for c in cues if f" {c} " in padded or _all_words(c, text))


def _all_words(cue: str, text: str) -> bool:
    words = cue.split()
    return len(words) > 1 and all(f" {w} " in f" {text} " for w in words)


def _tie_breaks(text: str, scores: dict[str, int]) -> None:
    """Cues shared by two intents resolve by the question's shape."""
    if scores["reachers"]:
        scores["reach"] = 0  # "who can reach X" asks for the list, not a yes/no
    if (scores["pss"] and "restricted" in text) or "baseline" in text:
        scores["pss"] += 2
    if scores["values-key"]:
        scores["fixes"] = scores["rule-doc"] = scores["posture"] = 0
    if scores["fixes"]:
        scores["posture"] = 0  # "fix these problems" asks how, not which
    if scores["exposed"] and any(w in text for w in ("outside", "internet", "external")):
        scores["reachers"] = 0
    if scores["top-resource"]:
        scores["carbon"] = 0
    if scores["exposed"] and not scores["reachers"]:
        scores["reach"] = 0
    if VERSION.search(text) and scores["upgrade"]:
        scores["upgrade"] += 2


def _slots(analysis: str, question: str, text: str, names: list[str]) -> Intent:
    args: dict[str, Any] = {}
    if analysis == "upgrade":
        version = VERSION.search(question)
        args["to"] = version.group(1) if version else None
    elif analysis in ("reach", "reachers"):
        found = _names(text, names)
        need = 2 if analysis == "reach" else 1
        if len(found) < need:
            return Intent(
                None,
                problem=f"name {'two workloads' if need == 2 else 'a workload'}"
                f" of the inputs (known: {', '.join(sorted(names)) or 'none'})",
            )
        if analysis == "reach":
            args["source"], args["target"] = found[0], found[1]
        else:
            args["target"] = found[-1]
    elif analysis == "posture":
        args["rules"] = _posture_rules(text)
    elif analysis == "pss":
        args["level"] = "baseline" if "baseline" in text else "restricted"
    elif analysis == "carbon":
        args["provider"] = next((p for p in PROVIDERS if p in text.split()), None)
    elif analysis == "top-resource":
        args["resource"] = "memory" if "memory" in text or "ram" in text.split() else "cpu"
    elif analysis == "values-key":
        rule = _field_rule(text)
        if rule is None:
            return Intent(None, problem="name the setting, e.g. runAsNonRoot or memory limits")
        args["rule"] = rule
    elif analysis == "rule-doc":
        m = RULE.search(question)
        if m is None:
            return Intent(None, problem="name the rule code, e.g. KV113")
        args["rule"] = f"KV{m.group(1)}"
    return Intent(analysis, args)


def _posture_rules(text: str) -> list[str]:
    for phrase, rules in POSTURE_RULES:
        if phrase in text:
            return rules
    return ["security"]  # "is anything insecure?": the whole security category


def _field_rule(text: str) -> str | None:
    flat = text.replace(" ", "")
    for name in sorted(FIELD_RULES, key=len, reverse=True):
        if name in flat:
            return FIELD_RULES[name]
    return None


def _names(text: str, names: list[str]) -> list[str]:
    """Workload names the question mentions, in the order it mentions them (a name may be
    given without its namespace, or by a word it contains: `frontend` for `web-frontend`)."""
    hits: list[tuple[int, str]] = []
    for name in names:
        short = name.split("/")[-1].lower()
        for candidate in {name.lower(), short, *short.split("-")}:
            if len(candidate) < 3:
                continue
            at = f" {text} ".find(f" {candidate} ")
            if at >= 0:
                hits.append((at, name))
                break
    hits.sort()
    out: list[str] = []
    for _, name in hits:
        if name not in out:
            out.append(name)
    return out
