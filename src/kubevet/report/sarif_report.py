"""SARIF 2.1.0 for GitHub and GitLab code scanning: one run, every rule that ran described.

Validated in the tests against the official OASIS schema (tests/fixtures/sarif/).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kubevet import __version__
from kubevet.findings import Finding, InputError, Severity
from kubevet.report import sarif_json
from kubevet.report._location import (
    display_path,
    file_of,
    level_of,
    line_of,
    rendered_note,
    warning_at,
)
from kubevet.result import Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "kubevetFinding/v1"

# Categories whose findings are security problems: GitHub ranks them by security-severity.
SECURITY_CATEGORIES = frozenset({"security", "podsecurity", "rbac", "network", "supplychain"})
# GitHub's bands: critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
}


def render(report: Report, color: bool = False) -> str:
    return "".join(iter_render(report))


def iter_render(report: Report) -> Iterator[str]:
    """The text of json.dumps(sarif_log(report), indent=2, ensure_ascii=False), with the
    results encoded one at a time as they are read (a large run never holds them all), by
    sarif_json (the same bytes; json's own indenting encoder is pure Python)."""
    base = os.path.abspath(os.getcwd())
    log = sarif_log(report, base, results=False)
    head, marker, tail = sarif_json.dumps(log).partition(_NO_RESULTS)
    if not marker or not report.findings:
        yield head + marker + tail + "\n"
        return
    index = {r["id"]: i for i, r in enumerate(log["runs"][0]["tool"]["driver"]["rules"])}
    yield head + '"results": ['
    sep = _RESULT_INDENT
    for f in report.findings:
        yield sep + sarif_json.dumps_without_floats(_result(f, index, base), _RESULT_INDENT)
        sep = "," + _RESULT_INDENT
    yield "\n" + " " * 6 + "]" + tail + "\n"


# Where the results sit in the indented log: {"runs": [{"results": [ ... ]}]}; no string
# holds this text unescaped, so it marks the one place to pour the results in.
_NO_RESULTS = '"results": []'
_RESULT_INDENT = "\n" + " " * 8


def sarif_log(report: Report, cwd: str | None = None, results: bool = True) -> dict[str, Any]:
    """The SARIF log as a dict; paths are made relative to `cwd` (default: the working dir).
    `results=False` leaves the results list empty (iter_render encodes them one by one)."""
    base = os.path.abspath(cwd or os.getcwd())
    rules = _rules_for(report)
    index = {r.code: i for i, r in enumerate(rules)}
    findings = report.findings if results else ()
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "kubevet",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [rule_descriptor(r) for r in rules],
            }
        },
        "invocations": [_invocation(report, base)],
        "originalUriBaseIds": {SRCROOT: {"uri": Path(base).as_uri().rstrip("/") + "/"}},
        "results": [_result(f, index, base) for f in findings],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _rules_for(report: Report) -> list[Any]:
    """The rules that ran, plus any rule a finding names that is not among them."""
    from kubevet.rules.registry import get_rule

    rules = list(report.rules)
    known = {r.code for r in rules}
    for f in report.findings:
        if f.code not in known and (r := get_rule(f.code)) is not None:
            rules.append(r)
            known.add(r.code)
    return rules


def rule_descriptor(r: Any) -> dict[str, Any]:
    from kubevet.rules.crossref import equivalent_ids
    from kubevet.rules.docs import rule_markdown

    markdown = rule_markdown(r)
    props: dict[str, Any] = {"category": r.category, "tags": _tags(r)}
    if r.category in SECURITY_CATEGORIES and r.severity in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[r.severity]
    eqs = equivalent_ids(r)
    if eqs:
        props["equivalents"] = {tool: list(ids) for tool, ids in eqs.items()}
    return {
        "id": r.code,
        "name": pascal_case(r.slug),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.what},
        "help": {"text": plain_text(markdown), "markdown": markdown},
        "defaultConfiguration": {
            "level": level_of(r.severity),
            "enabled": bool(r.enabled_by_default),
        },
        "properties": props,
    }


def _tags(r: Any) -> list[str]:
    tags = ["kubernetes", r.category]
    if r.category in SECURITY_CATEGORIES:
        tags.append("security")
    tags += [f"pss:{p}" for p in r.pss]
    return list(dict.fromkeys(tags))  # the schema wants unique tags


def pascal_case(slug: str) -> str:
    """`run-as-non-root` -> `RunAsNonRoot`."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_\s]+", slug) if part)


def plain_text(markdown: str) -> str:
    """The rule's markdown without heading marks and code fences, for plain-text viewers."""
    lines = []
    for line in markdown.splitlines():
        if line.startswith("```"):
            continue
        lines.append(line.lstrip("#").lstrip() if line.startswith("#") else line)
    return "\n".join(lines).strip() + "\n"


def finding_fingerprint(f: Finding, cwd: str | None = None) -> str:
    """The fingerprint SARIF gives `f` (`partialFingerprints`), for baselines and other
    reports: computed from the same artifact URI a SARIF result carries."""
    base = os.path.abspath(cwd or os.getcwd())
    physical = _physical(file_of(f), None, base)
    return fingerprint(f, physical["artifactLocation"]["uri"] if physical else None)


