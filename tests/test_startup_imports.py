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
    "pickle",  # the finding spool's, once a run spills to disk
    "tempfile",  # safewrite's, for a report written to a regular file
    "kubevet.sources.helm",  # charts only (HelmOptions lives in sources.helmoptions)
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


DATACLASS_DOCS = """
import dataclasses, os, sys
from kubevet.cli import main
main([*sys.argv[1:], "-o", os.devnull])
for name, mod in list(sys.modules.items()):
    for cls in vars(mod).values() if name.startswith("kubevet") else ():
        if isinstance(cls, type) and cls.__module__ == name and dataclasses.is_dataclass(cls):
            generated = (cls.__doc__ or "").startswith(cls.__name__ + "(")
            print(name, cls.__name__, "generated" if generated else "written")
"""


def test_the_dataclasses_a_check_imports_have_docstrings():
    # Without one, dataclass() writes __doc__ from inspect.signature when the module is
    # imported: about 10M instructions over the classes of a check's start-up.
    out = subprocess.run(
        [sys.executable, "-c", DATACLASS_DOCS, "check", "examples/manifests", "-j", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = out.stdout.splitlines()
    assert len(lines) > 30, out.stderr
    assert [line for line in lines if line.endswith(" generated")] == []


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
