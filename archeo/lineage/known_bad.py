"""The known-bad search: does any revision, in any history, carry a behaviour known to be broken?

A known-bad class (an invariant break, crash, hang or flaky result against the reference) is
searched for twice: by class (revisions alike to it on every seeded sequence) and by replaying
its minimal witness on every built revision of every history. A revision carries the behaviour
when the witness ends on it as it ends on the class's first member, and not as on the
reference. The statement says what was found — or, when nothing was, how much was tested, so
"none" is a measured claim, not a silence.
"""

from __future__ import annotations

from typing import Callable, Sequence

from .. import ops as opslib
from ..compare import Outcome, compare
from .classes import ALIKE
from .records import BehaviourClass, Carrier, KnownBadSearch


def search(
    klass: BehaviourClass,
    witness: tuple[str, ...],
    witness_seed: int | None,
    built: Sequence[tuple[str, str, str]],
    run_on: Callable[[str, str], Outcome],
    reference: Callable[[str], Outcome],
    tested_words: str,
) -> KnownBadSearch:
    """Search every built revision (target, commit, program key) for `klass`'s behaviour.

    `run_on(program_key, batch)` runs a batch on a program; `tested_words` says how much every
    revision was tested ("20 seeds × 10,000 operations"), for the statement.
    """
    origin = klass.members[0]
    members = set(klass.members)
    if not witness:
        return KnownBadSearch(
            klass.name, origin, klass.level, (), witness_seed, (), 0,
            f"{klass.name} has no witness to replay: only its {len(members)} members, found by class, carry it.",
        )
    ops = [opslib.Op.parse(t) for t in witness]
    codes = [op.code for op in ops]
    batch = opslib.encode(ops)
    expected = reference(batch)
    key_of = {(t, c): k for t, c, k in built}
    bad = run_on(key_of[origin], batch) if origin in key_of else None
    carriers = []
    for target, commit, key in built:
        outcome = run_on(key, batch)
        versus_reference = compare(codes, expected, outcome).level
        like_bad = bad is not None and compare(codes, bad, outcome).level in ALIKE
        if (target, commit) in members or (like_bad and versus_reference not in ALIKE):
            carriers.append(Carrier(target, commit, (target, commit) in members, outcome.describe(), versus_reference))
    return KnownBadSearch(
        klass.name, origin, klass.level, tuple(witness), witness_seed, tuple(carriers), len(built),
        statement(klass, carriers, built, len(witness), tested_words),
    )


def statement(klass: BehaviourClass, carriers, built, witness_length: int, tested_words: str) -> str:
    origin_target, origin_commit = klass.members[0]
    name = f"{klass.name} ({origin_target} {origin_commit[:12]}, {klass.level})"
    elsewhere = [c for c in carriers if c.target != origin_target]
    others = sorted({t for t, _, _ in built if t != origin_target})
    if elsewhere:
        listed = ", ".join(f"{c.target} {c.commit[:12]}" for c in elsewhere[:8])
        more = f" and {len(elsewhere) - 8} more" if len(elsewhere) > 8 else ""
        return f"{len(elsewhere)} revision(s) of other histories carry {name}: {listed}{more}."
    if not others:
        return f"Only {origin_target} was searched: no other history was in the study."
    count = sum(1 for t, _, _ in built if t != origin_target)
    return (
        f"No revision of {', '.join(others)} carries {name}: {count} built revisions of them, "
        f"each tested on {tested_words} and with the {witness_length}-operation witness replayed, "
        f"behave otherwise."
    )
