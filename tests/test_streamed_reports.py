"""Reporters that write as they go (policyreport, html): the same text from findings held
in memory and from a spool read back from disk, and the text a one-shot dump would give."""

from __future__ import annotations

import yaml
from conftest import FIXTURES, ROOT

from kubevet import spool
from kubevet.report import policyreport_report, render
from kubevet.runner import RunSettings, run_check

PATHS = [
    str(ROOT / "examples" / "manifests"),
    str(FIXTURES / "cli" / "suppressed"),
    str(FIXTURES / "report" / "namespaces.yaml"),
]


def _reports(monkeypatch):  # type: ignore[no-untyped-def]
    held = run_check(PATHS, RunSettings(jobs=1))
    monkeypatch.setattr(spool, "SPILL_AT", 2)
    spilled = run_check(PATHS, RunSettings(jobs=1), spool=True)
    assert spilled.findings._chunks  # read back from disk, batch by batch
    return held, spilled


def test_policy_reports_streamed_are_one_dump_of_the_same_documents(monkeypatch):
    held, spilled = _reports(monkeypatch)
    monkeypatch.setattr(policyreport_report, "BATCH", 3)  # many batches per namespace
    text = render("policyreport", held)
    assert text == render("policyreport", spilled)
    docs = list(yaml.safe_load_all(text))
    assert len(docs) >= 3 and sum(len(d["results"]) for d in docs) == len(held.active)
    assert all(d["summary"]["fail"] == len(d["results"]) for d in docs)
    one_dump = yaml.dump_all(docs, Dumper=policyreport_report._DUMPER, sort_keys=False)
    assert text == one_dump


def test_html_page_is_the_same_from_a_spool(monkeypatch):
    held, spilled = _reports(monkeypatch)
    page = render("html", held)
    assert page == render("html", spilled)
    assert page.count('<div class="finding"') == len(held.active)
    assert f"<title>kubevet report: {len(held.active)} findings</title>" in page
