"""Which values nodes could feed the fields behind a chart's findings: only those are marked.

A marker render answers "where does this values node land"; tracing only asks that about
the fields its findings name. A node that cannot land in one of them is not marked, so it
can neither cost the bisection of a render it breaks (umbrella charts validate thousands
of strings) nor hide another marker's landing:
- a non-empty string leaf feeds a field only if the field's rendered text holds its value
  (compared case-folded, for `lower`/`upper`; a string shorter than SHORT, or a number,
  only as the whole text or a word of it); `true` only when it is named like a step of a
  finding's path (as the probes find bool leaves);
- an empty string leaf renders nothing to compare, so it is kept when its key is named
  like a step of a finding's path (`priorityClassName: ""` behind an `if`,
  `namespaceOverride: ""` behind `default`);
- a map feeds a field through `toYaml` at one of the field's ancestors, which then holds
  every key of the map: kept when some ancestor map of a finding has all its keys, or when
  the map is named like a step of a finding's path (an empty map, or one switched on with
  `enabled: true`, renders where nothing stood before). A path missing from the values is
  made up as a map only when a step of it is named so (it has no keys to compare either).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from kubevet.model import K8sObject, Path
from kubevet.trace.nodes import nodes_on

SHORT = 4  # strings shorter than this must be a whole text or word of a field
_TOKEN = re.compile(r"[\w.+-]+")


class Wanted:
    """The rendered text, path steps and ancestor maps of the fields findings name."""

    def __init__(self, fields: Iterable[tuple[K8sObject, Path]]) -> None:
        texts: list[str] = []
        self._maps: dict[str, list[frozenset[str]]] = {}  # a key -> ancestor key sets
        seen: set[frozenset[str]] = set()
        steps: set[str] = set()
        done: set[int] = set()  # ancestor maps already read (fields share most of theirs)
        for obj, path in fields:
            steps.update(p.casefold() for p in path if isinstance(p, str) and len(p) >= 3)
            nodes = nodes_on(obj.data, path)
            if len(nodes) > len(path) and not isinstance(nodes[-1], dict | list):
                texts.append(_text(nodes[-1]))
            for node in nodes:
                if isinstance(node, dict) and node and id(node) not in done:
                    done.add(id(node))
                    keys = frozenset(str(k) for k in node)
                    if keys not in seen:
                        seen.add(keys)
                        for k in keys:
                            self._maps.setdefault(k, []).append(keys)
        self._named: dict[str, bool] = {}
        self._texts = "\0".join(texts)  # one C-speed substring search per leaf
        self._steps = frozenset(steps)
        self._tokens = frozenset(_TOKEN.findall(self._texts))  # numbers as whole words
        self._whole = frozenset(texts)

    def leaf(self, path: Path, node: Any) -> bool:
        if isinstance(node, str):
            if not node:
                return self.named(path)
            text = node.casefold()
            if len(text) < SHORT:  # `/`, `ee`: inside most texts, so only whole ones
                return text in self._whole or text in self._tokens
            return text in self._texts
        if isinstance(node, bool):
            return self.named(path)
        return _text(node) in self._tokens

    def map(self, path: Path, node: dict[str, Any]) -> bool:
        """A map that renders with `toYaml` at a finding's ancestor (all its keys are
        there), or one named like a step of a finding's path (an empty map renders no
        key to compare: `podSecurityContext: {}` -> `securityContext`)."""
        keys = [str(k) for k in node]
        if keys and any(all(k in have for k in keys) for have in self._maps.get(keys[0], ())):
            return True
        return self.named(path)

    def made_up(self, path: Path) -> bool:
        """A map for a path missing from the values: made up where some step of the path
        is named like a step of a finding's (consul's `server.containerSecurityContext
        .server: null`); as for an empty map, there are no keys to compare."""
        return any(self.named((step,)) for step in path)  # `named` reads the last step

    def named(self, path: Path) -> bool:
        """`podSecurityContext`, `containerSecurityContext`, `resources`: the map's key
        and a step of a finding's path, one inside the other (case-folded)."""
        name = str(path[-1]).casefold() if path else ""
        known = self._named.get(name)
        if known is None:  # values trees repeat their key names (`enabled`, `image`)
            known = self._named[name] = bool(name) and any(
                s in name or name in s for s in self._steps
            )
        return known


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()
