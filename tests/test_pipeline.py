"""pipeline.py's wiring: what a cold run makes ahead of time is what the stage would have made.

`early_sequences` guesses, from the parsed models, the API groups `with_groups` will find in
the built programs, and generates the sequences while the build compiles; difftest_all uses
them only when the guess is right. Both halves checked on compiled C (our group fixtures):
the guess equals the settings the programs give, and a wrong guess is not used.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from archeo.cache import Cache
from archeo.difftest import Settings
from archeo.mine import mine
from archeo.pipeline import RunConfig, build_all, difftest_all, early_sequences, parse_all, with_groups
from archeo.records import Target
from group_fixtures import C_PATH, H_PATH, planted_history

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="the build stage needs gcc")
TARGET = Target(name="groups", paths=(C_PATH,), header_paths=(H_PATH,))
CONFIG = RunConfig(settings=Settings(seeds=2, ops=300), jobs=2, timeout=5)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    history, _ = planted_history(root)
    revisions = mine(TARGET, repo=history.path)[:3]
    cache = Cache(root / "cache" / "stages")
    parsed: list[str] = []
    models = parse_all(revisions, cache, 2, lambda *a: None, parsed)
    programs = build_all(revisions, models, root / "cache", CONFIG, lambda *a: None)
    return revisions, models, programs, cache, parsed


def test_parse_all_names_what_it_parsed(built):
    revisions, _, _, cache, parsed = built
    assert parsed == [r.commit for r in revisions if r.present]
    again: list[str] = []
    parse_all(revisions, cache, 2, lambda *a: None, again)
    assert again == []  # all from the cache: a warm run makes nothing ahead of time


def test_the_early_guess_is_the_settings_the_programs_give(built):
    revisions, models, programs, _, _ = built
    assert all(p.ok for p in programs.values())
    guessed, sequences = early_sequences(CONFIG.settings, revisions, models)
    assert guessed.groups  # the fixtures offer the later API groups: a guess that can be wrong
    assert guessed == with_groups(CONFIG.settings, programs.values())
    assert sequences == guessed.sequences()


class _Made:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def test_early_sequences_are_used_only_for_the_settings_they_were_made_for(built):
    revisions, _, programs, _, _ = built
    settings = with_groups(CONFIG.settings, programs.values())
    difftest = lambda early=None: difftest_all(revisions, programs, CONFIG, Cache(None), None, lambda *a: None, early)  # noqa: E731
    behaviours = lambda result: [v.behaviour for v in result.revisions]  # noqa: E731
    right = difftest()
    core = replace(settings, groups=())  # other sequences (no group ops mixed in)
    assert behaviours(difftest(_Made((core, core.sequences())))) == behaviours(right)  # a wrong guess: ignored
    # ... and sequences said to be for these settings are what the difftest runs
    assert behaviours(difftest(_Made((settings, core.sequences())))) != behaviours(right)
