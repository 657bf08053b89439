"""The import graph of ``skillforge`` has no cycle, and only ``skillforge.llm`` imports litellm.

The graph is built from the source with :mod:`ast`, so imports inside functions (the usual way a
cycle hides) count like top-level ones, as do imports under ``if TYPE_CHECKING:``. Two graphs are
checked: modules, and the layers of DESIGN.md §5 (a subpackage such as ``skillforge.skill``, or a
top-level module such as ``skillforge.trajectory``), whose imports must point one way only.
Strongly connected components are found with Tarjan's algorithm as :mod:`graphlib` would report
them (``graphlib.TopologicalSorter`` raises ``CycleError`` on the first cycle; we want all of them).
"""

from __future__ import annotations

import ast
import graphlib
from collections import defaultdict
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "skillforge"
LLM_PACKAGE = "skillforge.llm"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> list[str]:
    """Every module ``name`` imports (absolute names, resolved against the known modules)."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append(sub if sub in known else target)
    return found


def graph() -> dict[str, set[str]]:
    """Module → the skillforge modules it imports (itself excluded)."""
    known = modules()
    names = set(known)
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        edges[name] = {target for target in imports_of(name, path, names) if target in names and target != name}
    return edges


def layer(module: str) -> str:
    """``skillforge.skill.validate`` → ``skillforge.skill``; a top-level module is its own layer."""
    parts = module.split(".")
    return ".".join(parts[:2])


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_planted_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError:
        pass
    else:  # pragma: no cover - graphlib agrees there is a cycle
        raise AssertionError("graphlib sees no cycle")


def test_function_local_imports_are_in_the_graph(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from skillforge.store import git_store\n    import skillforge.trajectory\n")
    known = {"skillforge.store", "skillforge.store.git_store", "skillforge.trajectory"}
    assert imports_of("skillforge.x", source, known) == ["skillforge.store.git_store", "skillforge.trajectory"]


def test_no_module_import_cycle() -> None:
    assert cycles(graph()) == []


def test_no_layer_import_cycle() -> None:
    layers: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph().items():
        layers[layer(module)] |= {layer(t) for t in targets if layer(t) != layer(module)}
    assert cycles(layers) == []


def test_only_the_llm_package_imports_litellm() -> None:
    known = modules()
    names = set(known)
    outside = [
        name
        for name, path in known.items()
        if not (name == LLM_PACKAGE or name.startswith(LLM_PACKAGE + "."))
        and any(t == "litellm" or t.startswith("litellm.") for t in imports_of(name, path, names))
    ]
    assert outside == []
