"""archeo mutate: operators, round trip, classification, report, CLI; Xen must-shows with XEN_REPO.

The C mutated here is our own (tests/fixtures, MIT) or a few lines changed in it. The Xen
tests read a local clone named by XEN_REPO and skip without it; nothing of Xen is written
anywhere but the temporary build cache.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace

import pytest

import histories as H
from archeo.build import Builder
from archeo.parse import parse_revision
from archeo.difftest import Settings
from archeo.errors import ArcheoError
from archeo.mutants import OPERATORS, enumerate_mutants, load_unit, select_mutants
from archeo.mutate import (
    MutateSettings,
    mutate_history,
    mutate_revision,
    round_trips,
    to_json,
)
from archeo.records import Revision
from archeo.report.mutation import mutation_findings, mutation_md


def mutation_section_md(results) -> str:
    """The report's Markdown mutation section for these results."""
    return "\n".join(mutation_md(mutation_findings(list(results)), 1))

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="mutants are built with gcc")

XEN_REPO = os.environ.get("XEN_REPO")

# Small but honest: the usual seeds shrunk so that the fixture tests stay fast.
FAST = MutateSettings(
    usual=Settings(seeds=4, ops=2_000),
    quick_seeds=2,
    quick_ops=500,
    deep_factor=2,
    deep_ops=4_000,
    timeout=5.0,
)


