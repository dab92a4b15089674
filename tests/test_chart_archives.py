"""Chart archives are checked before anything reads or expands them: link, device and FIFO
members, absolute and `..` names, oversized members, decompression bombs and too many
members are input errors naming the archive and the member; nothing lands outside."""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubevet import limits
from kubevet.cli import EXIT_ERROR, main
from kubevet.sources.archive import check_archive

CHART_YAML = b"apiVersion: v2\nname: c\nversion: 0.1.0\n"
POD = b"""apiVersion: v1
kind: Pod
metadata:
  name: archived
spec:
  containers:
    - name: app
      image: registry.example/app:1.0
      securityContext:
        privileged: true
"""
KINDS = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "fifo": tarfile.FIFOTYPE,
    "chardev": tarfile.CHRTYPE,
    "blockdev": tarfile.BLKTYPE,
}
KIND_WORDS = {
    "symlink": "is a symbolic link",
    "hardlink": "is a hard link",
    "fifo": "is a FIFO",
    "chardev": "is a character device",
    "blockdev": "is a block device",
}


@pytest.fixture(autouse=True)
def _default_limits():
    yield
    limits.use(limits.Limits())


def tgz(members: list[tuple[str, str, bytes, str]], **info_fields: object) -> bytes:
    """A gzip-compressed tar of (name, kind, data, link target) members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data, target in members:
            info = tarfile.TarInfo(name)
            info.type = KINDS[kind]
            info.linkname = target
            for key, value in info_fields.items():
                setattr(info, key, value)
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def base_members() -> list[tuple[str, str, bytes, str]]:
    return [("c/Chart.yaml", "file", CHART_YAML, ""), ("c/templates/pod.yaml", "file", POD, "")]


def run_check(capsys, *args: str) -> tuple[int, dict]:
    code = main(["check", *args, "--format", "json", "-j", "1", "--select", "KV105"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, json.loads(out)


NOT_AN_OBJECT = b"kind: x\n"  # YAML, but no apiVersion: an input error when rendered


@st.composite
def members(draw: st.DrawFn, sandbox: str, token: str) -> tuple[str, str, bytes, str, bool]:
    """(name, kind, data, link target, refused?) of one extra member."""
    kind = draw(st.sampled_from(sorted(KINDS)))
    shape = draw(st.sampled_from(["plain", "plain", "dotdot", "absolute", "deep-dotdot"]))
    leaf = f"{draw(st.sampled_from(['files', 'templates']))}/m{draw(st.integers(0, 9))}.yaml"
    name = {
        "plain": f"c/{leaf}",
        "dotdot": f"../escaped-{token}.yaml",
        "absolute": f"{sandbox}/absolute-{token}.yaml",
        "deep-dotdot": f"c/templates/../../../escaped-{token}.yaml",
    }[shape]
    target = draw(st.sampled_from(["/etc/passwd", f"{sandbox}/target", "../../../etc/hostname"]))
    data = draw(st.sampled_from([b"", NOT_AN_OBJECT, POD]))
    refused = kind not in ("file", "dir") or shape != "plain"
    return name, kind, data, target if kind in ("symlink", "hardlink") else "", refused


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_archives_are_refused_per_member_and_nothing_lands_outside(data):
    with tempfile.TemporaryDirectory() as scratch:
        sandbox = Path(scratch) / "sandbox"
        sandbox.mkdir()
        token = Path(scratch).name
        extra = data.draw(st.lists(members(str(sandbox), token), max_size=4))
        archive = sandbox / "chart.tgz"
        listed = base_members() + [(n, k, d, t) for n, k, d, t, _ in extra]
        archive.write_bytes(tgz(listed))
        refused = {n: k for n, k, _d, _t, bad in extra if bad}
        outside = Path(tempfile.gettempdir()) / f"escaped-{token}.yaml"

        errors = check_archive(str(archive))
        assert all(e.file == str(archive) for e in errors)
        named = {m for e in errors for m in refused if f"archive member '{m}' " in e.message}
        assert named == set(refused)
        for name, kind in refused.items():
            if kind in KIND_WORDS:  # the message says what the member is
                assert any(KIND_WORDS[kind] in e.message and name in e.message for e in errors)

        # the whole run: --trace expands the archive when it is accepted; a template that
        # is not a Kubernetes object ("kind: x", no apiVersion) is an input error too
        code = main(["check", str(archive), "--trace", "--format", "json", "-j", "1"])
        last = {n: (k, d, bad) for n, k, d, _t, bad in extra}  # a later member wins
        not_object = any(
            k == "file" and not bad and d == NOT_AN_OBJECT and n.startswith("c/templates/")
            for n, (k, d, bad) in last.items()
        )
        assert code == (EXIT_ERROR if refused or not_object else 1)
        assert sorted(p.name for p in sandbox.iterdir()) == ["chart.tgz"]
        assert not outside.exists()


def test_archive_bounds_are_errors_naming_archive_member_and_limit(capsys, tmp_path):
    big = tmp_path / "big.tgz"
    big.write_bytes(tgz([*base_members(), ("c/files/big", "file", b"\0" * (2 << 20), "")]))
    bomb = tmp_path / "bomb.tgz"  # two 700 KiB members of zeros: 1.4 MiB from a few KiB
    zeros = b"\0" * (700 << 10)
    bomb.write_bytes(
        tgz([*base_members(), *[(f"c/files/z{i}", "file", zeros, "") for i in (1, 2)]])
    )
    many = tmp_path / "many.tgz"
    many.write_bytes(
        tgz([*base_members(), *[(f"c/files/f{i}", "file", b"x", "") for i in range(9)]])
    )
    config = tmp_path / "kubevet.yaml"
    config.write_text("limits:\n  max-file-size: 1Mi\n  archive-size: 1Mi\n  archive-members: 8\n")
    flagged = tmp_path / "pod.yaml"
    flagged.write_bytes(POD.replace(b"archived", b"still-checked"))
    code, report = run_check(
        capsys, str(big), str(bomb), str(many), str(flagged), "--config", str(config)
    )
    assert code == EXIT_ERROR
    assert [(e["file"], e["message"]) for e in report["errors"]] == [
        (
            str(big),
            "archive member 'c/files/big' is larger than the 1 MiB limit "
            "(config limits.max-file-size)",
        ),
        (
            str(bomb),
            "archive inflates past the 1 MiB limit at member 'c/files/z2' "
            "(config limits.archive-size)",
        ),
        (str(many), "more than 8 archive members (config limits.archive-members)"),
    ]
    assert [f["object"]["name"] for f in report["findings"]] == ["still-checked"]


def test_a_pax_header_bomb_is_stopped_by_the_inflated_size(tmp_path):
    """A header's own records are no member's size: the decompressed stream is bounded."""
    limits.use(limits.Limits(archive_size=1 << 20, archive_members=8))
    bomb = tmp_path / "pax.tgz"
    bomb.write_bytes(tgz(base_members(), pax_headers={"comment": "x" * (3 << 20)}))
    (error,) = check_archive(str(bomb))
    assert (error.file, error.message) == (
        str(bomb),
        "archive inflates past the 1 MiB limit (config limits.archive-size)",
    )


def test_a_subchart_archive_in_a_chart_directory_is_checked_nested_ones_too(capsys, tmp_path):
    chart = tmp_path / "chart"
    (chart / "charts").mkdir(parents=True)
    (chart / "Chart.yaml").write_bytes(CHART_YAML)
    inner = tgz(
        [("t/Chart.yaml", "file", CHART_YAML, ""), ("t/files/x", "symlink", b"", "/etc/shadow")]
    )
    sub = tgz(
        [("s/Chart.yaml", "file", CHART_YAML, ""), ("s/charts/t-0.1.0.tgz", "file", inner, "")]
    )
    (chart / "charts" / "s-0.1.0.tgz").write_bytes(sub)
    code, report = run_check(capsys, str(chart))
    assert code == EXIT_ERROR
    assert [(e["file"], e["message"]) for e in report["errors"]] == [
        (
            str(chart / "charts" / "s-0.1.0.tgz"),
            "archive member 's/charts/t-0.1.0.tgz!t/files/x' is a symbolic link to /etc/shadow "
            "(links are not read from archives); the chart is not read",
        )
    ]


def test_an_archive_that_is_not_gzip_is_an_error(capsys, tmp_path):
    plain = tmp_path / "chart.tgz"
    plain.write_bytes(b"apiVersion: v2\n")
    code, report = run_check(capsys, str(plain))
    assert code == EXIT_ERROR
    assert report["errors"][0]["message"] == "not a gzip-compressed tar archive"


def test_subchart_archives_nested_too_deep_are_refused(tmp_path):
    archive = tgz([("c0/Chart.yaml", "file", CHART_YAML, "")])
    for depth in range(1, 8):
        archive = tgz(
            [
                (f"c{depth}/Chart.yaml", "file", CHART_YAML, ""),
                (f"c{depth}/charts/c{depth - 1}-0.1.0.tgz", "file", archive, ""),
            ]
        )
    path = tmp_path / "deep.tgz"
    path.write_bytes(archive)
    (error,) = check_archive(str(path))
    assert error.message.endswith("': subchart archives nested more than 5 deep")
    assert error.message.startswith("archive member 'c7/charts/c6-0.1.0.tgz!c6/charts/")
