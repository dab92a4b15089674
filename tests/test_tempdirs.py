"""Temporary chart copies never outlive kubevet: removed when the process that made them
ends, however it ends short of SIGKILL, and swept by a later run when a killed process
left them (only kubevet's naming, only this user's directories, never a live process's)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from kubevet import tempdirs


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_copy_is_removed_when_its_process_ends_without_removing_it(tmp_path):
    code = (
        "import sys, tempfile; tempfile.tempdir = sys.argv[1]\n"
        "from kubevet.tempdirs import chart_workdir\n"
        "print(chart_workdir(), flush=True)\n"
        "raise KeyboardInterrupt  # stopped mid-run"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True
    )
    made = proc.stdout.strip()
    assert made.startswith(str(tmp_path / tempdirs.PREFIX)) and not os.path.exists(made)


def test_the_copy_is_named_with_its_process_id(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    made = tempdirs.chart_workdir()
    assert os.path.basename(made).startswith(f"kubevet-chart-{os.getpid()}-")
    os.rmdir(made)


def test_a_sweep_removes_only_what_killed_runs_left(tmp_path):
    dead, now = _dead_pid(), time.time()
    old = now - tempdirs.LIVE_FOR - 5
    made = {
        f"kubevet-chart-{dead}-abcd1234": (old, True),  # its process is gone: removed
        f"kubevet-chart-{dead}-young123": (now - 5, False),  # too young to tell
        f"kubevet-chart-{os.getpid()}-live1234": (old, False),  # a live process's
        "kubevet-chart-noprocid": (now - 7200, True),  # older naming, an hour old
        "kubevet-chart-noprocie": (now - 60, False),  # older naming, recent
        f"other-chart-{dead}-abcd1234": (old, False),  # not kubevet's naming
    }
    for name, (mtime, _) in made.items():
        path = tmp_path / name
        path.mkdir()
        (path / "chart").mkdir()
        os.utime(path, (mtime, mtime))
    link = tmp_path / f"kubevet-chart-{dead}-link1234"
    link.symlink_to(tmp_path / "kubevet-chart-noprocie")  # a link of that name: not followed
    os.utime(link, (old, old), follow_symlinks=False)
    removed = tempdirs.sweep(str(tmp_path), now=now)
    assert sorted(removed) == sorted(n for n, (_, gone) in made.items() if gone)
    for name, (_, gone) in made.items():
        assert (tmp_path / name).exists() is not gone
    assert link.is_symlink() and (tmp_path / "kubevet-chart-noprocie" / "chart").is_dir()


def test_a_sweep_of_a_directory_it_cannot_read_removes_nothing(tmp_path):
    assert tempdirs.sweep(str(tmp_path / "missing"), now=time.time()) == []


def test_copies_of_a_killed_worker_are_removed_by_its_pid_only(tmp_path):
    """What the caller removes after killing a render worker: that pid's directories of
    kubevet's naming, not another process's, not a link to a directory (not followed),
    not a file, not a name of another shape."""
    pid = _dead_pid()
    own = tmp_path / f"{tempdirs.PREFIX}{pid}-abcd1234"
    (own / "chart" / "templates").mkdir(parents=True)
    (own / "chart" / "templates" / "a.yaml").write_text("x: 1\n")
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    kept = [
        tmp_path / f"{tempdirs.PREFIX}{pid + 1}-abcd1234",  # another process's
        tmp_path / f"{tempdirs.PREFIX}{pid}-notmine",  # not mkdtemp's shape
    ]
    for path in kept:
        path.mkdir()
    link = tmp_path / f"{tempdirs.PREFIX}{pid}-link1234"
    link.symlink_to(target)
    file = tmp_path / f"{tempdirs.PREFIX}{pid}-file1234"
    file.write_text("")
    assert tempdirs.remove_made_by(pid, str(tmp_path)) == [own.name]
    assert not own.exists()
    assert all(p.exists() for p in [*kept, link, file]) and (target / "keep.txt").exists()
