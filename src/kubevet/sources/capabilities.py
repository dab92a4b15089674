"""`.Capabilities.APIVersions` as a cluster of the target release answers it.

Helm's offline render (helm template, and the SDK kubevet renders with) answers
`.Capabilities.APIVersions.Has` from a built-in list plus `--api-versions`: the list holds
group/versions long removed (policy/v1beta1) and others newer than an old target
(autoscaling/v2 for 1.20), and no kinds. kubevet adds what the target serves, kinds
included (kubevet.upgrade.served). What the built-in list claims beyond that cannot be taken
out through the SDK, so a chart whose templates ask for such a group/version is rendered
from a temporary copy in which that one string literal is changed to one nothing serves.
Lines stay where they were: the rewrite never adds or removes a line.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from collections.abc import Iterator
from functools import cache

# `.Capabilities.APIVersions.Has "x"` (any receiver) and sprig's `has "x" ...APIVersions`.
HAS = re.compile(
    r'(?P<a>APIVersions\.Has\s+)"(?P<x>[^"\n]+)"'
    r'|(?P<b>\bhas\s+)"(?P<y>[^"\n]+)"(?=\s+\(?[\w$.]*Capabilities\.APIVersions)'
)
MAX_TEMPLATE = 4 * 1024 * 1024  # larger "templates" are data, not version checks


@cache
def helm_default_api_versions() -> frozenset[str]:
    """The built-in list, read from Helm itself by rendering a one-template probe chart."""
    import helm_python
    from helm_python import _native

    files = {
        "probe/Chart.yaml": "apiVersion: v2\nname: probe\nversion: 0.1.0\n",
        "probe/templates/caps": "{{ toJson .Capabilities.APIVersions }}",
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with helm_python.Chart.load_archive(buf.getvalue()) as chart:
        out = json.loads(_native.call_string("helm_render", chart._raw(), "{}", "{}"))
    return frozenset(json.loads(out["probe/templates/caps"]))


def wrongly_served(path: str, served: set[str]) -> set[str]:
    """Group/versions the chart's templates ask about that Helm would claim served though
    the target (`served`) does not serve them."""
    leftovers = helm_default_api_versions() - served
    return {x for x in checked_api_versions(path) if x in leftovers}


def checked_api_versions(path: str) -> frozenset[str]:
    """Every literal that a template of the chart (subcharts and their archives included)
    passes to an APIVersions check."""
    # cached by where the chart really is and what its files are now: a relative path in
    # another working directory, or a chart edited between runs of one process, is new
    return _checked_api_versions(os.path.realpath(path), _signature(path))


def _signature(path: str) -> tuple[tuple[str, int, int], ...]:
    if os.path.isfile(path):
        st = os.stat(path)
        return (("", st.st_mtime_ns, st.st_size),)
    out = []
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue  # gone or unreadable: the read below reports what matters
            out.append((os.path.join(root, name), st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


@cache
def _checked_api_versions(path: str, _signature: tuple) -> frozenset[str]:
    found: set[str] = set()
    for text in _template_texts(path):
        if "APIVersions" not in text:  # both forms name it; the regex alone scans slowly
            continue
        for m in HAS.finditer(text):
            found.add(m.group("x") or m.group("y"))
    return frozenset(found)


def _template_texts(path: str) -> Iterator[str]:
    if os.path.isfile(path):
        with open(path, "rb") as fh:
            yield from _archive_texts(fh.read())
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in files:
            file = os.path.join(root, name)
            if os.path.islink(file) or os.path.getsize(file) > MAX_TEMPLATE:
                continue
            if name.endswith((".tgz", ".tar.gz")) and os.path.basename(root) == "charts":
                with open(file, "rb") as fh:
                    yield from _archive_texts(fh.read())
            elif "templates" in os.path.relpath(root, path).split(os.sep):
                with open(file, "rb") as fh:
                    yield fh.read().decode("utf-8", "replace")


def _archive_texts(data: bytes) -> Iterator[str]:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                if not member.isfile() or member.size > MAX_TEMPLATE:
                    continue
                fh = tar.extractfile(member)
                if fh is None:
                    continue
                if member.name.endswith((".tgz", ".tar.gz")) and "/charts/" in member.name:
                    yield from _archive_texts(fh.read())
                elif "/templates/" in member.name:
                    yield fh.read().decode("utf-8", "replace")
    except (tarfile.TarError, OSError, EOFError):
        return  # loading the chart reports the broken archive


def unserve(text: str, unserved: set[str], release: str) -> str:
    """`text` with each check of a group/version in `unserved` made false."""

    def swap(m: re.Match[str]) -> str:
        value = m.group("x") or m.group("y")
        if value not in unserved:
            return m.group(0)
        return f'{m.group("a") or m.group("b")}"{value} (not served by Kubernetes {release})"'

    return HAS.sub(swap, text)


def rewrite_copy(local: str, unserved: set[str], release: str) -> None:
    """Apply `unserve` to the templates of a chart copy at `local`, expanding subchart
    archives in place first so that their templates are rewritten too."""
    import helm_python

    for root, _dirs, files in os.walk(local):
        for name in files:
            if os.path.basename(root) == "charts" and name.endswith((".tgz", ".tar.gz")):
                helm_python.expand(root, os.path.join(root, name))
                os.remove(os.path.join(root, name))
    for root, _dirs, files in os.walk(local):
        if "templates" not in root[len(local) :].split(os.sep):
            continue
        for name in files:
            file = os.path.join(root, name)
            with open(file, encoding="utf-8", errors="surrogateescape") as fh:
                text = fh.read()
            new = unserve(text, unserved, release)
            if new != text:
                with open(file, "w", encoding="utf-8", errors="surrogateescape") as fh:
                    fh.write(new)


def impossible_checks(path: str) -> list[str]:
    """APIVersions checks of the chart that no Kubernetes release can answer true: a
    group/version/kind of a built-in group that was never served (a misspelt kind)."""
    import difflib

    from kubevet.upgrade.served import load_served

    served = load_served()
    out = []
    for checked in sorted(checked_api_versions(path)):
        api, _, kind = checked.rpartition("/")
        if "/" not in api and not api.startswith("v"):
            api, kind = checked, ""  # group/version only
        if not kind or not served.ships_group(api.rpartition("/")[0] if "/" in api else ""):
            continue
        if served.serving_releases(api, kind):
            continue
        near = difflib.get_close_matches(kind, served.kinds_of(api), n=1, cutoff=0.85)
        hint = f" (did you mean {api}/{near[0]}?)" if near else ""
        out.append(
            f'templates check .Capabilities.APIVersions.Has "{checked}", which no '
            f"Kubernetes release serves{hint}"
        )
    return out
