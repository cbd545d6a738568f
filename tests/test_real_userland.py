"""The real userland histories: fio's and btrfs-progs' copies of the kernel's red-black tree.

Run only where FIO_REPO / BTRFS_REPO name local clones (nothing of either project is in this
repository; only facts about their histories: commit ids, counts, names).
"""

from __future__ import annotations

import os
import shutil

import pytest

from archeo.build import Builder
from archeo.parse import parse_revision
from archeo.mine import check_expectations, mine
from archeo.target import load_target

FIO_REPO = os.environ.get("FIO_REPO")
BTRFS_REPO = os.environ.get("BTRFS_REPO")

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
needs_fio = pytest.mark.skipif(not FIO_REPO, reason="set FIO_REPO to a local clone of axboe/fio")
needs_btrfs = pytest.mark.skipif(not BTRFS_REPO, reason="set BTRFS_REPO to a local clone of kdave/btrfs-progs")


def built(rev, cache):
    model = parse_revision(rev)
    assert model.ok, (rev.short, model.error)
    program = Builder(cache).build(rev, model)
    assert program.ok, (rev.short, program.error)
    return model, program


@needs_fio
def test_fio_every_revision_is_mined_and_builds(tmp_path):
    target = load_target("fio")
    revisions = mine(target, repo=FIO_REPO)
    assert len(revisions) == 11
    assert all(check.ok for check in check_expectations(target, revisions))
    by_short = {r.short: r for r in revisions}
    assert by_short["057754389863"].status == "renamed"  # the side branch's move, a year early
    for rev in revisions:
        model, program = built(rev, tmp_path)
        assert any(n.startswith("platform userland") for n in program.notes)
    renamed = parse_revision(by_short["e96c0125b802"])
    assert any(s.name == "struct fio_rb_node" for s in renamed.structs)


@needs_btrfs
def test_btrfs_progs_closure_revisions_and_a_sample_builds(tmp_path):
    target = load_target("btrfs-progs")
    revisions = mine(target, repo=BTRFS_REPO)
    assert len(revisions) == 111
    assert all(check.ok for check in check_expectations(target, revisions))
    closure_only = [r for r in revisions if r.touched == ("closure",)]
    assert len(closure_only) > 50
    by_short = {r.short: r for r in revisions}
    assert "kernel-lib/rbtree_augmented.h" in by_short["b2dc5d0037a4"].closure
    for rev in (revisions[0], by_short["b2dc5d0037a4"], revisions[-1]):
        built(rev, tmp_path)