def fingerprint(f: Finding, uri: str | None = None) -> str:
    """Stable across runs: no line numbers, only what identifies the problem."""
    ref = f.object
    parts = [f.code, ref.kind, ref.namespace or "", ref.name, f.path_text, f.container or ""]
    parts.append(uri or "")  # the same object rendered by two charts is two results
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _result(f: Finding, index: dict[str, int], base: str) -> dict[str, Any]:
    location = _location(f, base)
    uri = location.get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
    result: dict[str, Any] = {
        "ruleId": f.code,
        "level": level_of(f.severity),
        "message": {"text": f.message + rendered_note(f)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f, uri)},
        "properties": _result_properties(f),
    }
    if f.code in index:
        result["ruleIndex"] = index[f.code]
    related = _related(f, base)
    if related:
        result["relatedLocations"] = related
    if f.suppressed is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
    return result


def _result_properties(f: Finding) -> dict[str, Any]:
    props: dict[str, Any] = {"severity": str(f.severity), "category": f.category}
    if f.input:
        props["input"] = f.input
    if f.container:
        props["container"] = f.container
    if f.origin.template:
        props["template"] = f.origin.template
        props["renderedLine"] = f.line or f.origin.line
    if f.fix:
        props["fix"] = {"applicability": f.fix.applicability, "description": f.fix.description}
    return props


def _artifact(path: str, base: str) -> dict[str, Any]:
    uri, relative = _uri(path, base, os.getcwd())  # a relative path is read from the cwd
    return {"uri": uri, "uriBaseId": SRCROOT} if relative else {"uri": uri}


@functools.lru_cache(maxsize=4096)
def _uri(path: str, base: str, cwd: str) -> tuple[str, bool]:
    """The URI of `path` and whether it is relative to %SRCROOT%: the findings of a file
    share it, and working it out (absolute path, relative path, quoting) is not cheap."""
    shown = display_path(path, base)
    if shown.startswith("/"):
        return Path(shown).as_uri(), False
    return quote(shown), True


def _physical(path: str | None, line: int | None, base: str) -> dict[str, Any] | None:
    if path is None:
        return None
    physical: dict[str, Any] = {"artifactLocation": _artifact(path, base)}
    if line and line > 0:
        physical["region"] = {"startLine": line}
    return physical


def _location(f: Finding, base: str) -> dict[str, Any]:
    ref = f.object
    qualified = "/".join(x for x in (ref.kind, ref.namespace or "", ref.name) if x)
    logical: list[dict[str, Any]] = [
        {"name": ref.name or ref.kind, "fullyQualifiedName": qualified, "kind": "resource"}
    ]
    if f.path:
        member = f.path_text  # worked out from the path on each read
        logical.append(
            {"name": member, "fullyQualifiedName": f"{qualified}/{member}", "kind": "member"}
        )
    location: dict[str, Any] = {"logicalLocations": logical}
    physical = _physical(file_of(f), line_of(f), base)
    if physical:
        location["physicalLocation"] = physical
    return location


def _related(f: Finding, base: str) -> list[dict[str, Any]]:
    """The chart template line and each values key a traced finding comes from."""
    if f.trace is None:
        return []
    out: list[dict[str, Any]] = []
    path = file_of(f)
    if f.trace.template_line and path:
        physical = _physical(path, f.trace.template_line, base)
        template = f.trace.template or f.origin.template or path
        out.append(
            {
                "id": len(out) + 1,
                "message": {
                    "text": f"template {template}, line {f.trace.template_line}: " + f.trace.answer
                },
                "physicalLocation": physical,
            }
        )
    values_file = f.trace.values_file
    lines = f.trace.values_lines or (None,) * len(f.trace.values_keys)
    for key, line in zip(f.trace.values_keys, lines, strict=True):
        item: dict[str, Any] = {
            "id": len(out) + 1,
            "message": {"text": f"values key {key}"},
            "logicalLocations": [
                {"name": key, "fullyQualifiedName": f".Values.{key}", "kind": "variable"}
            ],
        }
        if values_file:
            item["physicalLocation"] = _physical(values_file, line, base)
        out.append(item)
    return out


def _invocation(report: Report, base: str) -> dict[str, Any]:
    notes = [_error_notification(e, base) for e in report.errors]
    notes += [_warning_notification(w, base) for w in report.warnings]
    invocation: dict[str, Any] = {"executionSuccessful": not report.errors}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return invocation


def _warning_notification(text: str, base: str) -> dict[str, Any]:
    note: dict[str, Any] = {"level": "warning", "message": {"text": text}}
    at = warning_at(text)
    if at is not None:
        note["locations"] = [{"physicalLocation": _physical(at[0], at[1], base)}]
    return note


def _error_notification(err: InputError, base: str) -> dict[str, Any]:
    note: dict[str, Any] = {"level": "error", "message": {"text": str(err)}}
    path = err.file.split("!", 1)[0]
    if path and path != "-" and not path.startswith("--"):
        note["locations"] = [{"physicalLocation": _physical(path, err.line, base)}]
    return note
