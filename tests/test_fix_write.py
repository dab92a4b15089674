"""How `fix` and `upgrade --fix` write: atomically, never through a link out of the tree
named, never losing the original, and reaching the fixed point in one run."""

from __future__ import annotations

import codecs
import errno
import os
import resource
import shutil
import stat
import subprocess
import sys
import tarfile

import pytest
from conftest import FIXTURES

from kubevet import safewrite
from kubevet.cli import main

WRITE = FIXTURES / "fix" / "write"
UP = FIXTURES / "upgrade"
RULES = "KV105,KV106"


@pytest.fixture
def tree(tmp_path):
    """deploy/ with a fixable manifest, beside a file outside it."""
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    shutil.copy(WRITE / "escalation.yaml", deploy / "app.yaml")
    shutil.copy(WRITE / "outside.yaml", tmp_path / "outside.yaml")
    return deploy


def _fix(*args: str) -> int:
    return main(["fix", "--select", RULES, "--unsafe-fixes", *map(str, args)])


def _kubevet(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    src = os.path.join(os.path.dirname(safewrite.__file__), os.pardir)
    full = {**os.environ, "PYTHONPATH": os.path.abspath(src), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "kubevet", *map(str, args)]
    return subprocess.run(cmd, env={**full, **(env or {})}, capture_output=True, text=True, **kw)


def _leftovers(directory) -> list[str]:
    return [n for n in os.listdir(directory) if n.endswith(safewrite.TEMP_SUFFIX)]


def test_killed_at_its_first_write_fix_leaves_the_original_intact(tree):
    target = tree / "app.yaml"
    before = target.read_bytes()
    env = {safewrite.FAULT_ENV: "write:kill"}
    done = _kubevet("fix", "--select", RULES, "--unsafe-fixes", target, env=env)
    assert done.returncode == -9  # it really died at the write
    assert target.read_bytes() == before
    # what the kill left behind is never taken for a manifest by the next run
    assert all(not n.endswith((".yaml", ".yml", ".json")) for n in _leftovers(tree))
    again = _kubevet("check", "--select", RULES, tree)
    assert "kubevet-tmp" not in again.stdout + again.stderr


def test_the_next_write_removes_what_a_killed_fix_left_and_nothing_else(tree):
    target = tree / "app.yaml"
    dead = _pid_of_ended_process()
    killed = _kubevet(
        "fix", "--select", RULES, "--unsafe-fixes", target, env={safewrite.FAULT_ENV: "write:kill"}
    )
    assert killed.returncode == -9
    (left,) = _leftovers(tree)
    keep = {  # not kubevet's names, or a writer that may still be running
        f".app.yaml.{os.getpid()}.abcd1234{safewrite.TEMP_SUFFIX}",  # a live process
        f"app.yaml.{dead}.abcd1234{safewrite.TEMP_SUFFIX}",  # not hidden: not kubevet's
        f".app.yaml.{dead}.abcd1234{safewrite.TEMP_SUFFIX}.bak",
        f".app.yaml.{dead}.ABCD1234{safewrite.TEMP_SUFFIX}",  # mkstemp writes lower case
    }
    fresh = f".app.yaml.{dead}.fresh123{safewrite.TEMP_SUFFIX}"  # too young to judge
    for name in [*keep, fresh]:
        (tree / name).write_text("not a manifest\n")
    for name in [left, *keep]:
        os.utime(tree / name, (0, os.path.getmtime(tree / name) - 2 * safewrite.STALE_AFTER))
    assert _fix(target) == 0
    assert "allowPrivilegeEscalation: false" in target.read_text()
    assert sorted(os.listdir(tree)) == sorted(["app.yaml", fresh, *keep])


def _pid_of_ended_process() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_file_with_other_hard_links_is_not_split(tree, capsys):
    target = tree / "app.yaml"
    other = tree.parent / "same-file.yaml"
    os.link(target, other)
    before = target.read_bytes()
    assert _fix(target) == 2
    err = capsys.readouterr().err
    assert f"{target}: not written, left as it was: the file has 2 hard links" in err
    assert target.read_bytes() == before and os.path.samefile(target, other)
    assert _leftovers(tree) == []


@pytest.mark.parametrize("stage", ["create", "write", "sync", "replace"])
def test_a_failing_write_keeps_the_original_and_names_the_file(tree, monkeypatch, capsys, stage):
    target = tree / "app.yaml"
    before = target.read_bytes()

    def full_disk(at: str, path: str) -> None:
        if at == stage:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    monkeypatch.setattr(safewrite, "fault", full_disk)
    code = _fix(target)
    out = capsys.readouterr()
    assert code == 2
    assert target.read_bytes() == before
    assert _leftovers(tree) == []
    errors = [ln for ln in (out.out + out.err).splitlines() if ln.startswith("error:")]
    assert errors == [f"error: {target}: not written, left as it was: No space left on device"]
    assert "fixed" not in out.out  # nothing claims a fix that did not land


def test_a_file_size_limit_hit_midway_keeps_the_original(tree):
    target = tree / "app.yaml"
    before = target.read_bytes()
    limit = len(before) + 8  # the fixed file is longer: its write stops partway

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = _kubevet("fix", "--select", RULES, "--unsafe-fixes", target, preexec_fn=cap)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{target}: not written, left as it was: File too large" in done.stdout + done.stderr
    assert target.read_bytes() == before
    assert _leftovers(tree) == []


def test_the_written_file_keeps_its_mode(tree):
    target = tree / "app.yaml"
    target.chmod(0o640)
    assert _fix(target) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert "allowPrivilegeEscalation: false" in target.read_text()


def test_a_read_only_file_is_an_error_not_a_traceback(tree, capsys):
    target = tree / "app.yaml"
    before = target.read_bytes()
    target.chmod(0o444)
    code = _fix(target)
    assert code == 2
    assert target.read_bytes() == before
    out = capsys.readouterr().out
    assert f"{target}: not written, left as it was: the file is read-only (mode 0444)" in out


def test_an_immutable_file_is_an_error_not_a_traceback(tree, monkeypatch, capsys):
    """`chattr +i` makes the rename fail with EPERM; injected where chattr cannot run."""
    target = tree / "app.yaml"
    before = target.read_bytes()
    immutable = (
        shutil.which("chattr")
        and subprocess.run(["chattr", "+i", str(target)], capture_output=True).returncode == 0
    )
    try:
        if not immutable:

            def refuse(at: str, path: str) -> None:
                if at == "replace":
                    raise OSError(errno.EPERM, os.strerror(errno.EPERM), path)

            monkeypatch.setattr(safewrite, "fault", refuse)
        code = _fix(target)
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(target)], check=True)
    assert code == 2
    assert target.read_bytes() == before
    assert f"{target}: not written, left as it was: Operation not permitted" in (
        capsys.readouterr().out
    )
    assert _leftovers(tree) == []


