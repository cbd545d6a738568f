"""How strongly two outcomes differ: one ordered enum, weakest to strongest (docs/protocol.md).

`same` < `api` < `structural` < `observable` < `invariant` < `flaky` < `hang` < `crash`.
A `Level` is its plain name as a string too (a `StrEnum`), so JSON, Markdown and cache keys
read exactly as when levels were strings; but it compares by strength, not by spelling:
`Level.API < Level.CRASH`, `max(levels)` is the strongest, and comparing with a plain name
(`level >= "invariant"`) reads the name as a Level.

Why `flaky` sits where it does: a run that does not reproduce (confirm.py) says the code
depends on something other than its input (uninitialised memory, its own addresses) — worse
than any wrong answer that reproduces, since no answer of it can be trusted — but a crash or a
hang that reproduces every time is a stronger finding still, and is what a flaky crash is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Level(StrEnum):
    SAME = "same"
    API = "api"
    STRUCTURAL = "structural"
    OBSERVABLE = "observable"
    INVARIANT = "invariant"
    FLAKY = "flaky"
    HANG = "hang"
    CRASH = "crash"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        return _RANK[self] < _RANK[Level(other)]

    def __le__(self, other: object) -> bool:
        return _RANK[self] <= _RANK[Level(other)]

    def __gt__(self, other: object) -> bool:
        return _RANK[self] > _RANK[Level(other)]

    def __ge__(self, other: object) -> bool:
        return _RANK[self] >= _RANK[Level(other)]

    @classmethod
    def strongest(cls, levels: Iterable[str]) -> Level:
        """The strongest of `levels` (the first of equals), `same` when there are none."""
        return max(map(cls, levels), default=cls.SAME)


_RANK = {level: i for i, level in enumerate(Level)}

#: The level of a run's ending beside a run that ended otherwise (an `error` ranks as a crash).
ENDING_LEVEL = {"hang": Level.HANG, "crash": Level.CRASH, "error": Level.CRASH, "flaky": Level.FLAKY}
