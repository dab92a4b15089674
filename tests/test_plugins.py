"""Rule plugins: a package declaring `kubevet.rules` entry points adds rules like built-ins."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
from conftest import FIXTURES

from kubevet.cli import main
from kubevet.rules import registry

PLUGIN = FIXTURES / "plugin"


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The plugin package on sys.path with its dist-info, as pip would leave it; the
    registry forgets it afterwards."""
    site = tmp_path / "site"
    shutil.copytree(PLUGIN, site)
    monkeypatch.syspath_prepend(str(site))
    before = dict(registry._RULES), dict(registry._SLUGS)
    registry.all_rules()  # built-ins first, so the plugin loads on its own below
    yield registry.load_plugins()
    registry._RULES.clear()
    registry._RULES.update(before[0])
    registry._SLUGS.clear()
    registry._SLUGS.update(before[1])
    for name in [m for m in sys.modules if m.startswith("acme_kubevet")]:
        del sys.modules[name]


def test_plugin_rule_is_listed_documented_and_found(installed, tmp_path, monkeypatch, capsys):
    assert installed == ["acme"]
    assert main(["rules", "team-label"]) == 0
    assert "ACME001 team-label" in capsys.readouterr().out
    assert main(["rule", "ACME001"]) == 0
    assert "On-call must know whom to page." in capsys.readouterr().out

    rule = registry.get_rule("ACME001")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(rule.example_bad)
    (tmp_path / "good.yaml").write_text(rule.example_good)
    assert main(["check", "bad.yaml", "--select", "ACME001", "--format", "json"]) == 1
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["code"], f["path"]) for f in found] == [("ACME001", "metadata.labels")]
    assert main(["check", "good.yaml", "--select", "ACME001"]) == 0


def test_a_broken_plugin_names_itself(tmp_path, monkeypatch, capsys):
    site = tmp_path / "site"
    shutil.copytree(PLUGIN, site)
    (site / "acme_kubevet" / "rules.py").write_text("raise RuntimeError('half-written')\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(registry, "_loaded", False)
    try:
        assert main(["rules"]) == 2
        err = capsys.readouterr().err
        assert "rule plugin 'acme'" in err and "half-written" in err
        assert "Traceback" not in err
    finally:
        for name in [m for m in sys.modules if m.startswith("acme_kubevet")]:
            del sys.modules[name]
