"""The package's shape: no import cycles, and only the command line imports `commands`.

Imports are read from the source (module level and inside functions alike: a lazy import is
still a dependency), except those under `if TYPE_CHECKING:`, which never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "archeo"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _runtime_imports(tree: ast.AST):
    """Import nodes, skipping `if TYPE_CHECKING:` bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                stem = ".".join([*base, *([node.module] if node.module else [])])
                targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem for alias in node.names]
            else:
                targets = [alias.name for alias in node.names]
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                if target in modules and target != name:
                    deps.add(target)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_archeo_has_no_import_cycle():
    graph = import_graph()
    assert "archeo.pipeline" in graph and "archeo.runners" in graph["archeo.mutate"]
    assert cycles(graph) == []


def test_only_the_command_line_imports_commands():
    graph = import_graph()
    outside = sorted(
        name for name, deps in graph.items()
        if any(d == "archeo.commands" or d.startswith("archeo.commands.") for d in deps)
        and not (name == "archeo.cli" or name == "archeo.commands" or name.startswith("archeo.commands."))
    )
    assert outside == []


# No module outside archeo/subjects/ imports the rbtree subject's modules: the engine, the build,
# the reports and the mutation tester all go through `archeo.subjects.get` and the Subject protocol.


def test_the_engine_reaches_the_rbtree_through_the_subject_protocol():
    graph = import_graph()
    naming = {
        name for name, deps in graph.items()
        if not name.startswith("archeo.subjects") and any(d.startswith("archeo.subjects.rbtree") for d in deps)
    }
    assert not naming, sorted(naming)  # the mutation tester too: Subject.bounded, harness_calls, function_group
    for engine in ("archeo.ops", "archeo.compare", "archeo.difftest", "archeo.difftest.running", "archeo.difftest.judging", "archeo.pipeline"):
        assert engine in graph and engine not in naming
