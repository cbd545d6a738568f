"""The part of a cache key that stands for archeo's own code: a new rule recomputes a stage.

A stage's output depends on the modules that compute it, and on every module they import.
Listing source files by hand went wrong twice: a module split out of another was missing
from the list, and a file that was moved or renamed was silently skipped, so a changed rule
could be answered from a stale cache. So a key names its modules by import name
(`archeo.difftest`), and every archeo module they import (at module level or inside a
function) is found from the source and hashed with them. A move done right (the import name
kept, or every importer updated) keeps working; a move done wrong fails loudly, naming the
module that is missing and who wanted it.

Read statically (`ast`), never imported: computing a key must not run the code it keys.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path

from .errors import ArcheoError

SUFFIXES = (".py", ".c", ".h")


def code_digest(modules: tuple[str, ...], data: tuple[str, ...] = (), salt: str = "") -> str:
    """sha256 of the named modules, every module of their package they import (transitively),
    and the data directories `data` (relative to the top package, e.g. "shim/include").

    A module named as a package (`archeo.subjects`) counts with everything under it. A name
    that does not resolve, an import of a missing sibling, or an empty data directory raises
    ArcheoError naming it.
    """
    h = hashlib.sha256(salt.encode() + b"\0")
    top = _package_dir(modules[0].split(".")[0]) if modules else None
    for path in code_files(tuple(modules), tuple(data)):
        content = path.read_bytes()
        h.update(path.relative_to(top.parent).as_posix().encode() + b"\0")
        h.update(len(content).to_bytes(8, "little") + content)
    return h.hexdigest()


@lru_cache(maxsize=None)
def code_files(modules: tuple[str, ...], data: tuple[str, ...] = ()) -> tuple[Path, ...]:
    """The files `code_digest` hashes, in a fixed order (see there)."""
    if not modules:
        raise ArcheoError("cache key: no module named")
    top = modules[0].split(".")[0]
    root = _package_dir(top)
    found: dict[str, Path] = {}
    todo = [(name, "the cache key") for name in modules]
    whole: list[Path] = []
    while todo:
        name, wanted_by = todo.pop()
        if name in found:
            continue
        path = _module_path(root, top, name)
        if path is None:
            raise ArcheoError(
                f"cache key: {wanted_by} names {name}, which is not a module of {top} "
                f"(no {name.replace('.', '/')}.py or {name.replace('.', '/')}/__init__.py under {root.parent}): "
                "moved or renamed? update the import or the key's module list"
            )
        found[name] = path
        if name in modules and path.name == "__init__.py":
            whole.extend(p for p in sorted(path.parent.rglob("*")) if p.is_file() and p.suffix in SUFFIXES)
        for target in _imports(name, path, root, top):
            todo.append((target, name))
    for rel in data:
        where = root / rel
        files = sorted(p for p in where.rglob("*") if p.is_file() and p.suffix in SUFFIXES) if where.is_dir() else []
        if not files:
            raise ArcheoError(f"cache key: data directory {where} is missing or has no {'/'.join(SUFFIXES)} file: moved?")
        whole.extend(files)
    everything = {p.resolve() for p in [*found.values(), *whole] if "__pycache__" not in p.parts}
    return tuple(sorted(everything, key=lambda p: p.relative_to(root.parent).as_posix()))


def _package_dir(top: str) -> Path:
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise ArcheoError(f"cache key: package {top} not found")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _module_path(root: Path, top: str, name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != top:
        return None
    base = root.joinpath(*parts[1:])
    for path in (base.with_suffix(".py") if len(parts) > 1 else None, base / "__init__.py"):
        if path is not None and path.is_file():
            return path
    return None


@lru_cache(maxsize=None)
def _imports(name: str, path: Path, root: Path, top: str) -> tuple[str, ...]:
    """The modules of package `top` that module `name` (at `path`) imports, anywhere in it.

    `from .x import y` is module `x.y` when that is a module, else module `x`; an import of a
    name that resolves to no module at all is kept as asked, so the caller fails loudly.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names if alias.name.split(".")[0] == top]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and node.module.split(".")[0] == top:
                stem = node.module
            else:
                continue
            for alias in node.names:
                sub = f"{stem}.{alias.name}"
                out.append(sub if _module_path(root, top, sub) is not None else stem)
    return tuple(out)
