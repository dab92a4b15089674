"""Shell completion scripts generated from the parser: they complete what the CLI accepts."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kubevet.cli import COMMANDS, main


def _script(shell: str, capsys) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def _bash_complete(script_path: str, words: list[str]) -> list[str]:
    """Ask bash, with the script sourced, what it completes for `words` (last is partial)."""
    quoted = " ".join(f"'{w}'" for w in words)
    line = " ".join(words)
    cmd = (
        f"source {script_path}; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        f"COMP_LINE='{line}'; COMP_POINT={len(line)}; _shtab_kubevet; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, check=True)
    return [x for x in out.stdout.splitlines() if x]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash absent")
def test_bash_completes_commands_flags_and_choices(tmp_path, capsys):
    path = tmp_path / "kubevet.bash"
    path.write_text(_script("bash", capsys))
    assert _bash_complete(str(path), ["kubevet", "ch"]) == ["check"]
    assert set(_bash_complete(str(path), ["kubevet", ""])) == set(COMMANDS)
    assert "--select" in _bash_complete(str(path), ["kubevet", "check", "--sel"])
    assert "markdown" in _bash_complete(str(path), ["kubevet", "rules", "--format", ""])
    (tmp_path / "deploy.yaml").write_text("")
    files = _bash_complete(str(path), ["kubevet", "check", str(tmp_path / "dep")])
    assert files == [str(tmp_path / "deploy.yaml")]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_name_every_command(shell, tmp_path, capsys):
    script = _script(shell, capsys)
    for name in COMMANDS:
        assert name in script
    assert "--fail-on" in script
    binary = shutil.which(shell)
    if binary is None:
        pytest.skip(f"{shell} absent: script content checked, syntax not")
    path = tmp_path / f"kubevet.{shell}"
    path.write_text(script)
    subprocess.run([binary, "-n", str(path)], check=True)
