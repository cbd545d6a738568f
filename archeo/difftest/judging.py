"""The judging half of the differential test: what the outcomes say, and the smallest proof.

Each seed's two outcomes are compared once (`Comparisons`, by hash: equal hashes are the same
behaviour); a pair of revisions gets its strongest level, every level seen and the first seed
showing each (`PairVerdict`); "previous" is the nearest tested ancestor. Every difference is
shrunk to a minimal witness that still shows the same level (`find_witness`), once per pair of
behaviours, from the seed that shows it soonest (`_soonest_seed`); the pair's strongest level
(its headline witness) also from the first seed showing it, the shorter kept (the first on a
tie). Shrinking finds a local minimum: on the Xen window the crash gives 6 operations from the
first seed and 10 from the soonest; both starts for every level cost ~25 % more CPU per Xen
difftest and shortened nothing else (every other level: 5 and 5). Then changes are attributed
to the commits that introduced and ended them, and revisions grouped into equivalence classes
(events.py). What a result line means is the subject's (`Subject.line_level`), and so are the
probes a witness is cut and drawn with.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Callable, Sequence

from .. import ops as opslib
from .. import subjects
from ..compare import Outcome, Verdict, compare, swapped
from ..confirm import checked, flaky_witness_parts
from ..events import attribute, equivalence_classes
from ..levels import Level
from ..subjects import Subject
from .records import REFERENCE, PairVerdict, RevisionVerdict, Runner, Settings, Witness
from .running import SAME_AS_REFERENCE, Runs


class Comparisons:
    """compare() of each seed's two outcomes, made once per pair of hashes (in either order),
    wherever first asked: by the running half as revisions finish, then by the verdicts."""

    def __init__(self, codes: list[list[str]], subject: Subject) -> None:
        self.codes, self.subject = codes, subject
        self.ref_out: Sequence[Outcome] = ()  # the reference's outcomes, once they are known
        self._made: dict[tuple[int, str, str], Verdict] = {}

    def verdict(self, i: int, a_out, b_out, a_hash, b_hash) -> Verdict | None:
        """compare() of seed i's two outcomes (None when their hashes are equal), made once."""
        if a_hash[i] == b_hash[i]:
            return None
        compared = self._made
        verdict = compared.get((i, a_hash[i], b_hash[i]))
        if verdict is None:
            ref_out = self.ref_out
            oa, ob = (ref_out[i] if o is SAME_AS_REFERENCE else o for o in (a_out[i], b_out[i]))
            other_way = compared.get((i, b_hash[i], a_hash[i]))
            verdict = swapped(other_way, ob, oa) if other_way is not None else None
            if verdict is None:
                verdict = compare(self.codes[i], oa, ob, self.subject.line_level)
            compared[i, a_hash[i], b_hash[i]] = verdict
        return verdict


