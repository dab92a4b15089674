"""The HTML report: self-contained, escaped, and right when a real browser renders it."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from conftest import FIXTURES, ROOT

from kubevet.report import render
from kubevet.runner import RunSettings, run_check

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
# The flags this sandbox needs: no background networking (the network is closed), a fresh
# profile, no GPU, and no sandbox as root.
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _report(monkeypatch):
    monkeypatch.chdir(ROOT)
    paths = ["examples/chart", "examples/manifests", str(FIXTURES / "cli" / "bad.yaml")]
    return run_check(paths, RunSettings(jobs=1))


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.findings = 0
        self.scripts_with_src = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("link", "img", "iframe") or (tag == "script" and a.get("src")):
            self.external.append(tag)
        if "finding" in (a.get("class") or "").split():
            self.findings += 1


def test_page_is_self_contained_and_lists_every_finding(monkeypatch):
    report = _report(monkeypatch)
    page = render("html", report)
    parsed = _Collect()
    parsed.feed(page)
    assert parsed.external == []  # nothing fetched: inline CSS and JS only
    assert "http://" not in page and "https://" not in page
    assert parsed.findings == len(report.active) > 0
    counts = [int(n) for n in re.findall(r'data-severity-count="\w+">(\d+)<', page)]
    assert sum(counts) == len(report.active)
    assert "invalid YAML" in page  # the input error is shown


def test_hostile_text_is_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n"
        "    - name: '<script>alert(1)</script>'\n      image: x\n"
    )
    page = render("html", run_check(["x.yaml"], RunSettings(jobs=1)))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.skipif(BROWSER is None, reason="chromium absent (Debian package 'chromium')")
def test_chromium_renders_it_without_console_errors(tmp_path, monkeypatch):
    report = _report(monkeypatch)
    page = tmp_path / "report.html"
    page.write_text(render("html", report), encoding="utf-8")
    url = page.as_uri()
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    dom = subprocess.run(
        [BROWSER, *BROWSER_FLAGS, profile, "--enable-logging=stderr", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [x for x in dom.stderr.splitlines() if "CONSOLE" in x or "Uncaught" in x]
    assert console == []
    # The script ran: it rewrote the "shown" counter from the DOM it filtered.
    shown = re.search(r'<span id="shown">(\d+)</span>', dom.stdout)
    assert shown and int(shown.group(1)) == len(report.active)
    assert dom.stdout.count('class="finding"') == len(report.active)
    shot = tmp_path / "report.png"
    subprocess.run(
        [BROWSER, *BROWSER_FLAGS, profile, f"--screenshot={shot}", "--window-size=1200,1600", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
