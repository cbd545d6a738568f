"""The bounded check's settling of digest-mode runs (archeo/equivalence.py), with fake runners.

A digest-mode run that a timing limit stopped wrote the stopped segment's own lines where a
finished run writes its digest; the settling must not read that as a disagreement (`flaky`),
or the difference between two programs is looked for in the wrong segment.
"""

from __future__ import annotations

from archeo import equivalence, ops, subjects
from archeo.compare import Outcome
from archeo.difftest.protocol import DIGEST


class FakeRunner:
    """Digest mode: one digest per segment (the `w` after it answered `ok`). Whole-trace mode:
    `2` per run, `9` for a batch holding segment `differs` (the plant's fault), if any.
    `stops_at`: the first digest run stops there (a hang on a loaded machine), the confirming
    run (the runner itself: a fake has no limits to raise, confirm.Confirmer.runner) finishes."""

    def __init__(self, material, differs=None, stops_at=None):
        self.material, self.differs, self.stops_at = material, differs, stops_at
        self.digest_runs = 0

    def _digests(self, stop=None):
        lines = []
        for i, _ in enumerate(self.material.segments):
            if i == stop:
                return Outcome("hang", tuple(lines) + ("ok", "ok"), "cpu-limit")
            lines.append(f"{DIGEST}{'plant' if i == self.differs else 'same'} {i}")
            if i < len(self.material.segments) - 1:
                lines.append("ok")
        return Outcome("ok", tuple(lines))

    def digests(self, text):
        self.digest_runs += 1
        return self._digests(self.stops_at if self.digest_runs == 1 else None)

    def __call__(self, batch):
        mine = self.differs is not None and (
            batch == self.material.text
            or batch == ops.encode(self.material.segments[self.differs], self.material.keyspace)
        )
        return Outcome("ok", ("1", "9" if mine else "2"))


def test_a_digest_run_stopped_early_and_finished_when_confirmed_is_not_flaky():
    material = subjects.default().bounded()
    base = FakeRunner(material)
    stopped = FakeRunner(material, stops_at=len(material.segments) // 3)
    assert equivalence.bounded_difference(base, stopped) is None
    assert stopped.digest_runs == 2  # it was confirmed, not believed


def test_the_difference_is_found_in_its_segment_though_one_side_was_stopped_before_it():
    material = subjects.default().bounded()
    differs = len(material.segments) // 2
    base = FakeRunner(material)
    plant = FakeRunner(material, differs=differs, stops_at=differs // 2)
    level, sequence, _ = equivalence.bounded_difference(base, plant)
    assert level != "same"
    assert sequence == tuple(str(op) for op in material.segments[differs])


def test_finished_digest_lines_stop_at_the_stopped_segment():
    d = DIGEST
    assert equivalence.finished_digest_lines((f"{d}a", "ok", f"{d}b", "ok", "ok", "x")) == 4
    assert equivalence.finished_digest_lines((f"{d}a", "ok", f"{d}b")) == 3
    assert equivalence.finished_digest_lines(("ok", f"{d}a")) == 0
