"""The copy of a chart that marker renders load: subchart archives expanded, no schemas,
no NOTES.txt, and (with `only`) the manifest templates no finding comes from emptied.

The copy's templates (most of a chart's files), subchart archives and other files (README,
.helmignore, Chart.lock) are hard links to the chart's own wherever the link can be made:
a file created on disk cost about 1-2 ms here (gitlab's 597 files: 1.25 s to copy, 0.12 s
to link), more than most charts' marker renders together. So nothing in the copy is ever
written in place: a changed file is a new entry put where the link was (`_move_into`,
`_empty_others`), and the chart stays as it was. Files of the kinds `kubevet fix` writes
(YAML and JSON: Chart.yaml, values, an override; scripts, patches) are copied: a copy left
behind by a killed run then holds no second link to a file `fix` may write (it leaves
files with other hard links alone).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

from kubevet.sources.reader import leaves
from kubevet.tempdirs import chart_workdir


def copy_for_markers(path: str, only: frozenset[str] | None = None) -> tuple[str, str]:
    """(workdir to remove, chart dir) of a copy with subchart archives expanded (so their
    schemas go too and their template lines can be read) and without values.schema.json or
    NOTES.txt anywhere; with `only`, the other manifest templates are emptied
    (`_empty_others`)."""
    import helm_python

    workdir = chart_workdir()
    if os.path.isdir(path):
        local = os.path.join(workdir, "chart")
        archives = _link_tree(path, local)
    else:
        helm_python.expand(workdir, path)
        local = os.path.join(workdir, os.listdir(workdir)[0])
        archives = [
            os.path.join(root, name)
            for root, _dirs, files in os.walk(local)
            for name in files
            if os.path.basename(root) == "charts" and name.endswith(".tgz")
        ]
    for file in archives:
        _expand_into(os.path.dirname(file), file)
        os.remove(file)
    expanded = {os.path.dirname(file) for file in archives}
    for top in sorted(expanded) if os.path.isdir(path) else [local]:
        _drop_schemas_and_notes(top)  # the linked tree has none
    if only is not None:
        _empty_others(local, only)
    return workdir, local


def _drop_schemas_and_notes(top: str) -> None:
    for root, _dirs, files in os.walk(top):
        for name in files:
            if _left_out(name, os.path.basename(root)):
                os.remove(os.path.join(root, name))


def _left_out(name: str, folder: str) -> bool:
    """values.schema.json anywhere, NOTES.txt in a templates folder: not in the copy."""
    return name == "values.schema.json" or (name == "NOTES.txt" and folder == "templates")


def _link_tree(source: str, target: str) -> list[str]:
    """`target`: `source` with templates, subchart archives and the files of kinds `fix`
    never writes hard-linked (copied where a link cannot be made: another file system, a
    file the user may not link), the rest copied, schemas and notes left out; links
    inside are followed, those leading out of the chart are left out (as the chart's own
    loading refuses them). The copy's subchart archives (`charts/*.tgz`), in walk order.
    Walked with scandir: shutil.copytree made a relative path and a stat per file, and
    two more walks found the archives, schemas and notes (the corpus's 60 copies: 0.257
    CPU s then, 0.203 with this walk)."""
    base = os.path.realpath(source)
    archives: list[str] = []

    def copy(folder: str, to: str, named: str, in_templates: bool) -> None:
        """`named`: the folder's name in the copy ("" for the chart's own)."""
        os.mkdir(to)
        with os.scandir(folder) as entries:
            listed = list(entries)
        for entry in listed:
            name, into = entry.name, os.path.join(to, entry.name)
            if _left_out(name, named) or (entry.is_symlink() and leaves(base, entry.path)):
                continue
            if entry.is_dir():  # a link to a folder inside is followed
                copy(entry.path, into, name, in_templates or name == "templates")
            elif named == "charts" and name.endswith(".tgz"):
                _link_or_copy(entry.path, into)
                archives.append(into)
            elif in_templates or not _FIX_WRITES.search(name):
                _link_or_copy(entry.path, into)
            else:
                shutil.copy2(entry.path, into)

    copy(source, target, "", False)
    return archives


# The kinds of file `kubevet fix` writes (values overrides, manifests, post-render sets
# and their script, template patches): copied, so that a copy a killed run left behind
# holds no second link to one (fix leaves files with other links alone). A new file costs
# ~1 ms here, a link ~0.02 ms: README.md, .helmignore, Chart.lock and the like, half of
# the corpus's copied files, are linked.
_FIX_WRITES = re.compile(r"\.(?:ya?ml|json|sh|patch)$", re.IGNORECASE)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)  # follows a link inside the chart to its file
    except OSError:
        shutil.copy2(source, target)


def _expand_into(directory: str, archive: str) -> None:
    """Expand a subchart archive into `directory` as Helm does (its files over any already
    there), without writing into the linked files: expanded beside, then moved in."""
    import helm_python

    fresh = tempfile.mkdtemp(dir=directory, prefix=".kubevet-")
    try:
        helm_python.expand(fresh, archive)
        for name in os.listdir(fresh):
            _move_into(os.path.join(fresh, name), os.path.join(directory, name))
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def _move_into(source: str, target: str) -> None:
    """Put `source` at `target`, merging directories; a file replaces the entry at its
    place (os.replace: the file that stood there, a link to the chart's, is not touched)."""
    if os.path.isdir(source) and os.path.isdir(target) and not os.path.islink(target):
        for name in os.listdir(source):
            _move_into(os.path.join(source, name), os.path.join(target, name))
        return
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    os.replace(source, target)


_DEFINE = re.compile(rb"{{-?\s*define\b")


def _empty_others(local: str, only: frozenset[str]) -> None:
    """Empty every manifest template of the copy but those named in `only` (the ones that
    rendered an object with a finding). Marker renders then skip the rest of the chart's
    work, and a marker that breaks only a template no finding comes from no longer fails
    the render (gitlab: 49 of 327 templates hold findings). A template reads another's
    output only by `include (print .Template.BasePath "/x.yaml")` (`.Files` excludes
    templates/): a template a kept one names so stays too, and where the copy still fails
    `trace_chart` traces the whole chart. An emptied one still renders (to nothing), so
    the chart's set of templates and values scopes stay. Helpers (`_*.tpl`) and any file
    holding a `define` stay whole."""
    from kubevet.trace.blame import template_file

    keep = {os.path.normpath(template_file(local, name)) for name in only}
    candidates: list[tuple[str, bytes]] = []
    kept_texts: list[bytes] = []
    readers: list[bytes] = []  # the templates kept for their findings
    for root, _dirs, files in os.walk(local):
        if not _in_templates(os.path.relpath(root, local).split(os.sep)):
            continue
        for name in files:
            file = os.path.normpath(os.path.join(root, name))
            with open(file, "rb") as fh:
                text = fh.read()
            if name.startswith("_") or file in keep or _DEFINE.search(text):
                kept_texts.append(text)
                if file in keep:
                    readers.append(text)
            else:
                candidates.append((file, text))
    empty = os.path.join(os.path.dirname(local), ".kubevet-empty")  # outside the chart
    paths = _path_tails(kept_texts)
    mutating = _mutating_defines(kept_texts, readers)
    for file, text in candidates:
        if not _named_in(file, paths, kept_texts) and not _mutates(text, mutating):
            if not os.path.exists(empty):
                open(empty, "xb").close()
            os.remove(file)  # the link to the chart's file, then one to the empty file:
            _link_or_copy(empty, file)  # a new file costs ~1 ms here, a link ~0.02 ms


def _named_in(file: str, paths: set[bytes], texts: list[bytes]) -> bool:
    """Whether a kept template names this one, as `include (print .Template.BasePath
    "/configmap.yaml")` does to read its output: it is then kept too. Not where every
    mention only hashes the output (`... | sha256sum`, the checksum annotation): a hash
    shows no marker, and the template's own work (gitlab's and harbor's generate TLS keys
    there) would cost every marker render, and fail some, for nothing. `paths`: the
    kept texts' path tails (`_path_tails`), looked up first (rarely named)."""
    parts = file.split(os.sep)
    rel = "/".join(parts[len(parts) - 1 - parts[::-1].index("templates") + 1 :])
    needle = ("/" + rel).encode()
    return needle in paths and any(
        text.count(needle) > _hashed(text).count(needle) for text in texts if needle in text
    )


_PATH_RUN = re.compile(rb"/[\w./-]*")  # a run of path characters from its first `/`


def _path_tails(texts: list[bytes]) -> set[bytes]:
    """Each run of path characters in the texts from each of its `/` to its end: a
    template named as `"/sub/x.yaml"` is one of them (one pass over the kept texts, where
    a search of them all per template took a tenth of the copy's time on the corpus)."""
    out: set[bytes] = set()
    for text in texts:
        for run in _PATH_RUN.findall(text):
            at = 0
            while at != -1:
                out.add(run[at:])
                at = run.find(b"/", at + 1)
    return out


# A write into `.Values` (gitea's config secret includes a helper that does `set
# .Values.gitea.config "server" dict`) changes what the templates rendered after it read:
# such a template, or one including a define that does it, stays whole (emptied, gitea's
# statefulset failed every render). Not `merge .Values.a .Values.global.a`: written back
# too, but in the idiom of reading two maps together (`range $k, $v := merge ...`, five
# of gitlab's ingresses), whose readers merge the same maps themselves.
# Searched from its literal `set` and the word start checked after: a pattern opening with
# `\b(?:set|unset)` has no literal to skip ahead to (9x slower over the corpus's templates).
_MUTATES = re.compile(rb"set\s+\(?\s*\$?\.Values\b")
_WORD = re.compile(rb"\w")


def _writes_values(text: bytes) -> bool:
    """Whether the text has `set .Values` or `unset .Values` (each a word of its own)."""
    for m in _MUTATES.finditer(text):
        at = m.start()
        if at >= 2 and text[at - 2 : at] == b"un":
            at -= 2
        if at == 0 or not _WORD.match(text, at - 1):
            return True
    return False


_DEFINE_NAME = re.compile(rb'{{-?\s*define\s+"([^"]+)"')
_CALLS = re.compile(rb'\b(?:include|template)\s+"([^"]+)"')


def _mutating_defines(helpers: list[bytes], readers: list[bytes]) -> set[bytes]:
    """The defines that write into `.Values`, themselves or by what they include, but
    for those a kept template (`readers`) runs itself: gitlab's webservice templates each
    run `webservice.datamodel.prepare` first, so an emptied one that runs it too changes
    nothing. A define's body is taken to run to the next define (an `end` closes other
    blocks too): a little more than the body, never less."""
    if not any(_writes_values(text) for text in helpers):
        return set()
    bodies: dict[bytes, bytes] = {}
    for text in helpers:
        parts = _DEFINE_NAME.split(text)  # text before, then name, body, name, body, ...
        bodies.update(zip(parts[1::2], parts[2::2], strict=True))
    run = _closure({n for text in readers for n in _CALLS.findall(text)}, bodies)
    writers = {name for name, body in bodies.items() if _writes_values(body)} - run
    out = set(writers)
    while more := {n for n, b in bodies.items() if n not in out and _calls(b, out)}:
        out |= more
    return out


def _closure(names: set[bytes], bodies: dict[bytes, bytes]) -> set[bytes]:
    """`names` and every define they include, directly or not."""
    out, todo = set(names), list(names)
    while todo:
        for called in _CALLS.findall(bodies.get(todo.pop(), b"")):
            if called not in out:
                out.add(called)
                todo.append(called)
    return out


def _calls(text: bytes, names: set[bytes]) -> bool:
    return any(name in names for name in _CALLS.findall(text))


def _mutates(text: bytes, defines: set[bytes]) -> bool:
    """Whether a template writes into `.Values`, itself or through a define it includes."""
    return _writes_values(text) or (bool(defines) and _calls(text, defines))


# `include (print $.Template.BasePath "/x.yaml") . | sha256sum`: only the hash is used.
_HASHED = re.compile(
    rb'include\s*\(\s*print\s+\$?\.Template\.BasePath\s+"(/[^"]*)"\s*\)'
    rb"\s*[$.\w]*\s*\|\s*sha256sum\b"
)


def _hashed(text: bytes) -> list[bytes]:
    """The template paths a text includes only to hash them, once per such include."""
    return _HASHED.findall(text)


def _in_templates(parts: list[str]) -> bool:
    """`templates/...` of the chart or of a subchart (`charts/<sub>/templates/...`), not a
    `templates` folder among a chart's files."""
    while len(parts) >= 2 and parts[0] == "charts":
        parts = parts[2:]
    return bool(parts) and parts[0] == "templates"
