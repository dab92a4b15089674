"""JUnit XML for CI test dashboards: one testsuite per input, one testcase per object and rule.

A testcase fails with every finding of its rule on that object (one per container, say)
listed in the failure body; suppressed findings make a skipped testcase; input errors are
testcases in error. An input without findings or errors gets one passing testcase, so
dashboards show it was checked.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any

from kubevet.findings import Finding, InputError
from kubevet.report._location import display_path, file_of, line_of
from kubevet.result import Report

# Characters XML 1.0 cannot carry at all (messages may quote binary input).
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ERRORS_SUITE = "kubevet input errors"


def render(report: Report, color: bool = False) -> str:
    return "".join(iter_render(report))


def iter_render(report: Report) -> Iterator[str]:
    """The document `ET.indent` and `ET.tostring` give for the whole tree, one testsuite at
    a time: a first pass counts the testcases for the root's attributes, a second builds
    and writes each input's suite. Findings come in input order (the spool keeps it); when
    they do not, or there is no suite, the whole tree is built as before."""
    labels = [g.label for g in report.groups]
    counts = _counts_by_input(report.findings, labels)
    if counts is None:
        yield _whole(report)
        return
    errors = _errors_by_input(report)
    totals: Counter[str] = Counter()
    for label in labels:
        totals += counts.get(label, Counter())
        totals["tests"] += len(errors.get(label, []))
        totals["errors"] += len(errors.get(label, []))
        if label not in counts and not errors.get(label):
            totals["tests"] += 1  # "all rules pass"
    leftover = [e for label, errs in errors.items() if label not in labels for e in errs]
    totals["tests"] += len(leftover)
    totals["errors"] += len(leftover)
    if not labels and not leftover:
        yield _whole(report)
        return
    root = ET.Element("testsuites", name="kubevet")
    _set_counts(root, totals)
    head = ET.tostring(root, encoding="unicode").removesuffix(" />")
    yield '<?xml version="1.0" encoding="UTF-8"?>\n' + head + ">\n  "
    findings = groupby(report.findings, key=lambda f: f.input)
    pending = next(findings, None)
    for i, label in enumerate(labels):
        items: list[Finding] = []
        if pending is not None and pending[0] == label:
            items = list(pending[1])
            pending = next(findings, None)
        last = i == len(labels) - 1 and not leftover
        yield _suite_text(label, items, errors.get(label, []), last)
    if leftover:
        yield _suite_text(ERRORS_SUITE, [], leftover, True)
    yield "</testsuites>\n"


def _whole(report: Report) -> str:
    root = ET.Element("testsuites", name="kubevet")
    errors = _errors_by_input(report)
    labels = [g.label for g in report.groups]
    findings = _findings_by_input(report)
    for label in labels + [x for x in findings if x not in labels]:
        _suite(root, label, findings.get(label, []), errors.pop(label, []))
    leftover = [e for errs in errors.values() for e in errs]
    if leftover:
        _suite(root, ERRORS_SUITE, [], leftover)
    _count(root, root.findall("testsuite"))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _suite_text(label: str, findings: list[Finding], errors: list[InputError], last: bool) -> str:
    holder = ET.Element("testsuites")
    _suite(holder, label, findings, errors)
    suite = holder[0]
    ET.indent(suite, level=1)
    suite.tail = "\n" if last else "\n  "
    return ET.tostring(suite, encoding="unicode")


def _counts_by_input(
    findings: Iterable[Finding], labels: list[str]
) -> dict[str, Counter[str]] | None:
    """Per input: its testcases, failures and skipped ones (as _suite makes them), or None
    when an input's findings are not together in the order of `labels`."""
    order = {label: i for i, label in enumerate(labels)}
    out: dict[str, Counter[str]] = {}
    at = -1
    for label, group in groupby(findings, key=lambda f: f.input):
        if label not in order or label in out or order[label] < at:
            return None
        at = order[label]
        cases: dict[tuple[Any, ...], bool] = {}  # case -> has an active finding
        for f in group:
            key = (f.origin.file, f.object, f.code)
            cases[key] = cases.get(key, False) or f.suppressed is None
        active = sum(cases.values())
        out[label] = Counter(tests=len(cases), failures=active, skipped=len(cases) - active)
    return out


