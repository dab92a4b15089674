"""The module graph of src/kubevet: no import cycle, rules independent of sources, reporters
and commands, no module too long to read.

Edges are read with `ast` from every `import` statement, at module level and inside
functions (a lazy import is still a dependency: it only moves the moment it runs); imports
under `if TYPE_CHECKING:` are left out, since they never run. Dispatch by name through
`importlib` (cli's command table, the rule-pack list) is not an edge. A C extension module
(sources/_jsonscan.c) is a leaf.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "kubevet"
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    """Python modules and C extension modules (named by their .c source)."""
    out = {}
    for path in sorted([*SRC.rglob("*.py"), *SRC.rglob("*.c")]):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The kubevet modules `module` imports (each name resolved to the deepest module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def add(name: str) -> None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in child.names:
                    add(f"{base}.{alias.name}")
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def _graph() -> dict[str, set[str]]:
    known = _modules()
    # a C extension module imports no kubevet module: a leaf
    return {
        name: _imported(name, path, known) if path.suffix == ".py" else set()
        for name, path in known.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_is_read() -> None:
    graph = _graph()
    # Known edges, at module level and inside a function, prove the walk sees both.
    assert "kubevet.rules.registry" in graph["kubevet.engine"]
    assert "kubevet.engine" in graph["kubevet.runner"]  # imported inside _run_one
    assert len(graph) > 150


def test_cli_is_the_top() -> None:
    """Commands take exit codes and UsageError from kubevet.commands.exits, never from cli.
    Besides the entry points, only two commands reach cli, at run time: `ask` runs other
    commands in process as a client would, `completion` prints the whole CLI's grammar."""
    importers = {m for m, deps in _graph().items() if "kubevet.cli" in deps}
    entry_points = {"kubevet.__main__", "kubevet.integrations.precommit"}
    assert importers - entry_points == {"kubevet.ask.answer", "kubevet.commands.completion"}


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_cycle_detection_finds_a_loop() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("layer", ["kubevet.sources", "kubevet.report", "kubevet.commands"])
def test_rules_do_not_import(layer: str) -> None:
    graph = _graph()
    offenders = {
        (module, dep)
        for module, deps in graph.items()
        if module.startswith("kubevet.rules")
        for dep in deps
        if dep == layer or dep.startswith(layer + ".")
    }
    assert offenders == set()


def test_no_module_over_the_line_bound() -> None:
    long = {
        str(path.relative_to(SRC)): n
        for path in SRC.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