def judge(
    listed: Sequence[tuple[str, Runner | None]],
    runs: Runs,
    sequences: Sequence[tuple[int, list[opslib.Op]]],
    settings: Settings,
    comparisons: Comparisons,
    parents: dict[str, tuple[str, ...]] | None,
    releases: Callable[[str, str | None], list[str]] | None,
    shrink: bool,
    tick: Callable[[str, int, int], None],
) -> tuple[list[RevisionVerdict], list, list[list[str]]]:
    """(verdicts, changes, classes) of the revisions `listed` (in history order; None: not built)."""
    subject = comparisons.subject
    ref_out, ref_hash, outs, hashes, runners = runs.ref_out, runs.ref_hash, runs.outs, runs.hashes, runs.runners
    verdict_of = comparisons.verdict

    def pair(a: str, b: str, a_out, b_out, a_hash, b_hash) -> PairVerdict:
        """Strongest level over all seeds, every level seen, and the first seed showing each."""
        best: tuple[Verdict, int] | None = None
        seen: dict[str, int] = {}
        for i, (seed, _) in enumerate(sequences):
            verdict = verdict_of(i, a_out, b_out, a_hash, b_hash)
            if verdict is None:
                continue
            for level in verdict.firsts:
                seen.setdefault(level, seed)
            if verdict.level != Level.SAME and (best is None or verdict.level > best[0].level):
                best = (verdict, i)
        if best is None:
            return PairVerdict(other=a, level=Level.SAME)
        verdict, i = best
        levels = tuple(sorted(seen.items(), key=lambda item: -Level(item[0]).rank))
        return PairVerdict(other=a, level=verdict.level, seed=sequences[i][0], detail=verdict.detail, levels=levels)

    reference_behaviour = hashlib.sha256("".join(ref_hash).encode()).hexdigest()[:16]
    verdicts: list[RevisionVerdict] = []
    listed_before: str | None = None
    for commit, run in listed:
        if run is None:
            verdicts.append(RevisionVerdict(commit, "build-failed", None, None, error="did not build"))
            continue
        vs_ref = pair(REFERENCE, commit, ref_out, outs[commit], ref_hash, hashes[commit])
        vs_prev = None
        previous = _tested_ancestor(commit, parents, outs) if parents is not None else listed_before
        if previous is not None:
            vs_prev = pair(previous, commit, outs[previous], outs[commit], hashes[previous], hashes[commit])
        behaviour = hashlib.sha256("".join(hashes[commit]).encode()).hexdigest()[:16]
        verdicts.append(RevisionVerdict(commit, "tested", vs_ref, vs_prev, behaviour))
        listed_before = commit

    # Shrink every difference once per (behaviour, other side's behaviour) and reuse the witness.
    if shrink:
        seq_by_seed = {seed: ops for seed, ops in sequences}
        memo: dict[tuple, Witness | None] = {}
        behaviour_of = {v.commit: v.behaviour for v in verdicts if v.status == "tested"}
        behaviour_of[REFERENCE] = reference_behaviour
        shrunk = []
        tick("shrinking", 0, len(verdicts))
        for v in verdicts:
            new = {}
            for name in ("vs_reference", "vs_previous"):
                pv: PairVerdict | None = getattr(v, name)
                if pv is None or pv.level == Level.SAME:
                    continue
                found = []
                for level, seed in pv.levels:
                    if level == Level.FLAKY:  # not shrunk: the runs as they came
                        i = seed - settings.first_seed
                        a_out, b_out = (ref_out[i] if o is SAME_AS_REFERENCE else o for o in (outs.get(pv.other, ref_out)[i], outs[v.commit][i]))
                        parts = flaky_witness_parts(seq_by_seed[seed], a_out, b_out)
                        found.append(Witness(a=pv.other, b=v.commit, level=level, seed=seed, **parts))
                        continue
                    # Levels are symmetric and equal behaviours give equal traces, so one
                    # witness serves every pair of the same two behaviours, in either order.
                    key = (*sorted((behaviour_of[pv.other], v.behaviour)), level)
                    witness = memo.get(key)
                    # (a level shrinking could not isolate stays None in the memo: not retried)
                    if key not in memo or (witness is not None and not _still_shows(witness.ops, runners[pv.other], runners[v.commit], level, subject)):
                        other = (ref_out, ref_hash) if pv.other == REFERENCE else (outs[pv.other], hashes[pv.other])
                        soonest = _soonest_seed(level, sequences, verdict_of, *other, outs[v.commit], hashes[v.commit])
                        witness = None
                        # the pair's strongest level from the first seed showing it and the soonest, the
                        # others from the soonest only (see the module's docstring)
                        for start in dict.fromkeys((seed, soonest) if level == pv.level else (soonest,)):
                            got = checked(lambda: find_witness(  # noqa: B023 (called here, at once)
                                seq_by_seed[start], start, pv.other, v.commit, runners[pv.other], runners[v.commit], level, subject
                            ), runners[pv.other], runners[v.commit])
                            if got is not None and (witness is None or len(got.ops) < len(witness.ops)):
                                witness = got
                        memo[key] = witness
                    witness = witness and _relabel(witness, pv.other, v.commit, runners, subject)
                    if witness is not None:
                        found.append(witness)
                new[name] = replace(pv, witnesses=tuple(found))
            shrunk.append(replace(v, **new) if new else v)
            tick("shrinking", len(shrunk), len(verdicts))
        verdicts = shrunk

    changes = attribute(verdicts, releases)
    classes = equivalence_classes(verdicts)
    return verdicts, changes, classes


def _soonest_seed(level: str, sequences, verdict_of, a_out, a_hash, b_out, b_hash) -> int:
    """The seed whose sequence shows `level` after the fewest operations (the lowest such seed
    on a tie), from the comparisons already made: the shortest start for shrinking, tried
    beside the first seed showing it (PairVerdict.levels). On the Xen window the first hangs
    after 169 operations, this one after 15; both shrink to 5. Shrinking is greedy, so
    neither start is always the better one: for the window's crash the first gives 6."""
    best = None
    for i, (seed, _) in enumerate(sequences):
        verdict = verdict_of(i, a_out, b_out, a_hash, b_hash)
        if verdict is not None and level in verdict.firsts and (best is None or verdict.firsts[level] < best[0]):
            best = (verdict.firsts[level], seed)
    return best[1]


def _relabel(w: Witness, a: str, b: str, runners: dict[str, Runner], subject: Subject) -> Witness | None:
    """A witness found for an equivalent pair, re-run on this pair so both outcomes are its own;
    None when this pair does not show its level on it (a run that did not reproduce)."""
    if (w.a, w.b) == (a, b):
        return w
    again = _witness(w.ops, w.seed, a, b, runners[a], runners[b], w.level, w.original_length, subject)
    sides = Outcome(again.a_status, again.a_lines, again.a_kind), Outcome(again.b_status, again.b_lines, again.b_kind)
    return again if compare([opslib.Op.parse(t).code for t in w.ops], *sides, subject.line_level).level == w.level else None


def _still_shows(tokens: Sequence[str], a: Runner, b: Runner, level: str, subject: Subject) -> bool:
    ops = [opslib.Op.parse(t) for t in tokens]
    return _level_on(ops, a, b, subject) == level


def _level_on(ops: Sequence[opslib.Op], a: Runner, b: Runner, subject: Subject) -> Level:
    batch = opslib.encode(ops)
    return compare([op.code for op in ops], a(batch), b(batch), subject.line_level).level


