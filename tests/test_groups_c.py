"""The later API groups on compiled C (our fixtures): the harness's group ops agree with the
reference on a correct implementation, and each planted fault is found, attributed to its
commit, ended by the fix, and shrunk to a witness of at most 12 operations that uses the
faulty group's op. A revision without a group answers NA: an API difference, not a failure.
"""

from __future__ import annotations

import pytest

from archeo import ops
from archeo.subjects.rbtree import generate as gen
from archeo.subjects.rbtree import vocabulary as vocab
from archeo.cache import Cache
from archeo.difftest import Settings
from archeo.mine import mine
from archeo.pipeline import RunConfig, build_all, difftest_all, parse_all, program_runner
from archeo.records import Target
from archeo.subjects.rbtree import interp
from group_fixtures import C_PATH, GROUP_FIXTURES, H_PATH, PLANTS, planted_history

TARGET = Target(name="groups", paths=(C_PATH,), header_paths=(H_PATH,))
CONFIG = RunConfig(settings=Settings(seeds=6, ops=8000), jobs=2, timeout=5)  # large seeds: past the 4000-key fill


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("groups")
    history, steps = planted_history(root)
    revisions = mine(TARGET, repo=history.path)
    cache = Cache(root / "cache" / "stages")
    models = parse_all(revisions, cache, 2, lambda *a: None)
    programs = build_all(revisions, models, root / "cache", CONFIG, lambda *a: None)
    result = difftest_all(revisions, programs, CONFIG, cache, None, lambda *a: None)
    labels = {history.commits[i]: s.label for i, s in enumerate(steps)}
    return history, steps, programs, result, labels


def test_the_base_offers_every_group_op_and_matches_the_reference(planted):
    history, _, programs, _, _ = planted
    program = programs[history.commits[0]]
    assert program.ok, program.error
    assert set("".join(vocab.GROUP_CODES.values())) <= set(program.ops)
    run = program_runner(program, 5)
    for profile in ("small", "large"):
        for seed in range(2):
            n = 3000 if profile == "small" else 12000  # large fills 4000 keys first
            seq = gen.generate(seed, n, profile=profile, groups=vocab.GROUPS)
            used = {op.code for op in seq}
            assert set("IERLPABab+&?[]u") <= used, profile
            text = ops.encode(seq, gen.PROFILES[profile].keyspace)
            outcome = run(text)
            assert outcome.status == "ok"
            assert list(outcome.lines) == interp.run_batch(text).split("\n")[:-2]


def test_the_run_mixes_the_groups_in(planted):
    _, _, _, result, _ = planted
    assert result.settings.groups == vocab.GROUPS


@pytest.mark.parametrize("name", PLANTS)
def test_each_group_plant_is_found_attributed_ended_and_shrunk(planted, name):
    history, steps, _, result, labels = planted
    fixture = GROUP_FIXTURES[name]
    index = next(i for i, s in enumerate(steps) if s.label == name)
    commit, fix = history.commits[index], history.commits[index + 1]
    changes = [c for c in result.changes if c.introduced_by == commit]
    levels = {c.level for c in changes}
    assert fixture.trace in levels, (name, levels)
    for change in changes:
        if change.level == "hang":  # a timing verdict on a loaded machine (issue 11), not the plant
            continue
        assert change.ended_by == fix, name
        assert change.witness is not None and 1 <= len(change.witness.ops) <= 12, (name, change.witness)
        assert any(tok.split()[0] in fixture.op for tok in change.witness.ops), (name, change.witness.ops)
    assert not {c.introduced_by for c in result.changes} - {history.commits[i] for i, s in enumerate(steps) if s.label in PLANTS}


def test_api_eras_name_the_commits_that_changed_the_groups(planted, tmp_path):
    from archeo.report.history import api_eras as _api_eras
    from archeo.study import Study

    history, steps, programs, result, _ = planted
    revisions = mine(TARGET, repo=history.path)
    cache = Cache(tmp_path / "stages")
    models = parse_all(revisions, cache, 2, lambda *a: None)
    study = Study(TARGET, str(history.path), history.commits[-1], revisions, models, {}, {}, programs, result, "test")
    order = {c: i for i, c in enumerate(history.commits)}
    eras = _api_eras(study, order)
    rows = {row["group"]: row for row in eras["groups"]}
    assert set(rows) == set(vocab.GROUPS)
    rcu = rows["rcu"]["spans"]  # norcu drops it, its fix brings it back
    norcu = history.commits[next(i for i, s in enumerate(steps) if s.label == "norcu")]
    assert rcu[0] == {"from": history.commits[0], "to": norcu}
    assert rcu[1] == {"from": history.commits[-1], "to": None}
    assert [e["commit"] for e in eras["events"]] == [history.commits[0], norcu, history.commits[-1]]
    assert eras["events"][1]["removed"] == ["rcu"]


