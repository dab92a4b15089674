"""A plain `kubevet check` imports only what it uses: each module costs start-up on every
run (marshal, class bodies, dataclass code, regexes), so what only some runs need (the
attestation machinery, compliance frameworks, exemptions, tracebacks) is imported when
they need it."""

from __future__ import annotations

import re
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
    "tempfile",  # (safewrite makes its temporary files itself: see below)
    "kubevet.sources.helm",  # charts only (HelmOptions lives in sources.helmoptions)
    "kubevet.exemptions",
    "kubevet.frameworks",
    "kubevet.supplychain.attest",
    "kubevet.supplychain.bundle",
    "kubevet.supplychain.dsse",
    "kubevet.netpol.reach",  # `analyze` (kubevet netpol); KV601 needs only the analysis
    "kubevet.traced",  # findings.Trace: charts traced (--trace) and shard files only
    "kubevet.chartinfo",  # context.ChartInfo: charts and Helm releases only
    "kubevet.supplychain.evidence",  # image assessments: inputs with attestations only
    "kubevet.sources.kustomize",  # an overlay's build; a walk asks only sources.kustomfile
    "kubevet.suppressentry",  # only an object with a kubevet.io/ignore annotation
    "kubevet.malformed",  # shapes.Malformed: only an input with a malformed field
    "kubevet.footprint.offhours",  # a Schedule: only where an off-hours scale-down is found
    "kubevet.footprint.summary",  # `kubevet footprint`'s Workload; the KV9xx rules never
    "shutil",  # argparse's formatter asked it for the width (cli.HelpFormatter does not)
    "inspect",  # dataclasses' (and with it ast, dis, tokenize): cli._import_dataclasses
    "ast",
    "tokenize",
    "deprecation",  # rapidyaml's wrappers' (and with it packaging): yamlfast's stand-in
    "packaging",
    "platform",  # uuid's, for orjson: yamlfast's stand-in
    "gettext",  # argparse's (and with it locale): cli's stand-in
    "locale",
    "bz2",
    "lzma",
    "encodings.utf_8_sig",  # sources.reader drops a byte order mark itself
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


REPORT_TO_FILE = """
import sys
from kubevet.cli import main
main(sys.argv[1:])
print(" ".join(sorted(sys.modules)))
"""


def test_a_report_written_to_a_file_imports_no_tempfile(tmp_path):
    # safewrite makes its temporary file itself: tempfile imports shutil, random, bz2, lzma
    out = tmp_path / "report.json"
    argv = ["check", "examples/manifests", "-j", "1", "--format", "json", "-o", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", REPORT_TO_FILE, *argv], capture_output=True, text=True, check=False
    )
    assert done.returncode in (0, 1), done.stderr
    assert out.read_text(encoding="utf-8").startswith("{")
    assert {"tempfile", "shutil", "random"}.isdisjoint(done.stdout.split())
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left


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


def _python(code: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """`code` run by a fresh interpreter (what it imports is a run's own)."""
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False
    )


def test_the_dataclasses_a_check_imports_have_docstrings():
    # Without one, dataclass() writes __doc__ from inspect.signature when the module is
    # imported: about 10M instructions over the classes of a check's start-up.
    out = _python(DATACLASS_DOCS, "check", "examples/manifests", "-j", "1")
    lines = out.stdout.splitlines()
    assert len(lines) > 30, out.stderr
    assert [line for line in lines if line.endswith(" generated")] == []


UNCOMPILED = """
import os, sys
from kubevet.cli import main
main([*sys.argv[1:], "-o", os.devnull])
from yaml.reader import Reader
from kubevet import safewrite
from kubevet.rules import builds
from kubevet.sources import jsonscan, manifests
from kubevet import quantity
from kubevet.rules import hygiene
lazy = [Reader.NON_PRINTABLE, safewrite.LINE_BREAK, safewrite._TEMP_NAME, builds._INSTALL,
        jsonscan._CANDIDATE, manifests._K8S_KEY, quantity._EXPONENT, hygiene._LABEL_VALUE]
print(" ".join(type(p).__name__ + ("" if p._compiled is None else ":compiled") for p in lazy))
"""


def test_a_check_leaves_the_patterns_it_does_not_use_uncompiled():
    # Each costs about a million instructions (PyYAML's pure reader's, 57M) at import.
    out = _python(UNCOMPILED, "check", "examples/manifests", "-j", "1")
    assert out.stdout.split() == ["_LazyPattern"] * 8, out.stderr


def test_a_lazy_pattern_is_its_regular_expression():
    from kubevet import lazy_compile

    pattern = lazy_compile(r"^\s*kind:", re.MULTILINE)
    assert [m.start() for m in pattern.finditer("a: 1\n  kind: x\nkind: y")] == [5, 15]
    assert (pattern.pattern, pattern.flags) == (r"^\s*kind:", re.MULTILINE | re.UNICODE)