def test_fix_dir_never_writes_through_a_link_out_of_it(tree, capsys):
    outside = tree.parent / "outside.yaml"
    before = outside.read_bytes()
    (tree / "link.yaml").symlink_to(outside)
    code = _fix(tree)
    out = capsys.readouterr().out
    assert code == 2
    assert outside.read_bytes() == before
    assert (tree / "link.yaml").is_symlink()
    link = tree / "link.yaml"
    assert f"error: {link}: not written, left as it was: a symlink leads it to {outside}" in out
    # the rest of the directory is still fixed
    assert "allowPrivilegeEscalation: false" in (tree / "app.yaml").read_text()


def test_a_link_inside_the_tree_is_written_through_and_stays_a_link(tree):
    real = tree / "sub" / "real.yaml"
    real.parent.mkdir()
    shutil.copy(WRITE / "escalation.yaml", real)
    (tree / "app.yaml").unlink()
    (tree / "app.yaml").symlink_to(real)
    assert _fix(tree) == 0
    assert (tree / "app.yaml").is_symlink()
    assert "allowPrivilegeEscalation: false" in real.read_text()


def test_the_chart_override_is_never_written_through_a_link_out_of_the_chart(tmp_path, capsys):
    chart = tmp_path / "demo"
    shutil.copytree(FIXTURES / "trace" / "demo", chart)
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("# not kubevet's\n")
    (chart / "kubevet.values.yaml").symlink_to(elsewhere)
    code = main(["fix", "--select", "KV101,KV105,KV106", "--unsafe-fixes", str(chart)])
    out = capsys.readouterr().out
    assert code == 2
    assert elsewhere.read_text() == "# not kubevet's\n"
    # Reading refuses first: Helm would read the linked file as a chart file. (The writer
    # refuses such a link too, should a chart ever get past the reader.)
    link = chart / "kubevet.values.yaml"
    assert f"{link}: symbolic link to {elsewhere}, outside the chart directory {chart}" in out
    assert "wrote" not in out