def test_the_report_names_the_groups_mixed_into_the_sequences(planted):
    from dataclasses import replace

    from archeo.report.findings import _inputs
    from archeo.report.words import settings_words
    from archeo.study import Study

    history, _, programs, result, _ = planted
    study = Study(TARGET, str(history.path), history.commits[-1], [], {}, {}, {}, programs, result, "test")
    inputs = _inputs(study)
    assert inputs["groups"] == list(vocab.GROUPS)
    assert settings_words(inputs).endswith("mixed in: " + ", ".join(vocab.GROUPS))
    plain = replace(study, difftest=replace(result, settings=Settings(seeds=6, ops=8000)))
    assert "groups" not in _inputs(plain)  # a run without groups (Xen's) keeps its inputs as they were


def test_mutants_of_the_group_functions_are_tested_with_group_ops_and_counted_apart(planted, tmp_path):
    from archeo.mutate import MutateSettings, by_group, mutate_history, to_json, with_model_groups

    history, _, _, _, _ = planted
    revisions = [r for r in mine(TARGET, repo=history.path) if r.commit == history.commits[0]]
    models = parse_all(revisions, Cache(tmp_path / "stages"), 2, lambda *a: None)
    settings = MutateSettings(max_mutants=24, usual=Settings(seeds=2, ops=600, profiles=("small",)),
                              quick_seeds=2, quick_ops=300, deep_factor=1, deep_ops=1000, witness=False)
    settings = with_model_groups(settings, list(models.values()))
    (result,) = mutate_history(revisions, models, tmp_path / "cache", settings, jobs=2)
    assert result.round_trip.identical, result.round_trip
    groups = by_group([result])
    assert "core" in groups and set(groups) - {"core"}, groups  # some mutants sit in group functions
    doc = to_json([result], settings)
    assert doc["settings"]["usual"]["groups"] == list(vocab.GROUPS)  # the sequences call the groups
    assert sum(g["made"] for g in doc["by_group"].values()) == doc["total"]["made"]
    from archeo.report.mutation import mutation_findings, mutation_md

    section = mutation_findings([result])
    assert list(section["by_group"]) == list(groups)  # the report counts them apart too
    assert sum(g["made"] for g in section["by_group"].values()) == section["total"]["made"]
    md = "\n".join(mutation_md(section, 1))
    assert all(f"| {g} | {section['by_group'][g]['made']} |" in md for g in groups)


def test_the_bounded_check_drives_the_groups_the_run_mixes_in(planted):
    """rb_find_first returning the last equal node: the core-only bounded material never calls
    it, so it alone would call the plant equivalent; with the search group's material it is told
    apart, on a short sequence that uses rb_find_first."""
    from archeo.equivalence import bounded_difference

    history, steps, programs, _, _ = planted
    findlast = history.commits[next(i for i, s in enumerate(steps) if s.label == "findlast")]
    base, plant = (program_runner(programs[c], 10) for c in (history.commits[0], findlast))
    assert bounded_difference(base, plant) is None
    level, sequence, _ = bounded_difference(base, plant, ("search",))
    assert level == "observable" and any(op.split()[0] in "[]" for op in sequence), sequence
    assert len(sequence) <= 60


def test_a_header_inline_group_function_is_mutated_where_the_harness_sees_it(planted, tmp_path):
    """rb_find_first is a header inline: its mutant patches the header the harness includes
    (archeo/mutant_headers.py) and is killed; the same change in the .c's copy alone is not seen."""
    from dataclasses import replace

    from archeo.mutants import enumerate_mutants, load_unit
    from archeo.mutate import MutateSettings, mutate_revision
    from archeo.parse import parse_revision

    history, _, _, _, _ = planted
    (rev,) = [r for r in mine(TARGET, repo=history.path) if r.commit == history.commits[0]]
    unit = load_unit(rev)
    assert {unit.ast.ext[i].decl.name for i in unit.headers} >= {"rb_add", "rb_find", "rb_find_first", "rb_next_match"}
    assert set(unit.headers.values()) == {H_PATH}
    assert "rb_add" in unit.functions
    mutants = [m for m in enumerate_mutants(unit) if m.function == "rb_find_first" and m.operator == "delete-statement"]
    assert mutants and all(m.header == H_PATH for m in mutants)
    settings = MutateSettings(usual=Settings(seeds=2, ops=2000, profiles=("small",), groups=vocab.GROUPS),
                              quick_seeds=2, quick_ops=500, deep_factor=1, deep_ops=2000, witness=False)
    model = parse_revision(rev)
    seen = mutate_revision(rev, model, tmp_path / "cache", settings, unit=unit, mutants=mutants)
    assert seen.round_trip.identical, seen.round_trip
    killed = [r for r in seen.mutants if r.killed]
    assert killed, [(r.mutant.before, r.status) for r in seen.mutants]
    hidden = mutate_revision(rev, model, tmp_path / "cache", replace(settings, deep_factor=1), unit=unit,
                             mutants=[replace(killed[0].mutant, header="")])
    assert not hidden.mutants[0].killed  # in the .c's copy only, the harness never calls it
