"""Cache keys of archeo's own code: named by import name, closed over imports, loud when a module is gone."""

from __future__ import annotations

import importlib
import importlib.util
import textwrap
from pathlib import Path

import pytest

from archeo import codekeys, pipeline
from archeo.codekeys import code_digest, code_files
from archeo.errors import ArcheoError


@pytest.fixture
def pkg(tmp_path, monkeypatch):
    """A package `ckpkg`: `a` imports `b` inside a function, `b` imports `d` at the top; `c` is imported by nobody."""
    root = tmp_path / "ckpkg"
    (root / "data").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "def f():\n    from .b import x\n    return x\n",
        "b.py": "from .d import z\nx = z\n",
        "c.py": "y = 2\n",
        "d.py": "z = 3\n",
        "data/stub.h": "#define STUB 1\n",
    }
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    codekeys.code_files.cache_clear()
    codekeys._imports.cache_clear()
    yield root
    codekeys.code_files.cache_clear()
    codekeys._imports.cache_clear()


def _names(files) -> set[str]:
    return {f.name for f in files}


def test_a_key_covers_what_its_modules_import_and_nothing_else(pkg):
    assert _names(code_files(("ckpkg.a",))) == {"a.py", "b.py", "d.py"}
    before = code_digest(("ckpkg.a",))
    (pkg / "c.py").write_text("y = 3\n")
    assert code_digest(("ckpkg.a",)) == before  # not imported: not part of the key
    (pkg / "d.py").write_text("z = 4\n")
    assert code_digest(("ckpkg.a",)) != before  # imported through b: part of the key


def test_a_package_named_counts_whole_and_data_directories_count(pkg):
    assert _names(code_files(("ckpkg",))) == {"__init__.py", "a.py", "b.py", "c.py", "d.py", "stub.h"}
    with_data = code_digest(("ckpkg.a",), ("data",))
    (pkg / "data" / "stub.h").write_text("#define STUB 2\n")
    assert code_digest(("ckpkg.a",), ("data",)) != with_data


def test_a_module_named_but_missing_fails_naming_it(pkg):
    with pytest.raises(ArcheoError, match=r"names ckpkg\.gone, which is not a module"):
        code_files(("ckpkg.a", "ckpkg.gone"))


def test_a_module_moved_without_its_importers_fails_naming_both(pkg):
    (pkg / "d.py").rename(pkg / "e.py")  # b still imports d
    with pytest.raises(ArcheoError, match=r"ckpkg\.b names ckpkg\.d, which is not a module"):
        code_files(("ckpkg.a",))


def test_a_missing_data_directory_fails_naming_it(pkg):
    with pytest.raises(ArcheoError, match=r"data directory .*nothere is missing"):
        code_files(("ckpkg.a",), ("nothere",))


def test_every_stage_key_of_the_pipeline_resolves_and_covers_the_verdict_rules():
    """The names in pipeline's key lists are modules today, and the difftest key reaches the
    modules that decide a verdict without naming each (they are found through the imports)."""
    top = Path(pipeline.__file__).resolve().parent

    def files(modules, data=()):
        return {f.relative_to(top).as_posix() for f in code_files(modules, data)}

    assert {"mine.py", "closure.py", "target.py"} <= files(pipeline.MINE_CODE)
    parse = files(pipeline.PARSE_CODE, pipeline.PARSE_DATA)
    assert {"parse/history.py", "parse/frontend.py", "parse/chunks.py", "platforms/xen.py"} <= parse
    assert any(name.startswith("shim/include/") and name.endswith(".h") for name in parse)
    # Where these modules are today (by import name, so a move done right keeps this test true).
    verdict_rules = {
        Path(importlib.util.find_spec(name).origin).resolve().relative_to(top).as_posix()
        for name in ("archeo.difftest", "archeo.compare", "archeo.confirm", "archeo.execute", "archeo.classify", "archeo.sandbox")
    }
    assert verdict_rules <= files(pipeline.DIFFTEST_CODE)
    assert verdict_rules | {"mutate.py", "mutants.py"} <= files(pipeline.MUTATE_CODE)


def test_a_stage_key_naming_a_moved_module_fails_loudly(monkeypatch):
    monkeypatch.setattr(pipeline, "DIFFTEST_CODE", (*pipeline.DIFFTEST_CODE, "archeo.moved_away"))
    with pytest.raises(ArcheoError, match=r"archeo\.moved_away"):
        pipeline._code_key(pipeline.DIFFTEST_CODE)
