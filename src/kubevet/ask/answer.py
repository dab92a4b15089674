"""Run the chosen analysis exactly as its kubevet command runs (in this process, with
`--format json`) and phrase two or three sentences from that output, with the evidence.

Because every fact comes from the command's own JSON, `kubevet ask` can never say more
than `kubevet check`, `upgrade`, `netpol`, `footprint` or `rule` would.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    question: str
    analysis: str | None
    arguments: dict[str, Any]
    answer: str
    evidence: list[str] = field(default_factory=list)
    command: list[str] = field(default_factory=list)  # the kubevet command that was run
    facts: dict[str, Any] = field(default_factory=dict)  # what the wording may state

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "analysis": self.analysis,
            "arguments": self.arguments,
            "answer": self.answer,
            "evidence": self.evidence,
            "command": self.command,
        }


class AnalysisError(Exception):
    """The analysis could not run on these inputs (its own error message)."""


def run_json(argv: list[str]) -> tuple[int, Any]:
    """Run a kubevet command in this process; its JSON output and exit code."""
    from kubevet.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    text = out.getvalue()
    try:
        return code, json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        raise AnalysisError(err.getvalue().strip() or text.strip()) from None


def workload_names(paths: list[str]) -> list[str]:
    """`namespace/name` of every workload the inputs hold (for matching names in questions)."""
    if not paths:
        return []
    names = set()
    for c in connections(tuple(paths)):
        for end in (c["src"], c["dst"]):
            if "[External]" not in end:
                names.add(end.split("[", 1)[0])
    return sorted(names)


def answer(question: str, analysis: str, args: dict[str, Any], paths: list[str]) -> Answer:
    run = _RUNNERS[analysis]
    return run(Answer(question, analysis, dict(args), ""), paths)


def _upgrade(a: Answer, paths: list[str]) -> Answer:
    argv = ["upgrade", *paths, "--format", "json", "-j", "1"]
    if a.arguments.get("to"):
        argv += ["--to", a.arguments["to"]]
    a.command = ["kubevet", *argv]
    _, data = run_json(argv)
    if data is None:
        raise AnalysisError("kubevet upgrade gave no report")
    target, blockers = data["target"], data["blockers"]
    a.arguments["to"] = target
    verdict = "No" if data["blocked"] else "Yes"
    a.answer = (
        f"{verdict}: upgrading to Kubernetes {target} finds {blockers} blocker(s) and "
        f"{data['warnings']} warning(s) in {data['objects_checked']} objects"
        + (
            f"; {data['already_broken']} problem(s) are already broken today."
            if data["already_broken"]
            else "."
        )
    )
    a.evidence = [f"{i['label']}: {i['state']}" for i in data["inputs"]]
    a.evidence += [_object_line(o) for o in data["objects"]]
    a.facts = data
    return a


def _object_line(o: dict[str, Any]) -> str:
    parts = [str(o.get(k)) for k in ("kind", "name", "apiVersion", "file") if o.get(k)]
    detail = o.get("message") or o.get("problem") or ""
    return " ".join(parts) + (f": {detail}" if detail else "")


def _netpol_argv(paths: tuple[str, ...]) -> list[str]:
    return ["netpol", *paths, "--format", "json", "-j", "1"]


@functools.cache
def connections(paths: tuple[str, ...]) -> list[dict[str, str]]:
    """`kubevet netpol`'s connections, computed once per run: the names in the question are
    matched against them, then reachability questions are answered from them."""
    return run_json(_netpol_argv(paths))[1] or []


def _netpol(a: Answer, paths: list[str]) -> list[dict[str, str]]:
    a.command = ["kubevet", *_netpol_argv(tuple(paths))]
    a.facts = {"connections": connections(tuple(paths))}
    return a.facts["connections"]


def _reach(a: Answer, paths: list[str]) -> Answer:
    src, dst = a.arguments["source"], a.arguments["target"]
    conns = [c for c in _netpol(a, paths) if _is(c["src"], src) and _is(c["dst"], dst)]
    if conns:
        a.answer = f"Yes: {src} can reach {dst} ({'; '.join(c['conn'] for c in conns)})."
    else:
        a.answer = f"No: no policy lets {src} reach {dst}."
    a.evidence = [f"{c['src']} -> {c['dst']}: {c['conn']}" for c in conns]
    return a


def _reachers(a: Answer, paths: list[str]) -> Answer:
    dst = a.arguments["target"]
    conns = [c for c in _netpol(a, paths) if _is(c["dst"], dst) and not _is(c["src"], dst)]
    sources = sorted({_label(c["src"]) for c in conns})
    a.answer = (
        f"{len(sources)} source(s) can reach {dst}: {', '.join(sources)}."
        if sources
        else f"Nothing can reach {dst}."
    )
    a.evidence = [f"{c['src']} -> {c['dst']}: {c['conn']}" for c in conns]
    return a


def _exposed(a: Answer, paths: list[str]) -> Answer:
    conns = [c for c in _netpol(a, paths) if "[External]" in c["src"]]
    targets = sorted({_label(c["dst"]) for c in conns})
    a.answer = (
        f"{len(targets)} workload(s) accept connections from outside the cluster: "
        f"{', '.join(targets)}."
        if targets
        else "No workload accepts connections from outside the cluster."
    )
    a.evidence = [f"{c['src']} -> {c['dst']}: {c['conn']}" for c in conns]
    return a


def _label(end: str) -> str:
    """`shop/api[Deployment]` -> `shop/api`; an external range keeps saying so."""
    name, _, kind = end.partition("[")
    return f"{name} (outside the cluster)" if kind.startswith("External") else name


def _is(end: str, name: str) -> bool:
    return end.split("[", 1)[0] == name


def _check(a: Answer, paths: list[str], select: str, extra: list[str] = ()) -> list[dict]:
    argv = ["check", *paths, "--select", select, "--format", "json", "-j", "1", *extra]
    argv += ["--allow-empty"]
    a.command = ["kubevet", *argv]
    _, data = run_json(argv)
    if data is None:
        raise AnalysisError("kubevet check gave no report")
    findings = [f for f in data["findings"] if f["suppressed"] is None]
    a.facts = {"findings": findings, "summary": data["summary"]}
    return findings


def _posture(a: Answer, paths: list[str]) -> Answer:
    findings = _check(a, paths, ",".join(a.arguments["rules"]))
    objects = sorted({_ref(f) for f in findings})
    what = ", ".join(a.arguments["rules"])
    a.answer = (
        f"{len(objects)} workload(s) have {len(findings)} finding(s) of {what}: "
        f"{', '.join(objects)}."
        if findings
        else f"No workload has a finding of {what}."
    )
    a.evidence = [_finding_line(f) for f in findings]
    return a


def _pss(a: Answer, paths: list[str]) -> Answer:
    level = a.arguments["level"]
    findings = _check(a, paths, f"pss-{level}")
    objects = sorted({_ref(f) for f in findings})
    a.answer = (
        f"No: {len(objects)} workload(s) fail the {level} Pod Security Standard "
        f"with {len(findings)} finding(s)."
        if findings
        else f"Yes: every workload passes the {level} Pod Security Standard."
    )
    a.evidence = [_finding_line(f) for f in findings]
    return a


def _fixes(a: Answer, paths: list[str]) -> Answer:
    findings = _check(a, paths, "ALL")
    kinds = {"safe": 0, "unsafe": 0, "display-only": 0}
    for f in findings:
        if f["fix"]:
            kinds[f["fix"]["applicability"]] += 1
    none = len(findings) - sum(kinds.values())
    a.answer = (
        f"Of {len(findings)} finding(s), {kinds['safe']} have a safe fix (`kubevet fix`), "
        f"{kinds['unsafe']} an unsafe one (`kubevet fix --unsafe-fixes`) and {none} need a "
        "change by hand."
    )
    a.evidence = [
        _finding_line(f) + f" [fix: {f['fix']['applicability']}]" for f in findings if f["fix"]
    ]
    return a


def _values_key(a: Answer, paths: list[str]) -> Answer:
    findings = _check(a, paths, a.arguments["rule"], ["--trace"])
    keys = sorted({k for f in findings if f["trace"] for k in f["trace"]["valuesKeys"]})
    answers = sorted({f["trace"]["answer"] for f in findings if f["trace"]})
    if keys:
        a.answer = f"Set {', '.join(keys)} in your values to change it ({a.arguments['rule']})."
    elif answers:
        a.answer = f"No values key reaches it: {answers[0]} ({a.arguments['rule']})."
    else:
        a.answer = f"No chart finding of {a.arguments['rule']} to trace in these inputs."
    a.evidence = [
        _finding_line(f) + (f": {f['trace']['answer']}" if f["trace"] else "") for f in findings
    ]
    return a


def _rule_doc(a: Answer, paths: list[str]) -> Answer:
    argv = ["rule", a.arguments["rule"], "--format", "json"]
    a.command = ["kubevet", *argv]
    code, data = run_json(argv)
    if code != 0 or data is None:
        raise AnalysisError(f"no rule {a.arguments['rule']}")
    a.answer = f"{data['code']} ({data['slug']}): {data['title']}. {data['what']}"
    a.evidence = [f"why: {data['why']}", f"how to fix: {data['howToFix']}"]
    a.facts = data
    return a


def _footprint(a: Answer, paths: list[str]) -> dict[str, Any]:
    argv = ["footprint", *paths, "--format", "json", "-j", "1"]
    if a.arguments.get("provider"):
        argv += ["--provider", a.arguments["provider"]]
    a.command = ["kubevet", *argv]
    _, data = run_json(argv)
    if data is None:
        raise AnalysisError("kubevet footprint gave no report")
    a.facts = data
    return data


def _carbon(a: Answer, paths: list[str]) -> Answer:
    data = _footprint(a, paths)
    low, high = data["total"]["low"], data["total"]["high"]
    a.answer = (
        f"About {low['carbon_g'] / 1000:.1f} to {high['carbon_g'] / 1000:.1f} kg CO2e per month "
        f"({low['energy_kwh']:.1f} to {high['energy_kwh']:.1f} kWh), from requested CPU and "
        "memory times replicas."
    )
    unsized = [w for w in data["workloads"] if w.get("unsized")]
    if unsized:
        a.answer += f" {len(unsized)} workload(s) request no CPU or memory and count as zero."
    a.evidence = [
        f"{w['namespace']}/{w['name']}: {w['high']['carbon_g']:.0f} g CO2e/month at most"
        for w in data["workloads"]
    ]
    return a


def _top_resource(a: Answer, paths: list[str]) -> Answer:
    data = _footprint(a, paths)
    key = "memory_gib" if a.arguments["resource"] == "memory" else "vcpu"
    unit = "GiB" if key == "memory_gib" else "vCPU"
    rows = sorted(data["workloads"], key=lambda w: (-w[key], w["namespace"], w["name"]))
    if not rows:
        a.answer = "The inputs hold no workload."
        return a
    top = rows[0]
    a.answer = (
        f"{top['namespace']}/{top['name']} requests the most {a.arguments['resource']}: "
        f"{top[key]:g} {unit} per replica."
    )
    a.evidence = [f"{w['namespace']}/{w['name']}: {w[key]:g} {unit}" for w in rows[:5]]
    return a


def _ref(f: dict[str, Any]) -> str:
    o = f["object"]
    return f"{o['kind']} {o['namespace'] + '/' if o['namespace'] else ''}{o['name']}"


def _finding_line(f: dict[str, Any]) -> str:
    where = f["origin"]["file"] + (
        f":{f['origin']['fieldLine']}" if f["origin"].get("fieldLine") else ""
    )
    return f"{f['code']} {_ref(f)}: {f['message']} ({where})"


_RUNNERS = {
    "upgrade": _upgrade,
    "reach": _reach,
    "reachers": _reachers,
    "exposed": _exposed,
    "posture": _posture,
    "pss": _pss,
    "carbon": _carbon,
    "top-resource": _top_resource,
    "fixes": _fixes,
    "values-key": _values_key,
    "rule-doc": _rule_doc,
}
