"""`[tool.kubevet]` in pyproject.toml: found walking up from the working directory, applied,
checked like `.kubevet.yaml`; another project's pyproject.toml (broken or not) is left
alone; no bytes in such a file give a traceback."""

from __future__ import annotations

import json
import tomllib

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubevet import config
from kubevet.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, main
from kubevet.config import ConfigError, find_config, load_config

POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
    "  securityContext: {runAsUser: 5000}\n  containers: [{name: c, image: x:1}]\n"
)
KV103_1000 = "[tool.kubevet.rules.KV103]\nmin-uid = 1000\n"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository with a pod (runAsUser 5000: below KV103's default, 10000) and a
    working directory one level down."""
    (tmp_path / "pod.yaml").write_text(POD)
    sub = tmp_path / "deploy"
    sub.mkdir()
    monkeypatch.chdir(sub)
    return tmp_path


def check(capsys, repo) -> tuple[int, list[dict], str]:
    argv = ["check", str(repo / "pod.yaml"), "--select", "KV103", "--format", "json", "-j", "1"]
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, (json.loads(out)["findings"] if out else []), err


def test_tool_kubevet_table_found_walking_up_is_applied(capsys, repo):
    assert check(capsys, repo)[0] == EXIT_FINDINGS  # no config: the default applies
    (repo / "pyproject.toml").write_text('[project]\nname = "app"\n\n' + KV103_1000)
    code, findings, _ = check(capsys, repo)
    assert (code, findings) == (EXIT_OK, [])
    assert find_config().path == str(repo / "pyproject.toml")


def test_pyproject_without_the_table_lets_the_walk_go_on(capsys, repo, tmp_path):
    (repo / ".kubevet.yaml").write_text("rules:\n  KV103: {min-uid: 1000}\n")
    (repo / "deploy" / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert find_config().path == str(repo / ".kubevet.yaml")
    assert check(capsys, repo)[0] == EXIT_OK


@pytest.mark.parametrize(
    "text",
    [
        '[project]\nname = "app"\nversion = \n',  # broken TOML
        "[tool.poetry\n",
        "tool = 1\n",
        "\x00\x01 not toml at all",
        # kubevet named as a dependency and a script, not as a tool.kubevet key: not parsed
        '[project]\ndependencies = ["kubevet>=0.1"\n',
        '[project.scripts]\nkubevet = "kubevet.cli:console"\n[tool.ruff\n',
    ],
)
def test_another_projects_pyproject_is_left_alone(capsys, repo, text):
    """A file that cannot hold a kubevet table neither fails nor configures the run."""
    (repo / "pyproject.toml").write_text(text)
    assert find_config().path is None
    assert check(capsys, repo)[0] == EXIT_FINDINGS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[tool.kubevet]\nselect = [\n", "invalid TOML"),  # broken, and names kubevet
        ('[tool.kubevet]\nselct = ["security"]\n', "did you mean 'select'?"),
        ('[tool]\nkubevet = "strict"\n', "tool.kubevet must be a table"),
        ('tool.kubevet.fail-on = "severe"\n', "fail-on: expected one of"),
        ('[tool."kube\\u0076et"]\nfail-on = "severe"\n', "fail-on: expected one of"),
    ],
)
def test_a_broken_kubevet_table_is_one_error_naming_the_file(capsys, repo, text, expected):
    path = repo / "pyproject.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"pyproject\.toml"):
        find_config()
    code, findings, err = check(capsys, repo)
    assert code == EXIT_ERROR and findings == []
    lines = [ln for ln in err.splitlines() if ln.startswith("kubevet: error:")]
    assert len(lines) == 1 and str(path) in lines[0] and expected in lines[0], err


def test_named_pyproject_is_always_read(tmp_path):
    """--config names the file: a broken one is an error even without the name."""
    path = tmp_path / "pyproject.toml"
    path.write_text("[project\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(str(path))
    path.write_text('[project]\nname = "x"\n')
    assert not any(load_config(str(path)).data.values())


def test_this_repositorys_pyproject_configures_nothing():
    config = load_config(str(ROOT / "pyproject.toml"))
    assert config.path and not any(config.data.values())


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_pyproject_bytes_give_a_config_or_one_config_error(tmp_path_factory, raw):
    base = tmp_path_factory.mktemp("any")
    (base / "pyproject.toml").write_bytes(raw)
    for prefix in (b"", b"[tool.kubevet]\n"):
        (base / "pyproject.toml").write_bytes(prefix + raw)
        try:
            config = find_config(str(base))
        except ConfigError as exc:
            assert str(base / "pyproject.toml") in str(exc)
        else:
            assert config.path in (None, str(base / "pyproject.toml"))


TOML_PARTS = st.sampled_from(
    ["[tool]", "[tool.kubevet]", "[tool.ruff]", "[[tool.kubevet.x]]", "[project]", "[ tool ]",
     '["tool"]', "tool", "kubevet", "'kubevet'", '"kubevet"', ".", " . ", "=", " = ", "1",
     '"kubevet"', "{", "}", "{ kubevet = 1 }", "[", "]", "\n", " ", "x", "mytool"]
)  # fmt: skip


@given(st.lists(TOML_PARTS, max_size=12).map("".join))
@settings(max_examples=400)
def test_a_file_not_parsed_holds_no_kubevet_table(text):
    """Whatever the spelling, TOML that holds a tool.kubevet key is parsed (the check that
    skips the parse for other projects' files never skips one that configures kubevet)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    tool = data.get("tool")
    if isinstance(tool, dict) and "kubevet" in tool:
        assert config._may_name_kubevet(text.encode()), text