def test_fix_on_a_chart_archive_is_a_clear_error(tmp_path, capsys):
    archive = tmp_path / "demo-0.1.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(FIXTURES / "trace" / "demo", arcname="demo")
    before = archive.read_bytes()
    code = main(["fix", "--select", "KV105", "--unsafe-fixes", str(archive)])
    out = capsys.readouterr().out
    assert code == 2
    assert archive.read_bytes() == before
    assert f"error: {archive}: a chart archive has no directory" in out
    assert "--output" in out
    override = tmp_path / "override.yaml"
    args = ["fix", "--select", "KV105", "--unsafe-fixes", str(archive), "--output", str(override)]
    assert main(args) in (0, 1)
    assert "privileged: false" in override.read_text()


def test_one_run_reaches_the_fixed_point(tree, capsys):
    target = tree / "app.yaml"
    assert _fix(target) == 0
    once = target.read_bytes()
    assert b"privileged: false" in once and b"allowPrivilegeEscalation: false" in once
    capsys.readouterr()
    assert _fix(target) == 0
    assert target.read_bytes() == once
    assert "fixed" not in capsys.readouterr().out  # a second run finds nothing to fix


def test_upgrade_fix_write_failure_keeps_the_original(tmp_path, monkeypatch, capsys):
    target = tmp_path / "removed.yaml"
    shutil.copy(UP / "removed-1.22.yaml", target)
    before = target.read_bytes()

    def full_disk(at: str, path: str) -> None:
        if at == "write":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    monkeypatch.setattr(safewrite, "fault", full_disk)
    code = main(["upgrade", "--to", "1.29", "--fix", str(target)])
    out = capsys.readouterr()
    assert code == 2
    assert target.read_bytes() == before
    assert "No space left on device" in out.out + out.err
    assert _leftovers(tmp_path) == []


def test_upgrade_fix_never_writes_through_a_link_out_of_the_tree(tmp_path, capsys):
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    outside = tmp_path / "removed.yaml"
    shutil.copy(UP / "removed-1.22.yaml", outside)
    before = outside.read_bytes()
    (deploy / "link.yaml").symlink_to(outside)
    code = main(["upgrade", "--to", "1.29", "--fix", str(deploy)])
    out = capsys.readouterr()
    assert code == 2
    assert outside.read_bytes() == before
    assert "a symlink leads it to" in out.out + out.err


def _kept_in_order(old: list[bytes], new: list[bytes]) -> bool:
    it = iter(new)
    return all(any(line == n for n in it) for line in old)


def test_fix_keeps_crlf_line_ends_and_the_byte_order_mark(tmp_path):
    target = tmp_path / "win.yaml"
    shutil.copy(WRITE / "crlf-bom.yaml", target)
    before = target.read_bytes()
    assert _fix(target) == 0
    after = target.read_bytes()
    assert after.startswith(codecs.BOM_UTF8)
    assert after.count(b"\n") == after.count(b"\r\n")  # no bare LF anywhere
    untouched = [ln for ln in before.splitlines(True) if b"privileged" not in ln]
    assert _kept_in_order(untouched, after.splitlines(True))
    assert b"            privileged: false\r\n" in after
    assert b"            allowPrivilegeEscalation: false\r\n" in after


def test_fix_keeps_the_ending_of_each_untouched_line_in_a_mixed_file(tmp_path):
    target = tmp_path / "mixed.yaml"
    lines = (WRITE / "escalation.yaml").read_bytes().splitlines(True)
    mixed = [ln.replace(b"\n", b"\r\n") if i % 3 else ln for i, ln in enumerate(lines)]
    target.write_bytes(b"".join(mixed))
    assert _fix(target) == 0
    after = target.read_bytes().splitlines(True)
    assert _kept_in_order([ln for ln in mixed if b"privileged" not in ln], after)