def fixture_revision(name: str, text: str | None = None) -> Revision:
    fx = H.FIXTURES[name]
    return Revision(
        commit=(name.encode().hex() + "0" * 40)[:40],
        date="2009-05-26T00:00:00+00:00",
        author="fixtures",
        subject=name,
        status="modified",
        path=H.C_PATH_2004,
        header_path="xen/include/" + fx.include,
        added=0,
        removed=0,
        text=fx.c_text() if text is None else text,
        header_text=fx.h_text(),
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mutate-cache")


@pytest.fixture(scope="module")
def builder(cache):
    return Builder(cache)


def pick(mutants, function, operator, before=None):
    found = [m for m in mutants if m.function == function and m.operator == operator and (before is None or m.before == before)]
    assert found, f"no {operator} mutant in {function} (before={before!r})"
    return found[0]


# ---------------------------------------------------------------- operators
@pytest.mark.parametrize("name", ["era2004", "era2009", "era2017"])
def test_every_operator_applies_and_only_own_functions_change(name):
    rev = fixture_revision(name)
    unit = load_unit(rev)
    mutants = enumerate_mutants(unit)
    assert "#include" not in unit.text().split("#endif", 1)[1]  # the includes are kept only inside #if 0
    assert set(unit.functions) >= {"rb_insert_color", "rb_erase"}
    assert {m.function for m in mutants} <= set(unit.functions)
    ops = {m.operator for m in mutants}
    expected = set(OPERATORS) - ({"colour-test"} if name == "era2017" else set())
    assert expected <= ops, expected - ops
    texts = {unit.text(m) for m in mutants}
    assert len(texts) == len(mutants) and unit.text() not in texts  # each mutant is a distinct change
    for m in mutants[:50]:
        assert m.line > 0 and m.description and m.before != m.after
    assert unit.text() == load_unit(rev).text()  # enumerating left the AST as it was


def test_selection_is_seeded_bounded_and_spread():
    unit = load_unit(fixture_revision("era2009"))
    mutants = enumerate_mutants(unit)
    a = select_mutants(mutants, 40, seed=1, key="x")
    assert a == select_mutants(mutants, 40, seed=1, key="x")
    assert a != select_mutants(mutants, 40, seed=2, key="x")
    assert len(a) == 40 and len({m.index for m in a}) == 40
    assert len({m.operator for m in a}) == len({m.operator for m in mutants})
    assert len({m.function for m in a}) >= 6
    assert select_mutants(mutants, None) == mutants


def test_a_group_function_counts_apart_only_when_the_run_has_its_group():
    """Xen's `__rb_erase_color` (no augmented API beside it) is core; btrfs-progs' is augmented."""
    from archeo.mutants import Mutant
    from archeo.mutation_results import MutantResult, MutationResult, RoundTrip, by_group

    def killed(function):
        return MutantResult(Mutant(0, function, 1, "comparison", "", "", ""), "killed", level="invariant")

    result = MutationResult("c", "", "", "", RoundTrip("c", True, True), mutants=[killed("__rb_erase_color"), killed("rb_erase")])
    assert list(by_group([result])) == ["core"]
    assert {g: c["made"] for g, c in by_group([replace(result, groups=("augmented",))]).items()} == {"core": 1, "augmented": 1}


def test_the_printer_puts_extension_first_where_gcc_accepts_it(tmp_path):
    """System headers (a userland revision's) declare with `__extension__`; pycparserext keeps it
    among the qualifiers, and printed after `extern`/`typedef` gcc rejects the unit."""
    import subprocess

    from pycparserext.ext_c_parser import GnuCParser

    from archeo.mutants import Printer

    source = (
        "__extension__ typedef struct { long long int quot; } lldiv_t;\n"
        "extern __extension__ long long int atoll(const char *p);\n"
        "extern __extension__ char *(*pick)(int);\n"
        "struct s { __extension__ unsigned long long v; };\n"
        "__inline static __extension__ unsigned long long f(void) { __extension__ long long x = 0; return x; }\n"
    )
    text = Printer().visit(GnuCParser().parse(source))
    (tmp_path / "unit.c").write_text(text)
    proc = subprocess.run(["gcc", "-c", "-o", os.devnull, str(tmp_path / "unit.c")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert text.count("__extension__") == 6 and "extern long long int atoll" in text


# ---------------------------------------------------------------- round trip and classification
@pytest.mark.parametrize("name", ["era2004", "era2009", "era2017"])
def test_round_trip_builds_and_behaves_identically(name, cache, builder):
    rev = fixture_revision(name)
    model = parse_revision(rev)
    result = mutate_revision(rev, model, cache, FAST, builder=builder, mutants=[])
    assert result.round_trip.built and result.round_trip.identical, result.round_trip
    assert result.round_trip.seeds == 4 and not result.error


def test_a_known_fault_is_caught_with_a_witness(cache, builder):
    """A colour constant flipped in the insert fixup: the tester must see it."""
    rev = fixture_revision("era2009")
    unit = load_unit(rev)
    mutants = enumerate_mutants(unit)
    flip = pick(mutants, "rb_insert_color", "colour-constant")
    swap = pick(mutants, "rotate_left", "swap-left-right")
    result = mutate_revision(rev, parse_revision(rev), cache, FAST, builder=builder, unit=unit, mutants=[flip, swap])
    by_id = {r.mutant.ident: r for r in result.mutants}
    caught = by_id[flip.ident]
    assert caught.killed, caught
    assert caught.level in ("invariant", "crash", "hang", "observable", "structural")
    assert caught.witness is not None and 0 < len(caught.witness.ops) <= 40
    assert by_id[swap.ident].killed
    assert result.kill_score == 1.0


def test_an_equivalent_mutant_survives_and_is_listed(cache, builder):
    """A redundant re-read (our own edit of era2009): deleting it changes nothing."""
    text = H.FIXTURES["era2009"].c_text()
    old = "        return NULL;\n    while ( n->rb_left != NULL )"
    assert text.count(old) == 1
    rev = fixture_revision("era2009", text.replace(old, "        return NULL;\n    n = root->rb_node;\n    while ( n->rb_left != NULL )"))
    unit = load_unit(rev)
    redundant = pick(enumerate_mutants(unit), "rb_first", "delete-statement", "n = root->rb_node")
    result = mutate_revision(rev, parse_revision(rev), cache, FAST, builder=builder, unit=unit, mutants=[redundant])
    (r,) = result.mutants
    assert r.status == "survived" and r.equivalent and not r.deep_level
    assert result.survivors == [r]
    assert result.counts["equivalent"] == 1 and result.kill_score is None  # nothing left to score
    section = mutation_section_md([result])
    assert "rb_first" in section and f"line {redundant.line}" in section and "equivalent" in section
    assert r.equivalence in ("object-code", "bounded")
    doc = to_json([result], FAST)
    assert doc["revisions"][0]["survivors"][0]["equivalent"] is True


def test_a_looping_mutant_is_hung(cache, builder):
    rev = fixture_revision("era2009")
    unit = load_unit(rev)
    loop = pick(enumerate_mutants(unit), "rb_first", "delete-statement", "n = n->rb_left")
    settings = replace(FAST, witness=False)
    result = mutate_revision(rev, parse_revision(rev), cache, settings, builder=builder, unit=unit, mutants=[loop])
    (r,) = result.mutants
    assert r.status == "hung" and r.level == "hang" and r.kind in ("cpu-limit", "timeout"), r


def test_stillborn_mutants_are_counted_apart(cache, builder):
    rev = fixture_revision("era2009")
    unit = load_unit(rev)
    m = pick(enumerate_mutants(unit), "rb_first", "delete-statement", "n = n->rb_left")
    broken = replace(m, function_text=m.function_text.replace("{", "{ this does not compile;", 1))
    result = mutate_revision(rev, parse_revision(rev), cache, FAST, builder=builder, unit=unit, mutants=[broken])
    (r,) = result.mutants
    assert r.status == "stillborn" and r.error
    assert result.counts["stillborn"] == 1 and result.kill_score is None


def test_a_sample_of_mutants_runs_in_parallel_and_reports(cache, builder):
    rev = fixture_revision("era2017")
    settings = replace(FAST, max_mutants=24, witness=False)
    (result,) = mutate_history([rev], {rev.commit: parse_revision(rev)}, cache, settings, jobs=2)
    c = result.counts
    assert c["made"] == 24
    assert c["stillborn"] + c["killed"] + c["crashed"] + c["hung"] + c["survived"] == 24
    assert c["killed"] == sum(c[level] for level in ("api", "structural", "observable", "invariant"))
    doc = to_json([result], settings)
    json.dumps(doc)
    assert doc["schema"] == "archeo-mutate/1" and doc["total"]["made"] == 24
    table = mutation_section_md([result])
    assert table.count("\n| `") == 1 and "kill score" in table


def test_cli_mutate_on_a_fixture_history(tmp_path, capsys):
    from archeo.cli import main

    hist = H.standard_history(tmp_path)
    argv = [
        "mutate", "--repo", str(hist.path), "--cache", str(tmp_path / "cache"), "--revisions", hist.commit("re-add")[:10],
        "--max-mutants", "6", "--seeds", "2", "--ops", "500", "--no-witness", "--json", "--quiet",
    ]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    (rev,) = doc["revisions"]
    assert rev["commit"] == hist.commit("re-add") and rev["round_trip"]["identical"]
    assert rev["counts"]["made"] == 6
    assert main([a for a in argv if a != "--json"]) == 0  # the same, as text: both scores
    c = rev["counts"]
    raw = 100 * (c["killed"] + c["crashed"] + c["hung"]) / (c["made"] - c["stillborn"])
    assert f"raw score {raw:.1f}%" in capsys.readouterr().out
    assert main(["mutate", "--repo", str(hist.path), "--cache", str(tmp_path / "cache"), "--round-trip-only", "--seeds", "3", "--ops", "1000", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "identical" in out and "differs" not in out


def test_settings_are_checked():
    with pytest.raises(ArcheoError):
        MutateSettings(max_mutants=0)
    with pytest.raises(ArcheoError):
        MutateSettings(timeout=0)


# ---------------------------------------------------------------- Xen (a local clone)
@pytest.fixture(scope="module")
def xen():
    if not XEN_REPO:
        pytest.skip("set XEN_REPO to a local Xen clone")
    from archeo.mine import mine
    from archeo.target import load_target

    revisions = [r for r in mine(load_target(), repo=XEN_REPO) if r.present]
    models = {r.commit: parse_revision(r) for r in revisions}
    return revisions, models


@pytest.mark.xen
def test_xen_round_trip_is_identical_on_every_revision(xen, cache):
    revisions, models = xen
    trips = round_trips(revisions, models, cache, MutateSettings(), jobs=2)
    assert len(trips) == len(revisions) == 29
    bad = [(t.commit[:12], t.error or t.level) for t in trips if not (t.built and t.identical)]
    assert not bad


@pytest.mark.xen
def test_xen_2009_kill_score(xen, cache):
    """The must-show for one revision (bench/bench_mutate.py runs four): >= 95% of the mutants not shown equivalent."""
    revisions, models = xen
    rev = next(r for r in revisions if r.date.startswith("2009"))
    settings = MutateSettings(max_mutants=200, witness=False)
    result = mutate_revision(rev, models[rev.commit], cache, settings, jobs=2)
    assert result.round_trip.identical
    c = result.counts
    assert c["made"] == 200
    assert result.kill_score is not None and result.kill_score >= 0.95, (c, [s.mutant for s in result.survivors])


# ---------------------------------------------------------------- equivalence is shown, never presumed
def test_a_survivor_the_seeds_miss_is_told_apart_by_the_bounded_check(cache, builder):
    """With seeds too weak to show anything (one insert), a colour flip in the insert fixup
    survives them; the bounded exhaustive check finds the short sequence it escapes by, and
    the survivor counts against the kill score instead of being presumed equivalent."""
    from archeo import ops as opslib
    from archeo.mutate import Material, _batches

    rev = fixture_revision("era2009")
    unit = load_unit(rev)
    flip = pick(enumerate_mutants(unit), "rb_insert_color", "colour-constant")
    material = Material(FAST)
    weak = _batches([(0, [opslib.Op("i", 0)])])
    material.usual, material.quick, material._deep = weak, weak, weak
    result = mutate_revision(rev, parse_revision(rev), cache, FAST, builder=builder, unit=unit, mutants=[flip], material=material)
    (r,) = result.mutants
    assert r.status == "survived" and not r.equivalent and r.phase == "bounded", r
    assert r.deep_level in ("structural", "observable", "invariant", "crash", "hang")
    assert 0 < len(r.escapes) <= 40 and r.escapes[0].startswith("i ")
    assert result.kill_score == 0.0  # it counts against the score
    words = mutation_section_md([result])
    assert "not equivalent" in words and r.escapes[0] in words
    assert "API group" not in words  # a core-only history's section has no group table


def test_object_code_tells_a_mutant_from_its_original(cache, builder):
    from archeo.equivalence import object_code

    rev = fixture_revision("era2009")
    unit, model = load_unit(rev), parse_revision(rev)
    original = object_code(builder, unit.revision(), model)
    assert original is not None and original == object_code(builder, unit.revision(), model)
    flip = pick(enumerate_mutants(unit), "rb_insert_color", "colour-constant")
    assert object_code(builder, unit.revision(flip), model) not in (None, original)


def test_the_bounded_check_finds_a_planted_fault_and_passes_a_text_only_change(cache, builder):
    from archeo.equivalence import bounded_difference
    from archeo.pipeline import program_runner

    def runner(name):
        rev = fixture_revision(name)
        program = builder.build(rev, parse_revision(rev))
        assert program.ok, program.error
        return program_runner(program, 10.0)

    base = runner("era2009")
    assert bounded_difference(base, runner("textonly")) is None
    level, sequence, _ = bounded_difference(base, runner("observable"))
    assert level == "observable" and any(op.startswith("n ") for op in sequence)


def test_a_mutant_the_compiler_makes_identical_is_equivalent_by_object_code(cache, builder):
    """A dead local added to rb_first: -O2 drops it, the object code is the original's, and
    the survivor is shown equivalent without the bounded check."""
    rev = fixture_revision("era2009")
    unit = load_unit(rev)
    some = pick(enumerate_mutants(unit), "rb_first", "delete-statement")
    original_text = unit.texts[some.ext]
    at = original_text.index("{") + 1
    dead = replace(some, function_text=original_text[:at] + " int archeo_dead = 0; (void) archeo_dead;" + original_text[at:])
    result = mutate_revision(rev, parse_revision(rev), cache, FAST, builder=builder, unit=unit, mutants=[dead])
    (r,) = result.mutants
    assert r.status == "survived" and r.equivalent and r.equivalence == "object-code", r
