"""Parse each top-level chunk once per history, and reuse what it gave where it comes back.

Why: pycparser is pure Python and was half of the parse stage's time, yet consecutive
revisions of a file share most of their top-level declarations: the shim and the header
expand to the same ones, and a commit touches a function or two. On Xen's 29 revisions
about one chunk in ten is new (143 of 1,418). `ChunkMemo` keeps, for one
`parse_history` call, what each chunk (`chunks.Chunk`) gave the caller, and hands it
back, moved to its new lines and file, wherever the same chunk stands again (a
function that did not change, a header included one line further down, a file that was
moved).

Why the result is the same as parsing the whole unit: between two top-level
declarations pycparser carries one piece of state, the file scope (which names are
typedef names, which are ordinary identifiers), and a declaration's parse can only
look up the names it contains. So a chunk is parsed alone with the file scope seeded
with exactly its own names as the unit's earlier chunks left them; the key is its text
(inner line markers relative, see `Chunk.key`), those names, and whatever else the
caller's result depends on (`variant`). Where a chunk stands, its file and first line,
only decides the coords, which `relocate` moves. A chunk's effect on the file scope is
kept with its result, so the scope stays exact across hits. Any chunk that does not
parse alone, or any doubt of the scan (`Scan.chunks` None), and the caller parses the
whole unit instead: the reuse can make a parse faster, never different.

The memo is an optimisation that lives as long as its owner (one `parse_history` run);
nothing is kept between runs or written to disk.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

from pycparser import c_ast
from pycparserext.ext_c_parser import GnuCParser

from .chunks import Chunk

T = TypeVar("T")


class _SeededParser(GnuCParser):
    """GnuCParser whose file scope starts as given instead of empty."""

    seed: dict[str, bool] = {}

    def parse_chunk(self, chunk: Chunk, seed: dict[str, bool]) -> tuple[list[c_ast.Node], dict[str, bool]]:
        """The chunk's external declarations, and the file scope after them."""
        self.seed = seed
        ast = self.parse(f'# {chunk.line} "{chunk.file}"\n{chunk.text}', chunk.file)
        return ast.ext, self._scope_stack[0]

    def _parse_translation_unit_or_empty(self):
        # Before the first token is read: the lexer asks the scope whether a name is a type.
        self._scope_stack[0].update(self.seed)
        return super()._parse_translation_unit_or_empty()


class ChunkMemo(Generic[T]):
    """What each chunk gave, for one history: `results` parses only chunks not seen before.

    `relocate(result, shift, file)` moves a result `shift` lines down, into `file`.
    Results must be plain values: a hit returns the stored one (relocated when the chunk
    moved).
    """

    def __init__(self, relocate: Callable[[T, int, str], T]):
        self._relocate = relocate
        self._parser = _SeededParser()
        self._known: dict[Hashable, tuple[str, int, T, dict[str, bool]]] = {}  # file, line, result, effects
        self.hits = self.misses = 0

    def results(
        self,
        chunks: Sequence[Chunk],
        compute: Callable[[list[c_ast.Node]], T],
        variant: Callable[[Chunk], Hashable] = lambda chunk: None,
    ) -> list[T] | None:
        """One result per chunk, in order; None when a chunk does not parse alone.

        `compute(exts)` turns a chunk's external declarations into its result, the same
        way on every call; `variant(chunk)` is whatever else, beyond the chunk's parse,
        that result depends on (for the parse stage: which of the revision's own files
        the chunk's file is).
        """
        scope: dict[str, bool] = {}
        out: list[T] = []
        for chunk in chunks:
            seed = {word: scope[word] for word in chunk.words() if word in scope}
            key = None
            if chunk.key is not None:
                key = (chunk.key, frozenset(seed.items()), variant(chunk))
            entry = self._known.get(key) if key is not None else None
            if entry is None:
                entry = self._parse(chunk, seed, compute)
                if entry is None:
                    return None
                if key is not None:
                    self._known[key] = entry
                self.misses += 1
            else:
                self.hits += 1
            file, line, result, effects = entry
            scope.update(effects)
            if (file, line) != (chunk.file, chunk.line):
                result = self._relocate(result, chunk.line - line, chunk.file)
            out.append(result)
        return out

    def _parse(self, chunk: Chunk, seed: dict[str, bool], compute) -> tuple[str, int, T, dict[str, bool]] | None:
        try:
            exts, after = self._parser.parse_chunk(chunk, seed)
        except Exception:  # noqa: BLE001 - whatever a chunk alone does wrong, the whole unit decides
            return None
        effects = {name: is_type for name, is_type in after.items() if seed.get(name) is not is_type}
        return chunk.file, chunk.line, compute(exts), effects


__all__ = ["ChunkMemo"]
