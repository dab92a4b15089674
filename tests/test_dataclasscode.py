"""dataclasses' generated methods run from code compiled once and kept in a file
(kubevet.dataclasscode): the same methods as compiled in the process, and a file that is
missing, of another Python or broken is no file."""

from __future__ import annotations

import dataclasses

import pytest

from kubevet import dataclasscode


@pytest.fixture
def held(tmp_path, monkeypatch):
    """dataclasses running through dataclasscode, its file in tmp_path, nothing held."""
    path = str(tmp_path / "__pycache__" / "dataclasses.bin")
    monkeypatch.setattr(dataclasscode, "cache_file", lambda: path)
    monkeypatch.setattr(dataclasscode, "_CODES", {})
    monkeypatch.setattr(dataclasscode, "_STATE", {"new": False})
    monkeypatch.setattr(dataclasscode.sys, "dont_write_bytecode", False)
    assert "exec" not in vars(dataclasses)
    dataclasscode.use()
    yield path
    del dataclasses.exec  # type: ignore[attr-defined]


def _point() -> type:
    @dataclasses.dataclass(frozen=True)
    class Point:
        """A point."""

        x: int
        y: list[int] = dataclasses.field(default_factory=list, compare=False)

    return Point


def test_a_class_is_the_same_from_compiled_and_from_held_code(held):
    first = _point()
    assert dataclasscode._STATE["new"]
    dataclasscode.save()
    dataclasscode._CODES.clear()
    dataclasscode._CODES.update(dataclasscode._load(held))
    assert dataclasscode._CODES
    again = _point()
    assert not dataclasscode._STATE["new"], "every method's code was held"
    for cls in (first, again):
        p = cls(1)
        assert (repr(p), p == cls(1), p == cls(2), hash(p) == hash(cls(1))) == (
            "_point.<locals>.Point(x=1, y=[])",
            True,
            False,
            True,
        )
        assert p.y is not cls(1).y  # the default factory runs per instance
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.x = 2  # type: ignore[misc]


@pytest.mark.parametrize("content", [b"", b"not marshal", None])
def test_a_missing_foreign_or_broken_file_holds_nothing(tmp_path, content):
    path = tmp_path / "dataclasses.bin"
    if content is not None:
        path.write_bytes(content)
    assert dataclasscode._load(str(path)) == {}
    path.write_bytes(dataclasscode._HEADER + b"\xff\x00")
    assert dataclasscode._load(str(path)) == {}


def test_nothing_is_written_where_python_writes_no_bytecode(held, monkeypatch):
    monkeypatch.setattr(dataclasscode.sys, "dont_write_bytecode", True)
    _point()
    dataclasscode.save()
    assert dataclasscode._load(held) == {}
