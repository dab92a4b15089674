"""Fix manifest files in place: each document edited as text, then every result proven."""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from kubevet.findings import Edit, Finding
from kubevet.fix.edits import apply_edits, edit_roots
from kubevet.fix.verify import identity_problems, verify_object
from kubevet.model import Path, get_path


@dataclass
class FileResult:
    path: str
    old: str
    new: str
    applied: list[Finding] = field(default_factory=list)
    rejected: list[tuple[Finding, str]] = field(default_factory=list)
    reformatted: bool = False

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.old.splitlines(keepends=True),
                self.new.splitlines(keepends=True),
                self.path,
                self.path,
            )
        )


def fix_file(
    path: str, text: str, chosen: list[tuple[Finding, tuple[Edit, ...]]], version: str | None
) -> FileResult:
    """Apply the chosen findings' edits to `text` (one manifest file), document by document.

    A document whose edited text does not parse back to exactly the expected objects, or
    whose objects fail verification, is left as it was and its findings are rejected.
    """
    from kubevet.sources.yamldocs import _split

    chunks = [c for c, _line in _split(text)]
    result = FileResult(path, text, text)
    by_chunk: dict[tuple[int, int], list[tuple[Finding, tuple[Edit, ...]]]] = defaultdict(list)
    for f, edits in chosen:
        doc = getattr(f.obj, "source", None)
        where = _chunk_of(chunks, doc)
        if where is None:
            result.rejected.append((f, "the object's document was not found in the file"))
            continue
        if doc.prefix:  # an item of a List: its edits land under its place in the document
            edits = tuple(replace(e, path=(*doc.prefix, *e.path)) for e in edits)
        by_chunk[where].append((f, edits))
    for (ci, index), items in sorted(by_chunk.items()):
        chunks[ci] = _fix_chunk(chunks[ci], index, items, version, result)
    result.new = "".join(chunks)
    return result


def _chunk_of(chunks: list[str], doc: Any) -> tuple[int, int] | None:
    if doc is None:
        return None
    line = 1
    for i, chunk in enumerate(chunks):
        if line == doc.first_line and chunk == doc.text:
            return i, doc.index
        line += chunk.count("\n")
    return None


def _fix_chunk(
    chunk: str,
    index: int,
    items: list[tuple[Finding, tuple[Edit, ...]]],
    version: str | None,
    result: FileResult,
) -> str:
    from kubevet.fix.yamltext import edit_document

    before = _docs(chunk)
    edits = [e for _f, es in items for e in es]
    try:
        new, reformatted = edit_document(chunk, index, edits)
        after = _docs(new)
    except Exception as exc:  # a text edit kubevet cannot make is reported, never written
        result.rejected.extend((f, f"could not edit the YAML: {exc}") for f, _ in items)
        return chunk
    items_at = {f.obj.source.prefix for f, _ in items if f.obj.source.prefix}
    problems = _check(before, after, index, edits, version, items_at)
    if problems:
        result.rejected.extend((f, "; ".join(problems)) for f, _ in items)
        return chunk
    result.applied.extend(f for f, _ in items)
    result.reformatted |= reformatted
    return new


def _docs(text: str) -> list[Any]:
    import yaml

    from kubevet.sources.yamldocs import _Loader

    return list(yaml.load_all(text, Loader=_Loader))


def _check(
    before: list[Any],
    after: list[Any],
    index: int,
    edits: list[Edit],
    version: str | None,
    items_at: set[Path] | frozenset[Path] = frozenset(),
) -> list[str]:
    """Why the edited documents may not replace the old ones; `items_at`: where the edited
    List items are, each proven as an object of its own too (schema, identity)."""
    if len(before) != len(after):
        return ["the number of documents changed"]
    problems = identity_problems(
        [d for d in before if isinstance(d, dict)], [d for d in after if isinstance(d, dict)]
    )
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        if i != index and b != a:
            problems.append(f"document {i + 1} changed although it had nothing to fix")
    if apply_edits(before[index], edits) != after[index]:
        problems.append("the edited text does not read back as the intended change")
    problems += verify_object(before[index], after[index], edit_roots(edits), version)
    for at in sorted(items_at, key=str):
        old, new = get_path(before[index], at), get_path(after[index], at)
        inside = [e.path[len(at) :] for e in edits if e.path[: len(at)] == at]
        if isinstance(old, dict) and isinstance(new, dict):
            problems += verify_object(old, new, [p or () for p in inside], version)
    return problems
