"""Lever 3 proven: the merged template change applied to a copy of the chart, rendered
with the user's values and checked again; blocks that change anything else or raise a
rule's count are dropped (with the reason) and the rest proven again."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from kubevet.findings import Edit, Finding
from kubevet.fix.chart import (
    noise_roots,
    object_roots,
    object_vanish,
    unstable_names,
    verify_render,
)
from kubevet.fix.choose import check, finding_key
from kubevet.fix.gate import object_ident, rises, withdrawal_reason
from kubevet.fix.templatepatch import Block, chart_dir_of, edit_texts, plan, unified_diff
from kubevet.fix.verify import identity

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.runner import RunSettings

MAX_ATTEMPTS = 4  # renders of the changed copy, each after dropping what failed


@dataclass
class TemplateResult:
    diff: str = ""  # one patch for every file changed, paths relative to `base`
    base: str = ""
    fixed: list[Finding] = field(default_factory=list)  # gone after the re-render
    refused: list[tuple[Finding, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def template_fix(
    chart: str,
    group: InputGroup,
    findings: list[Finding],
    fixes: list[tuple[Finding, tuple[Edit, ...]]],
    settings: RunSettings,
) -> TemplateResult:
    """The template change for `fixes`, proven on a copy of `chart` against `group` (the
    chart rendered with the user's values) and its `findings`."""
    from kubevet.sources.helm import load_chart

    result = TemplateResult(base=_base(chart))
    planned = plan(fixes)
    result.refused += planned.refused
    blocks = planned.blocks
    again = load_chart(chart, settings.helm)  # what varies between renders anyway
    noise = noise_roots(group.objects, again.objects)
    unstable = unstable_names(group.objects, again.objects)
    for _attempt in range(MAX_ATTEMPTS):
        if not blocks:
            return result
        texts = edit_texts(blocks, _taken(blocks, group))
        new, problems = _render_copy(chart, texts, settings)
        if new is not None:
            applied = [(f, f.fix.edits) for b in blocks for f in b.findings if f.fix]
            roots = object_roots(applied)
            for ident, paths in noise.items():
                roots.setdefault(ident, []).extend(paths)
            version = settings.options.kube_version
            vanish = object_vanish(applied)
            problems = verify_render(group.objects, new.objects, roots, version, unstable, vanish)
        bad = _failing(blocks, problems, chart)
        if not bad and new is not None:
            after = check(new, settings)
            bad = _raising(blocks, rises(findings, after))
            if not bad:
                left = _left_keys(after, unstable, {identity(o.data) for o in group.objects})
                fixed = [f for b in blocks for f in b.findings]
                result.fixed = [f for f in fixed if _key(f, unstable) not in left]
                result.diff = unified_diff(texts, result.base)
                result.files = sorted(texts)
                return result
        result.refused += [(f, why) for b, why in bad for f in b.findings]
        dropped = {id(b) for b, _why in bad}
        blocks = [b for b in blocks if id(b) not in dropped]
    result.refused += [(f, "not proven in time") for b in blocks for f in b.findings]
    return result


def _key(f: Finding, unstable: set[Any]) -> tuple[Any, ...]:
    """The finding's key; on an object named anew by every render, without the name."""
    key = finding_key(f)
    return (*key[:2], None, *key[3:]) if object_ident(f) in unstable else key


def _left_keys(after: list[Finding], unstable: set[Any], first: set[Any]) -> set[tuple[Any, ...]]:
    """The keys of the findings left; one on an object the first render did not have
    (a randomly named object come back renamed) also under the nameless key, so a
    finding there is not taken for gone because its object changed its name."""
    out = {finding_key(f) for f in after}
    renamed = {k[0] for k in unstable}
    for f in after:
        ident = object_ident(f)
        if ident not in first and ident[0] in renamed:
            out.add(_key(f, {ident}))
    return out


def _base(chart: str) -> str:
    """Where the patch's paths start: the working directory when the chart is inside it
    (run `git apply` there), else the directory holding the chart."""
    here = os.path.abspath(os.getcwd())
    full = os.path.abspath(chart)
    return here if full.startswith(here.rstrip(os.sep) + os.sep) else os.path.dirname(full)


def _taken(blocks: list[Block], group: InputGroup) -> dict[str, set[str]]:
    """Top-level values keys each chart already has (new keys must not collide)."""
    out: dict[str, set[str]] = {}
    for b in blocks:
        chart = chart_dir_of(b.file)
        if chart not in out:
            try:
                with open(os.path.join(chart, "values.yaml"), encoding="utf-8") as fh:
                    values = yaml.safe_load(fh) or {}
            except (OSError, yaml.YAMLError):
                values = {}
            out[chart] = set(values) if isinstance(values, dict) else set()
    return out


def _render_copy(chart: str, texts: dict[str, str], settings: RunSettings) -> tuple[Any, list[str]]:
    """The chart copied with `texts` written into it, rendered (or the render errors)."""
    from kubevet.sources.helm import load_chart

    root = os.path.abspath(chart)
    with tempfile.TemporaryDirectory(prefix="kubevet-template-") as tmp:
        copy = os.path.join(tmp, os.path.basename(root))
        shutil.copytree(root, copy, symlinks=True)
        for path, text in texts.items():
            with open(os.path.join(copy, os.path.relpath(path, root)), "w", encoding="utf-8") as fh:
                fh.write(text)
        new = load_chart(copy, settings.helm)
    if new.errors:
        return None, [f"the changed chart does not render: {e}" for e in new.errors]
    return new, []


def _failing(blocks: list[Block], problems: list[str], chart: str) -> list[tuple[Block, str]]:
    """The blocks on the objects the problems name, else in the template files a render
    error names (a duplicate key in one file sinks only that file's blocks), else all."""
    if not problems:
        return []
    out = []
    root = os.path.abspath(chart)
    for b in blocks:
        named = [
            p
            for p in problems
            if any(p.startswith(f"{f.object.kind} {f.object.name}:") for f in b.findings)
        ]
        if named:
            out.append((b, named[0]))
    if out:
        return out
    for b in blocks:
        rel = os.path.relpath(b.file, root).replace(os.sep, "/")
        named = [p for p in problems if f"/{os.path.basename(root)}/{rel}:" in p]
        if named:
            out.append((b, named[0]))
    return out or [(b, problems[0]) for b in blocks]


def _raising(blocks: list[Block], rising: dict[str, list[Finding]]) -> list[tuple[Block, str]]:
    hit = {object_ident(f): (code, [f]) for code, new in rising.items() for f in new}
    out = []
    for b in blocks:
        why = next((hit[object_ident(f)] for f in b.findings if object_ident(f) in hit), None)
        if why:
            out.append((b, withdrawal_reason(*why)))
    if rising and not out:
        code, new = next(iter(rising.items()))
        out = [(b, withdrawal_reason(code, new)) for b in blocks]
    return out
