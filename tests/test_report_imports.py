"""The report package has no import cycle, and no renderer imports another renderer."""

from __future__ import annotations

import ast
from pathlib import Path

import archeo.report

PACKAGE = Path(archeo.report.__file__).parent
RENDERERS = {"markdown", "html", "terminal", "figures"}


def _imports(path: Path) -> set[str]:
    """Sibling modules of archeo/report that `path` imports (top-level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    return {p.stem: _imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}


def test_no_module_of_the_report_imports_the_package_init_or_a_cycle():
    graph = _graph()
    assert all("__init__" not in deps for deps in graph.values())

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join(path + (name,))}"
        for dep in graph.get(name, ()):
            visit(dep, path + (name,))

    for name in graph:
        visit(name, ())


def test_no_renderer_imports_another_renderer():
    for name, deps in _graph().items():
        if name in RENDERERS:
            assert not (deps & RENDERERS) - {"figures"} - ({name}), (name, deps)
