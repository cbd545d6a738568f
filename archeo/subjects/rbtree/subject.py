"""The kernel red-black tree as a `Subject` (archeo/subjects/base.py): the engine's one handle on it.

Each attribute is read from the module that owns it in this folder (vocabulary, generate,
interp, api, lines, words, draw, groups, bounded), so this is the whole list of what the engine asks of the
rbtree, in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import api, bounded, draw, generate, groups, interp, lines, vocabulary, words

SHIM = Path(__file__).resolve().parent.parent.parent / "shim"


@dataclass(frozen=True)
class RbTree:
    name: str = "rbtree"
    keyed: frozenset[str] = vocabulary.KEYED
    bare: frozenset[str] = vocabulary.BARE
    dump: str = vocabulary.DUMP_CODE
    verify: str = vocabulary.VERIFY_CODE
    reset: str | None = vocabulary.RESET_CODE
    groups: tuple[str, ...] = vocabulary.GROUPS
    profiles: tuple[str, ...] = tuple(generate.PROFILES)
    # harness.c (the op loop; includes harness_groups.c), harness_rt.c (the runtime), harness.h
    harness_sources: tuple[Path, ...] = tuple(SHIM / n for n in ("harness.c", "harness_groups.c", "harness_rt.c", "harness.h"))
    op_words: dict = field(default_factory=lambda: dict(words.OP_WORDS))
    op_meaning: dict = field(default_factory=lambda: dict(words.OP_MEANING))
    na_meaning: str = words.NA_MEANING

    def generate(self, seed: int, n_ops: int, profile: str = "small", groups: Iterable[str] = ()):
        return generate.generate(seed, n_ops, profile=profile, groups=groups)

    def groups_of(self, ops: str) -> tuple[str, ...]:
        return groups.groups_of(ops)

    def keyspace(self, profile: str) -> int:
        return generate.PROFILES[profile].keyspace

    def run_batch(self, batch_text: str) -> str:
        return interp.run_batch(batch_text)

    def derive_api(self, model):
        return api.derive_api(model)

    def config_header(self, harness_api, includes: tuple[str, ...]) -> str:
        return api.config_header(harness_api, includes)

    def line_level(self, op_code: str, a: str, b: str):
        return lines.line_level(op_code, a, b)

    def holds_structure(self, dump_line: str | None) -> bool:
        return lines.holds_structure(dump_line)

    def is_dump(self, line: str) -> bool:
        return lines.is_dump(line)

    def last_dump(self, ops, results) -> str | None:
        return draw.last_dump(ops, results)

    def differing_parts(self, a: str | None, b: str | None) -> set[str]:
        return draw.differing_keys(a, b)

    def draw_text(self, dump_line: str) -> str:
        return draw.draw_text(dump_line)

    def draw_svg(self, dump_line: str, marked=frozenset(), title: str = "") -> str:
        return draw.draw_svg(dump_line, marked, title=title)

    def harness_calls(self) -> frozenset[str]:
        return frozenset(name for _, names in groups.OP_NEEDS.values() for name in names)

    def function_group(self, name: str) -> str:
        return groups.function_group(name)

    def bounded(self, with_groups: tuple[str, ...] = ()):
        return bounded.bounded(tuple(with_groups))


RBTREE = RbTree()
