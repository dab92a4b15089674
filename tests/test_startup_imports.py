"""A plain `kubevet check` imports only what it uses: each module costs start-up on every
run (marshal, class bodies, dataclass code, regexes), so what only some runs need (the
attestation machinery, compliance frameworks, exemptions, tracebacks) is imported when
they need it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kubevet import safewrite

PROBE = """
import os, sys
from kubevet.cli import main
main([*sys.argv[1:], "-o", os.devnull])
print(" ".join(sorted(sys.modules)))
"""

UNUSED = (
    "traceback",
    "kubevet.exemptions",
    "kubevet.frameworks",
    "kubevet.supplychain.attest",
    "kubevet.supplychain.bundle",
    "kubevet.supplychain.dsse",
)


def _modules(*argv: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, "check", *argv], capture_output=True, text=True, check=False
    )
    assert out.returncode in (0, 1), out.stderr
    return set(out.stdout.split())


def test_a_plain_check_leaves_unused_modules_unimported():
    loaded = _modules("examples/manifests", "-j", "1", "--format", "json")
    assert "kubevet.engine" in loaded, "the probe saw the check run"
    assert loaded.isdisjoint(UNUSED), sorted(loaded & set(UNUSED))


def test_a_run_that_names_a_framework_imports_it():
    loaded = _modules("examples/manifests", "-j", "1", "--format", "json", "--select", "cis")
    assert "kubevet.frameworks" in loaded


@pytest.mark.parametrize("pieces", [0, 1, 10_000])
def test_a_report_in_small_pieces_is_written_in_few_blocks(tmp_path, monkeypatch, pieces):
    stages: list[str] = []
    monkeypatch.setattr(safewrite, "fault", lambda stage, path: stages.append(stage))
    chunks = [f"line {i} é\n" for i in range(pieces)]
    target = tmp_path / "report.txt"
    safewrite.write_text_chunks(str(target), iter(chunks))
    assert target.read_text("utf-8") == "".join(chunks)
    total = sum(map(len, chunks))
    assert stages.count("write") == -(-total // safewrite._CHUNK)  # ceil: whole blocks