def _set_counts(node: ET.Element, counts: Counter[str]) -> None:
    node.set("tests", str(counts["tests"]))
    for attr in ("failures", "errors", "skipped"):
        node.set(attr, str(counts[attr]))


def _findings_by_input(report: Report) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        out[f.input].append(f)
    return out


def _errors_by_input(report: Report) -> dict[str, list[InputError]]:
    """Each error under the input whose path contains its file (else a suite of its own)."""
    labels = [g.label for g in report.groups]
    out: dict[str, list[InputError]] = defaultdict(list)
    for err in report.errors:
        out[_owner(err.file, labels) or ERRORS_SUITE].append(err)
    return out


def _owner(file: str, labels: list[str]) -> str | None:
    path = os.path.normpath(file.split("!", 1)[0]) if file not in ("-", "") else file
    best = None
    for label in labels:
        norm = os.path.normpath(label) if label != "-" else label
        inside = path == norm or path.startswith(norm.rstrip(os.sep) + os.sep)
        if inside and (best is None or len(label) > len(best)):
            best = label
    return best


def _suite(root: ET.Element, label: str, findings: list[Finding], errors: list[InputError]) -> None:
    suite = ET.SubElement(root, "testsuite", name=_clean(label))
    cases: dict[tuple[Any, ...], list[Finding]] = {}
    for f in findings:
        cases.setdefault((f.origin.file, f.object, f.code), []).append(f)
    for items in cases.values():
        _case(suite, label, items)
    for err in errors:
        case = ET.SubElement(
            suite, "testcase", name=_clean(f"input {err}"), classname=_clean(label)
        )
        node = ET.SubElement(case, "error", message=_clean(err.message), type="InputError")
        node.text = _clean(str(err))
        if err.file not in ("", "-"):
            case.set("file", _clean(err.file))
        if err.line:
            case.set("line", str(err.line))
    if not findings and not errors:
        ET.SubElement(suite, "testcase", name="all rules pass", classname=_clean(label))
    _count(suite, [suite])


def _case(suite: ET.Element, label: str, items: list[Finding]) -> None:
    first = items[0]
    case = ET.SubElement(
        suite,
        "testcase",
        name=_clean(f"{first.code} {first.slug}: {first.object}"),
        classname=_clean(f"{label}.{first.object.kind}.{first.object.name}"),
    )
    path = file_of(first)
    if path:
        case.set("file", _clean(display_path(path)))
    line = line_of(first)
    if line:
        case.set("line", str(line))
    active = [f for f in items if f.suppressed is None]
    if not active:
        reasons = "; ".join(sorted({f.suppressed or "" for f in items}))
        ET.SubElement(case, "skipped", message=_clean(f"suppressed: {reasons}"))
        return
    message = active[0].message + (f" (and {len(active) - 1} more)" if len(active) > 1 else "")
    node = ET.SubElement(
        case, "failure", message=_clean(message), type=f"{first.code} {first.severity}"
    )
    node.text = _clean("\n".join(_detail(f) for f in active))


def _detail(f: Finding) -> str:
    where = display_path(file_of(f) or "-")
    line = line_of(f)
    if line:
        where += f":{line}"
    text = f"{f.severity} {f.message}\n  at {where}"
    if f.path:
        text += f"\n  field {f.path_text}"
    if f.origin.template:
        text += f"\n  template {f.origin.template} (rendered line {f.line or f.origin.line})"
    if f.trace:
        text += f"\n  trace: {f.trace.answer}"
    return text


def _count(node: ET.Element, suites: list[ET.Element]) -> None:
    """Set tests/failures/errors/skipped on `node` from the testcases under `suites`."""
    cases = [c for s in suites for c in s.findall("testcase")]
    node.set("tests", str(len(cases)))
    for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        node.set(attr, str(sum(1 for c in cases if c.find(tag) is not None)))


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\N{REPLACEMENT CHARACTER}", text)
