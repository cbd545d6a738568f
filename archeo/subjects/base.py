"""The `Subject` protocol: what the engine asks of a kind of code under test.

Modelled on Hypothesis's stateful testing, where the system under test declares its
operations and invariants and the engine stays generic: a subject declares its op vocabulary,
generates op sequences, runs them on its Python reference, finds its API in a parsed Model,
names its C harness, reads its result lines (a dump, a verify line) as levels of difference,
words its ops for reports and draws its structures. The engine (archeo.ops' batch syntax and
shrinking, execute, compare, difftest, report) takes a Subject and names none.

The batch protocol's frame is shared by every subject (docs/protocol.md): a header with the
keyspace, one op per line (a code, then a key or none), one result line per op, `END`; `w`
(wipe) joins runs. Levels are the engine's (archeo.levels); which line shows which is the
subject's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..levels import Level
    from ..ops import Op
    from ..records import Model


@dataclass(frozen=True)
class Bounded:
    """A subject's bounded exhaustive material (what the mutation tester's equivalence check runs,
    archeo/equivalence.py): short sequences, each probing the whole state, joined by `w`."""

    segments: tuple[tuple[Op, ...], ...]  # each a sequence with its probes
    text: str  # the segments joined by `w`, as one batch
    codes: tuple[str, ...]  # the op code of every op of `text`
    keyspace: int  # the keyspace `text` (and a segment run alone) is written with
    description: str  # what it covers, in words, for reports


class Subject(Protocol):
    name: str
    # ---- the op vocabulary
    keyed: frozenset[str]  # op codes that take a key
    bare: frozenset[str]  # op codes that stand alone (`w` is the engine's, not in here)
    dump: str  # the op whose result line is the whole structure (a structural difference)
    verify: str  # the op whose result line checks the structure's invariants
    reset: str | None  # the op that forgets the structure: a witness is cut after the last one
    groups: tuple[str, ...]  # optional op groups a run mixes in when its revisions have them
    profiles: tuple[str, ...]  # the generator's profiles, by name
    # ---- the C side
    harness_sources: tuple[Path, ...]  # the harness's C sources, compiled with every revision

    # ---- sequences
    def generate(self, seed: int, n_ops: int, profile: str, groups: Iterable[str] = ()) -> list[Op]:
        """Exactly `n_ops` ops, deterministic from `seed`."""

    def groups_of(self, ops: str) -> tuple[str, ...]:
        """The op groups a revision has, from the ops its harness supports (in `groups` order)."""

    def keyspace(self, profile: str) -> int:
        """The keyspace a profile's batches are written with (so a profile's seeds share one)."""

    # ---- the reference
    def run_batch(self, batch_text: str) -> str:
        """The reference's whole trace text for a batch, as the C harness would print it."""

    # ---- the API
    def derive_api(self, model: Model):
        """What the harness needs to know about one revision, from its parsed Model."""

    def config_header(self, api, includes: tuple[str, ...]) -> str:
        """The per-revision C header the harness is compiled with."""

    # ---- reading results
    def line_level(self, op_code: str, a: str, b: str) -> Level:
        """The level of one differing result line of an op of kind `op_code`."""

    def is_dump(self, line: str) -> bool:
        """Whether a result line of the `dump` op is a dump (not `NA`, not cut off)."""

    def holds_structure(self, dump_line: str | None) -> bool:
        """Whether a dump shows a structure that is there (not missing, not empty)."""

    # ---- words and drawings for reports (report/words.py formats them)
    op_words: Mapping[str, str]  # op code -> a phrase, `{}` for the key: "insert {}"
    op_meaning: Mapping[str, str]  # op code -> what it does and what its results mean
    na_meaning: str  # what an `NA` result means for this subject

    def last_dump(self, ops: Sequence[str], lines: Sequence[str]) -> str | None:
        """The last `dump` result in a witness's results, if any."""

    def differing_parts(self, a: str | None, b: str | None) -> set[str]:
        """What differs between two dumps, as the ids `draw_svg` marks."""

    def draw_text(self, dump_line: str) -> str: ...

    # ---- mutation testing (archeo/mutants.py, mutate.py, equivalence.py)
    def harness_calls(self) -> frozenset[str]:
        """The names of a revision's functions its optional ops call: those defined in a header
        (inline) are mutated too, since the harness compiles them."""

    def function_group(self, name: str) -> str:
        """The op group a revision's function belongs to (`core` for the rest), so mutants of
        optional API are counted apart."""

    def bounded(self, groups: tuple[str, ...] = ()) -> Bounded:
        """The bounded exhaustive material, with each of `groups`' own."""

    def draw_svg(self, dump_line: str, marked=frozenset(), title: str = "") -> str: ...