def test_a_flow_node_is_edited_on_its_own_span_and_nothing_else_moves(tmp_path):
    target = tmp_path / "flow.yaml"
    shutil.copy(WRITE / "flow.yaml", target)
    before = target.read_text().splitlines(True)
    assert _fix(target) == 0
    after = target.read_text().splitlines(True)
    assert len(after) == len(before)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert [b for _a, b in changed] == [
        "            securityContext: {privileged: false, runAsNonRoot: true, "
        "allowPrivilegeEscalation: false}   # edited in place\n",
        '        -   {name: side, image: "registry.example/side:1.0", securityContext: '
        "{allowPrivilegeEscalation: false}}\n",
    ]


def test_upgrade_fix_keeps_crlf_line_ends_and_the_byte_order_mark(tmp_path):
    lf, crlf = tmp_path / "lf.yaml", tmp_path / "crlf.yaml"
    text = (UP / "commented.yaml").read_text()
    lf.write_text(text)
    crlf.write_bytes(codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode())
    for path in (lf, crlf):
        main(["upgrade", "--to", "1.29", "--fix", str(path)])
    converted = crlf.read_bytes()
    assert converted.startswith(codecs.BOM_UTF8)
    assert converted.count(b"\n") == converted.count(b"\r\n")
    assert converted[3:].replace(b"\r\n", b"\n") == lf.read_bytes()  # the same rewrite
    assert lf.read_text() != text


def test_a_chart_fix_reaches_its_fixed_point_in_one_run(tmp_path, capsys):
    """Fixing with the written override as the user's values finds nothing more to fix."""
    demo = FIXTURES / "trace" / "demo"
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    args = ["fix", "--select", "KV101,KV105,KV106", "--unsafe-fixes", str(demo)]
    main([*args, "--output", str(first)])
    written = first.read_text()
    assert "allowPrivilegeEscalation: false" in written.split("\nsub:")[0]  # round two's fix
    capsys.readouterr()
    main([*args, "-f", str(first), "--output", str(second)])
    assert "override sets 0 fixes" in capsys.readouterr().out
    assert not second.exists() or second.read_text() == written


def test_a_linked_chart_directory_found_in_a_walk_gets_no_override(tmp_path, capsys):
    """`fix DIR` where DIR/app links to a chart elsewhere: the chart is checked, but the
    override would land outside DIR, so it is refused."""
    chart = tmp_path / "elsewhere" / "demo"
    shutil.copytree(FIXTURES / "trace" / "demo", chart)
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "app").symlink_to(chart, target_is_directory=True)
    code = main(["fix", "--select", "KV105", "--unsafe-fixes", str(deploy)])
    out = capsys.readouterr().out
    assert code == 2
    assert not (chart / "kubevet.values.yaml").exists()
    assert f"{deploy}/app/kubevet.values.yaml: not written, left as it was: a symlink" in out


def test_upgrade_fix_twice_is_upgrade_fix_once(tmp_path):
    target = tmp_path / "removed.yaml"
    shutil.copy(UP / "removed-1.22.yaml", target)
    main(["upgrade", "--to", "1.29", "--fix", str(target)])
    once = target.read_bytes()
    main(["upgrade", "--to", "1.29", "--fix", str(target)])
    assert target.read_bytes() == once
    assert once != (UP / "removed-1.22.yaml").read_bytes()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_the_written_file_keeps_its_owner(tree):
    target = tree / "app.yaml"
    os.chown(target, 4321, 4322)
    assert _fix(target) == 0
    st = target.stat()
    assert (st.st_uid, st.st_gid) == (4321, 4322)
    assert "allowPrivilegeEscalation: false" in target.read_text()


def test_an_override_into_a_missing_directory_is_an_error_naming_it(tmp_path, capsys):
    output = tmp_path / "missing" / "override.yaml"
    demo = FIXTURES / "trace" / "demo"
    code = main(["fix", "--select", "KV105", "--unsafe-fixes", str(demo), "--output", str(output)])
    assert code == 2  # said before any work, as for a report
    err = capsys.readouterr().err
    assert f"cannot write {output}: directory {output.parent} does not exist" in err
    assert not output.parent.exists()