PURE_READER = """
import kubevet, yaml
from yaml.reader import Reader
every = "".join(map(chr, range(0x110000)))
print(" ".join(str(m.start()) for m in Reader.NON_PRINTABLE.finditer(every)))
try:
    yaml.load("a: b\x07", Loader=yaml.SafeLoader)
except yaml.reader.ReaderError as exc:
    print(exc)
"""


def _printable(code: int) -> bool:
    """YAML 1.1's printable characters (what PyYAML's reader accepts)."""
    ranges = [(0x20, 0x7E), (0xA0, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF)]
    return code in (0x09, 0x0A, 0x0D, 0x85) or any(a <= code <= b for a, b in ranges)


def test_pyyamls_pure_reader_still_refuses_what_yaml_cannot_print():
    out = _python(PURE_READER)
    found, message = out.stdout.split("\n", 1)
    assert [int(x) for x in found.split()] == [
        code for code in range(0x110000) if not _printable(code)
    ]
    assert "unacceptable character #x0007" in message


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


@pytest.mark.parametrize("columns", ["40", "123", "0", "wide"])
def test_help_wraps_as_argparse_would(monkeypatch, columns):
    """cli.HelpFormatter reads the width as shutil.get_terminal_size does."""
    import argparse

    from kubevet.cli import HelpFormatter, build_parser

    monkeypatch.setenv("COLUMNS", columns)
    ours = build_parser("check")
    theirs = build_parser("check")
    for parser in (theirs, *theirs._subparsers._group_actions[0].choices.values()):
        parser.formatter_class = argparse.HelpFormatter
    assert ours.formatter_class is HelpFormatter
    for name, sub in ours._subparsers._group_actions[0].choices.items():
        other = theirs._subparsers._group_actions[0].choices[name]
        assert sub.format_help() == other.format_help()
    assert ours.format_help() == theirs.format_help()


def test_the_commands_only_listed_share_one_parser_and_the_named_one_is_whole():
    """build_parser("check") lists every command (help, choices, "did you mean") but builds
    only check's parser in full; the others share one parser that nothing parses with."""
    from kubevet.cli import COMMANDS, build_parser

    choices = build_parser("check")._subparsers._group_actions[0].choices
    assert list(choices) == list(COMMANDS)
    listed = {id(p) for name, p in choices.items() if name != "check"}
    assert len(listed) == 1
    assert id(choices["check"]) not in listed
    assert "--format" in choices["check"].format_help()
    whole = build_parser(None)._subparsers._group_actions[0].choices
    assert len({id(p) for p in whole.values()}) == len(COMMANDS)  # `completion` sees all
    for name in COMMANDS:
        named = build_parser(name)._subparsers._group_actions[0].choices[name]
        assert named.format_help() == whole[name].format_help()


def test_the_netpol_package_still_offers_its_names():
    import kubevet.netpol as netpol
    from kubevet.netpol import analysis, reach, types

    homes = {"INGRESS_CONTROLLER": analysis, "Connection": analysis, "NetpolError": types}
    for name in netpol.__all__:
        assert getattr(netpol, name) is getattr(homes.get(name, reach), name)
    with pytest.raises(AttributeError):
        netpol.Analysis  # noqa: B018 (only the names it lists)


def test_classes_moved_out_are_still_importable_where_they_were():
    from kubevet import chartinfo, context, findings, traced
    from kubevet.context import ChartInfo
    from kubevet.findings import Trace

    assert Trace is traced.Trace
    assert ChartInfo is chartinfo.ChartInfo
    from kubevet import malformed, shapes
    from kubevet.supplychain import evidence, inputevidence

    assert shapes.Malformed is malformed.Malformed

    assert evidence.InputEvidence is inputevidence.InputEvidence
    with pytest.raises(AttributeError):
        findings.Tracer  # noqa: B018
    with pytest.raises(AttributeError):
        context.Chart  # noqa: B018


STAND_INS = """
import sys
from kubevet.cli import build_parser
build_parser("check")
import dataclasses
from kubevet.sources import yamlfast
print("inspect" in sys.modules, "deprecation" in sys.modules, yamlfast.ryml is not None)
print("platform" in sys.modules)
import platform, uuid
print((uuid._LINUX, uuid._AIX) == (platform.system() == "Linux", platform.system() == "AIX"))

@dataclasses.dataclass
class Point:
    x: int

print(Point.__doc__)
import deprecation
import inspect
print(type(inspect).__name__, dataclasses.inspect.signature is inspect.signature)
print(deprecation.deprecated.__module__)
import argparse, gettext
print(argparse._("options"), argparse.ngettext("a", "b", 2), gettext.gettext.__module__)
"""


def test_the_stand_ins_hand_over_to_the_modules_themselves():
    # dataclasses' `inspect` imports inspect when first used (a class without a docstring);
    # once rapidyaml and orjson are imported, `import deprecation` is the package's, and
    # uuid read the same platform as platform.system()
    out = _python(STAND_INS)
    assert out.stdout.splitlines() == [
        "False False True",
        "False",
        "True",
        "Point(x: int)",
        "module True",
        "deprecation",
        "options b gettext",
    ], out.stderr
