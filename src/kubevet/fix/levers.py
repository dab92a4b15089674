"""Which lever each finding of a chart got, and why the others did not fit.

The levers, in the order a user reaches for them: the values override (`values`), the
post-render patch set (`post-render`), the template patch for the maintainer (`template`).
A finding no lever removed says `none`, with the reason of each lever.
"""

from __future__ import annotations

from typing import Any

from kubevet.findings import Finding
from kubevet.fix.chart import ChartResult
from kubevet.fix.choose import finding_key

LEVERS = ("values", "post-render", "template")


def lever_rows(cr: ChartResult) -> list[dict[str, Any]]:
    """One row per finding of the chart (before any fix): its lever and the reasons."""
    removed = {name: {finding_key(f) for f in found} for name, found in _removed(cr)}
    reasons = _reasons(cr)
    rows = []
    for f in cr.findings:
        key = finding_key(f)
        lever = next((name for name in LEVERS if key in removed[name]), "none")
        why = {
            name: reasons.get((name, key)) or _default(name, f, lever)
            for name in LEVERS
            if name != lever
        }
        rows.append(
            {
                "code": f.code,
                "object": str(f.object),
                "path": f.path_text,
                "lever": lever,
                "also": [n for n in LEVERS if n != lever and key in removed[n]],
                "whyNot": {k: v for k, v in why.items() if key not in removed[k]},
            }
        )
    return rows


def _removed(cr: ChartResult) -> list[tuple[str, list[Finding]]]:
    ov, tp = cr.overlay, cr.maintainer
    return [
        ("values", cr.removed),
        ("post-render", ov.removed if ov is not None and not ov.problems else []),
        ("template", tp.fixed if tp is not None else []),
    ]


def _reasons(cr: ChartResult) -> dict[tuple[str, Any], str]:
    out: dict[tuple[str, Any], str] = {}
    for f, _patch in cr.template:
        out[("values", finding_key(f))] = f.trace.answer if f.trace else "no values key sets it"
    for f, why in [*cr.rejected, *cr.blocked]:
        out[("values", finding_key(f))] = why
    for f, why in cr.withdrawn:  # the fix itself adds a finding, whatever lever carries it
        out.update({(name, finding_key(f)): why for name in LEVERS})
    ov, tp = cr.overlay, cr.maintainer
    if ov is not None:
        for f, why in ov.withdrawn:
            out[("post-render", finding_key(f))] = why
        if ov.problems:
            for f in cr.findings:
                out.setdefault(("post-render", finding_key(f)), ov.problems[0])
    if tp is not None:
        for f, why in tp.refused:
            out[("template", finding_key(f))] = why
    return out


def _default(lever: str, f: Finding, got: str) -> str:
    if f.fix is None or not f.fix.edits:
        if lever == "post-render" and f.code in ("KV307", "KV601", "KV605"):
            return "no object kubevet adds removes it here"
        return "the rule has no fix kubevet can make"
    if f.fix.applicability not in ("safe", "unsafe"):
        return "display-only fix"
    if lever == "template" and got == "values":
        return "a values key already reaches it"
    if lever == "template" and got == "post-render":
        return "not attempted: a values key reaches part of the fix, or it was not traced"
    return "not removed by this lever"