def _witness(tokens, seed, a_name, b_name, a: Runner, b: Runner, level, original_length, subject: Subject) -> Witness:
    ops = [opslib.Op.parse(t) if isinstance(t, str) else t for t in tokens]
    batch = opslib.encode(ops)
    oa, ob = a(batch), b(batch)
    trees = _trees(ops, a, b, oa, ob, subject)
    return Witness(
        a=a_name,
        b=b_name,
        level=level,
        seed=seed,
        ops=tuple(str(op) for op in ops),
        a_lines=oa.lines,
        b_lines=ob.lines,
        a_status=oa.status,
        b_status=ob.status,
        a_kind=oa.kind,
        b_kind=ob.kind,
        original_length=original_length,
        tree_after=None if trees is None else trees[0],
        a_tree=None if trees is None else trees[1],
        b_tree=None if trees is None else trees[2],
    )


def _trees(ops: Sequence[opslib.Op], a: Runner, b: Runner, oa: Outcome, ob: Outcome, subject: Subject) -> tuple[int, str | None, str | None] | None:
    """Both sides' trees (the subject's dumps) at the point that matters, or None when neither side holds a tree.

    That point is the end of the witness, or — when a side crashed or hung — just before the
    operation that stopped it, so a crash or a hang is drawn with the broken tree that caused it.
    A dump (`d`) is bounded by the harness, so a cycle shows as a node met again, not a hang.
    """
    stopped = [len(o.lines) for o in (oa, ob) if o.status != "ok"]
    after = min([len(ops), *stopped])
    probe = [*ops[:after], opslib.Op(subject.dump)]
    batch = opslib.encode(probe)
    dumps = []
    for run in (a, b):
        lines = run(batch).lines
        dumps.append(lines[after] if len(lines) > after and subject.is_dump(lines[after]) else None)
    if not any(subject.holds_structure(d) for d in dumps):
        return None
    return after, dumps[0], dumps[1]


def find_witness(
    ops: list[opslib.Op], seed: int, a_name: str, b_name: str, a: Runner, b: Runner, level: str, subject: Subject | None = None
) -> Witness | None:
    """Shrink `ops` to a minimal list on which a and b still differ at exactly `level`.

    Before delta debugging, the sequence is cut just after the first operation that shows the
    difference: for `structural` and `invariant` differences (seen only at `d`/`v` checkpoints)
    a dense replay with a checkpoint after every operation finds that operation first.
    """

    subject = subject or subjects.default()

    def still(candidate: Sequence[opslib.Op]) -> bool:
        return bool(candidate) and _level_on(candidate, a, b, subject) == level

    batch = opslib.encode(ops)
    verdict = compare([op.code for op in ops], a(batch), b(batch), subject.line_level)
    if level not in verdict.firsts:
        return None
    cut = list(ops[: verdict.firsts[level] + 1])
    if level in (Level.STRUCTURAL, Level.INVARIANT):
        dense = _dense_cut(cut, a, b, level, subject)
        if dense is not None:
            cut = dense
    if not still(cut):
        cut = list(ops)
        if not still(cut):
            return None  # this level shows only behind a stronger one on this sequence
    # Trees are forgotten at a reset (rbtree: `x`): what came before the last one rarely matters.
    resets = [i for i, op in enumerate(cut) if op.code == subject.reset] if subject.reset else []
    if resets and still(cut[resets[-1] + 1 :]):
        cut = cut[resets[-1] + 1 :]
    try:
        small = opslib.shrink(cut, still, reset=subject.reset)
    except ValueError:  # the shrinker asked again and was told otherwise: it does not reproduce
        return None
    return _witness(small, seed, a_name, b_name, a, b, level, len(ops), subject)


def _dense_cut(ops: list[opslib.Op], a: Runner, b: Runner, level: str, subject: Subject) -> list[opslib.Op] | None:
    """Replay with a dump (or, for an invariant, a verify) after every operation and cut at the first that differs."""
    probes = (subject.dump, subject.verify)
    probe = opslib.Op(subject.verify if level == Level.INVARIANT else subject.dump)
    dense, origin = [], []
    for i, op in enumerate(ops):
        dense.append(op)
        origin.append(i)
        if op.code not in probes:
            dense.append(probe)
            origin.append(i)
    batch = opslib.encode(dense)
    verdict = compare([op.code for op in dense], a(batch), b(batch), subject.line_level)
    first = verdict.firsts.get(level, verdict.index)
    if first is None:
        return None
    i = origin[first]
    return list(ops[: i + 1]) + ([probe] if ops[i].code not in probes else [])


# ---------------------------------------------------------------- attribution
def _tested_ancestor(commit: str, parents: dict[str, tuple[str, ...]], tested: dict) -> str | None:
    """The nearest ancestor (first parents first) that was tested: deleted or unbuilt ones are skipped."""
    queue, seen = list(parents.get(commit, ())), set()
    while queue:
        candidate = queue.pop(0)
        if candidate in seen:
            continue
        seen.add(candidate)
        if candidate in tested:
            return candidate
        queue.extend(parents.get(candidate, ()))
    return None
