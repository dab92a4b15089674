"""One self-contained HTML page: summary by severity and category, findings per input and
object (with the template line and values key for charts), each rule's documentation.

Inline CSS and a few lines of inline script (severity filter and text search); nothing is
loaded from the network, so the page opens the same offline, in CI artifacts and in mail.
Every piece of input text is escaped: messages may quote hostile file content.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from html import escape
from itertools import groupby
from typing import Any

from kubevet import __version__
from kubevet.findings import Finding, Severity
from kubevet.plurals import counted
from kubevet.report._location import display_path, file_of, line_of
from kubevet.report.text_report import summary
from kubevet.result import Report

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 2rem;
color:#1d232a}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse}td,th{padding:.2rem .7rem;text-align:left}
.counts td{text-align:right}.sev{font-weight:600;text-transform:uppercase;font-size:.75rem}
.critical{color:#8b0000}.high{color:#c0392b}.medium{color:#b36b00}.low{color:#1f6f8b}
.info{color:#666}.obj{margin:.6rem 0 .2rem;font-weight:600}.where{color:#555;font-weight:400}
.finding{margin:.2rem 0 .2rem 1.2rem}.detail{color:#555;font-size:.85rem;margin-left:4.5rem}
.error{color:#8b0000}code{background:#f3f3f6;padding:0 .2rem}details{margin:.3rem 0}
#controls{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #eee}
.hidden{display:none}
"""

# Filters findings by severity checkbox and free text; counts what stays visible.
_SCRIPT = """
(function () {
  var boxes = document.querySelectorAll('#controls input[type=checkbox]');
  var search = document.getElementById('search');
  function apply() {
    var on = {}, text = search.value.toLowerCase(), shown = 0;
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    document.querySelectorAll('.finding').forEach(function (f) {
      var keep = on[f.dataset.severity] &&
        (!text || f.textContent.toLowerCase().indexOf(text) >= 0);
      f.classList.toggle('hidden', !keep);
      if (keep) { shown += 1; }
    });
    document.getElementById('shown').textContent = String(shown);
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  search.addEventListener('input', apply);
  apply();
})();
"""


def render(report: Report, color: bool = False) -> str:
    return "".join(iter_render(report))


def iter_render(report: Report) -> Iterator[str]:
    """The page in pieces: one pass over the findings counts them, a second writes them
    object by object, so a large run is never held as one string (or one list)."""
    active = report.active
    by_sev: Counter[str] = Counter()
    by_cat: Counter[str] = Counter()
    for f in active:
        by_sev[str(f.severity)] += 1
        by_cat[f.category] += 1
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>kubevet report: {counted(by_sev.total(), 'finding')}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>kubevet {escape(__version__)} report</h1>",
        f'<p id="summary">{escape(summary(report))}</p>',
        _counts(by_sev, by_cat),
        _problems(report),
        _controls(),
        "<h2>Findings</h2>",
    ]
    yield "\n".join(p for p in head if p)
    yield from _findings(active)
    docs = _rule_docs(report, {f.code for f in active})
    yield "\n" + "\n".join(p for p in (docs, f"<script>{_SCRIPT}</script>", "</body></html>") if p)
    yield "\n"


def _counts(by_sev: Counter[str], by_cat: Counter[str]) -> str:
    sev_rows = "".join(
        f'<tr><th class="sev {s}">{s}</th><td data-severity-count="{s}">{by_sev[s]}</td></tr>'
        for s in (str(x) for x in sorted(Severity, reverse=True))
    )
    cat_rows = "".join(
        f'<tr><th>{escape(c)}</th><td data-category-count="{escape(c)}">{n}</td></tr>'
        for c, n in sorted(by_cat.items())
    )
    return (
        '<h2>Summary</h2><table class="counts" id="by-severity"><tbody>'
        f'{sev_rows}</tbody></table><table class="counts" id="by-category"><tbody>'
        f"{cat_rows}</tbody></table>"
    )


def _problems(report: Report) -> str:
    if not report.errors and not report.warnings:
        return ""
    items = [f'<li class="error">{escape(str(e))}</li>' for e in report.errors]
    items += [f"<li>warning: {escape(w)}</li>" for w in report.warnings]
    return f'<h2>Input errors and warnings</h2><ul id="problems">{"".join(items)}</ul>'


def _controls() -> str:
    boxes = "".join(
        f'<label><input type="checkbox" value="{s}" checked> {s}</label> '
        for s in (str(x) for x in sorted(Severity, reverse=True))
    )
    return (
        f'<div id="controls">{boxes}<input id="search" type="search" placeholder="filter">'
        f' <span id="shown">all</span> shown</div>'  # the script writes the number
    )


def _findings(active: Iterable[Finding]) -> Iterator[str]:
    """Each input's section, one object's findings at a time (each piece after a newline)."""
    for label, by_input in groupby(active, key=lambda f: f.input):
        yield f'\n<section class="input"><h3>{escape(label)}</h3>'
        for _, group in groupby(by_input, key=lambda f: (f.origin.file, f.object)):
            items = list(group)
            yield (
                f'\n<div class="obj">{escape(str(items[0].object))} '
                f'<span class="where">{escape(_where(items[0]))}</span></div>'
            )
            for f in items:
                yield "\n" + _finding(f)
        yield "\n</section>"


def _finding(f: Finding) -> str:
    sev = str(f.severity)
    details = [f"<code>{escape(f.path_text)}</code>"] if f.path else []
    if f.trace:
        where = f.trace.template or ""
        if f.trace.template_line:
            where += f":{f.trace.template_line}"
        details.append(escape(f.trace.answer) + (f" [{escape(where)}]" if where else ""))
    if f.fix:
        details.append(f"fix ({escape(f.fix.applicability)}): {escape(f.fix.description)}")
    detail = f'<div class="detail">{" · ".join(details)}</div>' if details else ""
    return (
        f'<div class="finding" data-severity="{sev}" data-code="{escape(f.code)}">'
        f'<a href="#rule-{escape(f.code)}">{escape(f.code)}</a> '
        f'<span class="sev {sev}">{sev}</span> {escape(f.message)}{detail}</div>'
    )


def _where(f: Finding) -> str:
    path = file_of(f)
    if not path:
        return f.input
    line = line_of(f)
    return display_path(path) + (f":{line}" if line else "")


def _rule_docs(report: Report, codes: set[str]) -> str:
    rules: list[Any] = [r for r in report.rules if r.code in codes]
    if not rules:
        return ""
    out = ["<h2>Rules</h2>"]
    for r in sorted(rules, key=lambda r: r.code):
        out.append(
            f'<details id="rule-{escape(r.code)}"><summary><b>{escape(r.code)}</b> '
            f"{escape(r.slug)}: {escape(r.title)}</summary>"
            f"<p><b>What</b> {escape(r.what)}</p><p><b>Why</b> {escape(r.why)}</p>"
            f"<p><b>How to fix</b> {escape(r.how_to_fix)}</p></details>"
        )
    return "\n".join(out)
