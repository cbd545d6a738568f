"""The differential run on a compiled history with planted changes (our own C fixtures).

Every planted change is found, attributed to the commit that planted it, ended by the
commit that fixes it, and shrunk to a witness of at most 12 operations; commits that
change nothing behavioural raise no alarm.
"""

import json

import pytest

from archeo.cache import Cache
from archeo.cli import main
from archeo.difftest import Settings, difftest, to_json
from archeo.execute import Executor, Limits
from archeo.mine import mine
from archeo.pipeline import RunConfig, build_all, difftest_all, parse_all, program_runner
from archeo.records import Target
from archeo.witness import write_witness
from histories import TARGET_HEADER_PATHS, TARGET_PATHS, planted_history, write_target

TARGET = Target(name="planted", paths=TARGET_PATHS, header_paths=TARGET_HEADER_PATHS)
CONFIG = RunConfig(settings=Settings(seeds=6, ops=3000), jobs=2, timeout=5)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    history = planted_history(root)
    revisions = mine(TARGET, repo=history.path)
    cache = Cache(root / "cache" / "stages")
    models = parse_all(revisions, cache, 2, lambda *a: None)
    programs = build_all(revisions, models, root / "cache", CONFIG, lambda *a: None)
    result = difftest_all(revisions, programs, CONFIG, cache, None, lambda *a: None)
    return history, revisions, result, root


def test_every_revision_builds_and_gets_a_verdict(planted):
    history, revisions, result, _ = planted
    assert [v.commit for v in result.revisions] == list(history.commits)
    assert all(v.status == "tested" for v in result.revisions)


def test_quiet_commits_raise_no_alarm(planted):
    history, _, result, _ = planted
    by = {v.commit: v for v in result.revisions}
    for plant in history.plants:
        if plant.generated == "same":
            verdict = by[history.commits[plant.index]]
            assert verdict.vs_previous is None or verdict.vs_previous.level == "same", plant.label
            assert verdict.vs_reference.level == "same", plant.label
    introduced = {c.introduced_by for c in result.changes}
    fixes = {history.commits[p.index] for p in history.plants if p.role == "fix"}
    assert not introduced & fixes  # a fix ends a change, it does not start one


@pytest.mark.parametrize("label", ["api-removed", "structural", "observable", "invariant", "crash"])
def test_each_plant_is_found_attributed_ended_and_shrunk(planted, label):
    history, _, result, _ = planted
    plant = next(p for p in history.plants if p.label == label)
    commit = history.commits[plant.index]
    fix = history.commits[plant.index + 1]
    (change,) = [c for c in result.changes if c.introduced_by == commit]  # one event, every level in it
    levels = set(change.levels)
    assert plant.trace in levels and plant.generated in levels, (label, levels)
    assert change.ended_by == fix, label
    assert change.previous == history.commits[plant.index - 1]
    assert change.witness is not None and change.witness.level == change.level == change.levels[0]
    for w in change.witnesses:
        assert w.level in levels and 1 <= len(w.ops) <= 12, (label, w)
    witness = next(w for w in change.witnesses if w.level == plant.trace)
    if plant.trace in ("structural", "invariant"):
        assert witness.ops[-1] in ("d", "v")
    if plant.trace == "crash":
        assert witness.b_status == "crash" and witness.b_kind == "SIGSEGV"


def test_equivalence_classes_group_the_correct_revisions(planted):
    history, _, result, _ = planted
    correct = {history.commits[p.index] for p in history.plants if p.generated == "same" or p.role == "fix"}
    biggest = max(result.classes, key=len)
    assert set(biggest) == correct


def test_json_is_byte_identical_across_runs(planted):
    history, revisions, result, root = planted
    again = difftest_all(revisions, build_all(revisions, parse_all(revisions, Cache(None), 1, lambda *a: None), root / "cache", CONFIG, lambda *a: None), CONFIG, Cache(None), None, lambda *a: None)
    assert json.dumps(to_json(result)) == json.dumps(to_json(again))


def subjects_of(revisions, programs, timeout, executor):
    """(commit, runner) per present revision, as pipeline.difftest_all wires them."""
    return [
        (r.commit, program_runner(programs[r.commit], timeout, executor) if programs[r.commit].ok else None)
        for r in revisions
        if r.present
    ]


def test_seeds_joined_or_run_one_by_one_give_the_same_json(planted):
    """difftest_all joins each revision's seeds with `w`; one process per seed says the same, byte for byte."""
    history, revisions, result, root = planted
    programs = build_all(revisions, parse_all(revisions, Cache(None), 1, lambda *a: None), root / "cache", CONFIG, lambda *a: None)
    with Executor(Limits(timeout=CONFIG.timeout, cpu_seconds=max(1, int(CONFIG.timeout * 0.8)))) as executor:
        subjects = subjects_of(revisions, programs, CONFIG.timeout, executor)
        per_seed = difftest(subjects, CONFIG.settings, jobs=CONFIG.jobs, combine=False)
    assert json.dumps(to_json(per_seed)) == json.dumps(to_json(result))
    assert "crash" in {v.vs_reference.level for v in result.revisions}  # joined runs were cut short and resumed


BROKEN = ("era2009", "hang", "crash", "invariant", "corrupt", "era2004", "observable")


@pytest.fixture(scope="module")
def fixture_programs(tmp_path_factory):
    """The fixture programs that hang, crash or break invariants, with a correct one and a 2004 one."""
    import histories as H
    from archeo.build import Builder, Toolchain
    from archeo.parse import parse_revision
    from archeo.records import Revision

    builder = Builder(tmp_path_factory.mktemp("fixture-programs"), False, Toolchain.probe())
    programs = {}
    for name in BROKEN:
        fx = H.FIXTURES[name]
        rev = Revision(commit=(name.encode().hex() + "0" * 40)[:40], date="2009-05-26T00:00:00+00:00",
                       author="fixtures", subject=name, status="modified", path=H.C_PATH_2004,
                       header_path="xen/include/" + fx.include, added=0, removed=0, text=fx.c_text(),
                       header_text=fx.h_text())
        program = builder.build(rev, parse_revision(rev))
        assert program.ok, program.error
        programs[name] = program
    return programs


def test_revisions_built_from_the_same_code_share_one_runner(planted):
    """The base, the text-only commit and every fix back to the base are one program (the same
    preprocessed code): one runner, run once; the result is the same as with a runner each
    (test_seeds_joined_or_run_one_by_one_give_the_same_json compares the two)."""
    from archeo.pipeline import shared_runners

    history, revisions, _, root = planted
    programs = build_all(revisions, parse_all(revisions, Cache(None), 1, lambda *a: None), root / "cache", CONFIG, lambda *a: None)
    with Executor(Limits(timeout=5, cpu_seconds=1)) as executor:
        subjects = shared_runners(revisions, programs, 5, executor)
    same = {history.commits[p.index] for p in history.plants if p.fixture == "era2009" or p.label == "text-only"}
    assert len(same) >= 3 and len({programs[c].code for c in same}) == 1 and programs[min(same)].code
    assert len({id(run) for commit, run in subjects if commit in same}) == 1
    others = [run for commit, run in subjects if commit not in same]
    assert len({id(run) for run in others}) == len(others)


def test_revisions_compiled_to_the_same_machine_code_share_one_runner(tmp_path):
    """A revision whose code differs only where the compiler throws it away (an unused static
    function) is another code identity but the same machine code: it shares the runner, and
    the JSON is that of a runner each. A program that computes otherwise keeps its own."""
    from test_build import fixture_revision

    from archeo.build import Builder, Toolchain
    from archeo.parse import parse_revision
    from archeo.runners import object_identity, shared_runners

    base = fixture_revision("era2009", commit="1" * 40)
    unused = fixture_revision("era2009", commit="2" * 40,
                              text=base.text + "\nstatic int archeo_test_unused(int x)\n{\n\treturn x * 3;\n}\n")
    other = fixture_revision("hang", commit="3" * 40)
    revisions = [base, unused, other]
    builder = Builder(tmp_path, False, Toolchain.probe())
    programs = {rev.commit: builder.build(rev, parse_revision(rev)) for rev in revisions}
    assert all(p.ok for p in programs.values()), [p.error for p in programs.values()]
    assert programs[base.commit].code != programs[unused.commit].code
    # A program copied from an earlier build of its code embeds that build's commit: the same identity.
    copy = tmp_path / "copied-program"
    copy.write_bytes(open(programs[base.commit].path, "rb").read())
    assert object_identity(str(copy), "4" * 40) == object_identity(programs[base.commit].path, base.commit)
    assert object_identity(str(copy), "4" * 40) != object_identity(programs[other.commit].path, other.commit)
    with Executor(Limits(timeout=5, cpu_seconds=1)) as executor:
        subjects = shared_runners(revisions, programs, 5, executor)
        runs = dict(subjects)
        assert runs[base.commit] is runs[unused.commit] and runs[other.commit] is not runs[base.commit]
        each = [(c, program_runner(programs[c], 5, executor)) for c in programs]
        settings = Settings(seeds=4, ops=1000)
        shared = difftest(subjects, settings, jobs=2, shrink=False)
        alone = difftest(each, settings, jobs=2, shrink=False)
    assert json.dumps(to_json(shared)) == json.dumps(to_json(alone))


def test_joined_hangs_and_crashes_match_runs_alone(fixture_programs):
    """The fixture programs that hang, crash or break invariants: joined or one by one, the same json.

    Not shrunk: `combine` decides only how the seeds are run, and shrinking starts from the
    verdicts compared here, running each candidate alone either way (it was 2 x ~2,900 runs, most
    of this file's time). Shrinking these programs' hangs and crashes is checked in test_confirm.py
    and by the planted history's tests above."""
    with Executor(Limits(timeout=5, cpu_seconds=1)) as executor:
        subjects = [(p.commit, program_runner(p, 5, executor)) for p in fixture_programs.values()]
        settings = Settings(seeds=6, ops=2000)
        joined = difftest(subjects, settings, jobs=2, combine=True, shrink=False)
        alone = difftest(subjects, settings, jobs=2, combine=False, shrink=False)
    assert json.dumps(to_json(joined)) == json.dumps(to_json(alone))
    levels = {v.commit: v.vs_reference.level for v in joined.revisions}
    assert levels[subjects[1][0]] == "hang" and levels[subjects[2][0]] == "crash"


class Counting:
    """A program runner that counts whole-trace runs and digest-mode runs; `digests=False`
    hides digest mode, so difftest reads every trace whole (the way without digests)."""

    def __init__(self, runner, digests: bool):
        self.runner, self.whole, self.digested = runner, 0, 0
        if digests:
            self.digests = self._digests

    def __call__(self, batch):
        self.whole += 1
        return self.runner(batch)

    def _digests(self, batch):
        self.digested += 1
        return self.runner.digests(batch)


def test_digests_give_the_json_of_whole_traces_and_read_only_what_differs(fixture_programs):
    """Digest mode changes nothing in the result; a revision that behaves like the reference has
    no trace read whole, and a difference shared by two revisions is read once."""
    settings = Settings(seeds=6, ops=2000)
    with Executor(Limits(timeout=5, cpu_seconds=1)) as executor:
        whole = [(p.commit, Counting(program_runner(p, 5, executor), False)) for p in fixture_programs.values()]
        digested = [(p.commit, Counting(program_runner(p, 5, executor), True)) for p in fixture_programs.values()]
        twin = fixture_programs["era2004"]  # the 2004 API twice: its NA digests are read once
        digested.append(("f" * 40, Counting(program_runner(twin, 5, executor), True)))
        whole.append(("f" * 40, Counting(program_runner(twin, 5, executor), False)))
        a = difftest(whole, settings, jobs=2, shrink=False)
        b = difftest(digested, settings, jobs=2, shrink=False)
    assert json.dumps(to_json(a)) == json.dumps(to_json(b))
    runs = {name: runner for name, (_, runner) in zip([*BROKEN, "twin"], digested)}
    assert runs["era2009"].whole == 0 and runs["era2009"].digested >= 1
    assert runs["era2004"].whole >= 1 and runs["twin"].whole == 0  # the same digests: read once
    assert all(runner.digested == 0 for _, runner in whole)
    assert {v.vs_reference.level for v in b.revisions} >= {"hang", "crash", "observable", "api", "same"}


def test_the_harness_digest_is_the_reference_digest(fixture_programs):
    """`#digest` lines from C equal trace_digest of the reference's outcome, segment by segment."""
    from archeo import ops as opslib
    from archeo.subjects.rbtree import generate as rbgen
    from archeo.difftest import reference_runner, run_digested, trace_digest

    batches = [opslib.encode(rbgen.generate(seed, 1500, profile="small"), 64) for seed in range(4)]
    reference = reference_runner()
    with Executor(Limits(timeout=5, cpu_seconds=1)) as executor:
        runner = program_runner(fixture_programs["era2009"], 5, executor)
        got = run_digested(runner, batches)
        raw = runner.digests(batches[0] + "w\n" + batches[1].split("\n", 1)[1])
    assert got == [trace_digest(reference(b)) for b in batches]
    assert raw.status == "ok" and raw.lines == (got[0], "ok", got[1])


def test_a_segment_past_the_digest_cap_is_read_whole(fixture_programs):
    """Past --digest-cap the harness folds a segment's lines away; if that segment then dies it
    says `#dropped`, and difftest reads that seed whole instead of trusting half its lines."""
    import subprocess

    from archeo import ops as opslib
    from archeo.subjects.rbtree import generate as rbgen
    from archeo.compare import Outcome
    from archeo.difftest.protocol import split_digests
    from archeo.classify import classify

    ops = rbgen.generate(0, 2000, profile="small")  # the crash fixture dies in it, past 256 bytes of trace
    batch = opslib.encode(ops)
    proc = subprocess.run([fixture_programs["crash"].path, "--digest", "--digest-cap", "256"], input=batch,
                          capture_output=True, text=True, timeout=10)
    lines = proc.stdout.splitlines()
    assert proc.returncode < 0 and lines[0] == "#dropped" and lines[-1].startswith("SIGNAL ")
    whole = Outcome.of_run(classify(proc.stdout, proc.stderr, proc.returncode))
    assert whole.status == "crash" and split_digests(whole, [len(ops)]) == ([], True)


def test_a_witness_replays_from_its_file(planted, tmp_path, capsys):
    history, _, result, root = planted
    change = next(c for c in result.changes if c.level == "observable")  # noqa: the observable plant's event
    path = tmp_path / "w.json"
    write_witness(path, change.witness, "planted")
    target = write_target(tmp_path, "planted")
    code = main(["replay", str(path), "--repo", str(history.path), "--target", str(target), "--cache", str(root / "cache")])
    out = capsys.readouterr().out
    assert code == 0 and "level: observable (recorded: observable)" in out


def test_a_bad_witness_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["replay", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("archeo: witness file") and "not valid JSON" in err and len(err.splitlines()) == 1
    bad.write_text(json.dumps({"a": "reference", "b": "x", "ops": ["q 1"]}))
    assert main(["replay", str(bad)]) == 2
    assert "bad operation" in capsys.readouterr().err


def test_an_unknown_revision_is_one_line(planted, capsys):
    history, *_ = planted
    code = main(["difftest", "--repo", str(history.path), "--path", TARGET_PATHS[0], "--revisions", "feedface", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "unknown revision 'feedface'" in err


XEN_REPO = __import__("os").environ.get("XEN_REPO")


@pytest.mark.skipif(not XEN_REPO, reason="XEN_REPO is not set to a local clone of xen-project/xen")
def test_xen_difftest_must_show(tmp_path):
    """20 seeds x 10,000 operations over the real history (issue 5's must-show)."""
    config = RunConfig()  # the defaults: 20 seeds of 10,000 operations
    revisions = [r for r in mine("xen-rbtree", repo=XEN_REPO)]
    cut = next(i for i, r in enumerate(revisions) if r.commit.startswith("696ee5ca9f4e"))
    revisions = revisions[: cut + 1]
    cache = Cache(tmp_path / "stages")
    programs = build_all(revisions, parse_all(revisions, cache, 2, lambda *a: None), tmp_path, config, lambda *a: None)
    result = difftest_all(revisions, programs, config, cache, None, lambda *a: None)
    doc = to_json(result)
    assert doc["settings"]["seeds"] >= 20 and doc["settings"]["ops"] == 10_000
    assert len(doc["revisions"]) == 29 and all(r["vs_reference"] for r in doc["revisions"])
    assert all(r["vs_previous"] for r in doc["revisions"][1:])
    api = [c for c in doc["changes"] if c["introduced_by"].startswith("6009f4ddb2cd")]
    assert [c["level"] for c in api] == ["api"] and api[0]["witness"]
    assert all(c["witness"] and len(c["witness"]) <= 12 for c in doc["changes"])
    for r in doc["revisions"]:
        for name in ("vs_reference", "vs_previous"):
            if r[name] not in (None, "same"):
                assert r["witnesses"][name], (r["commit"], name)
    assert sum(len(c) for c in doc["classes"]) == 29
    # The 2017 rb_erase regression and its fix (a real finding of this tool).
    # One event per regression (archeo/events.py): the strongest level, and every level seen.
    broken = [c for c in doc["changes"] if c["introduced_by"].startswith("e95def2cb97d")]
    assert len(broken) == 1 and broken[0]["level"] == "crash"
    assert {"crash", "invariant"} <= set(broken[0]["levels"])
    assert broken[0]["ended_by"].startswith("bd9cc37a0404")


@pytest.mark.skipif(not XEN_REPO, reason="XEN_REPO is not set to a local clone of xen-project/xen")
def test_xen_seeds_joined_or_run_one_by_one_give_the_same_json(tmp_path):
    """All 29 revisions, default settings: the two with the rb_erase bug crash and hang mid-batch."""
    config = RunConfig()
    revisions = mine("xen-rbtree", repo=XEN_REPO)
    cache = Cache(tmp_path / "stages")
    programs = build_all(revisions, parse_all(revisions, cache, 2, lambda *a: None), tmp_path, config, lambda *a: None)
    with Executor(Limits(timeout=config.timeout, cpu_seconds=max(1, int(config.timeout * 0.8)))) as executor:
        subjects = subjects_of(revisions, programs, config.timeout, executor)
        joined = difftest(subjects, config.settings, jobs=2, shrink=False, combine=True)
        alone = difftest(subjects, config.settings, jobs=2, shrink=False, combine=False)
    assert json.dumps(to_json(joined)) == json.dumps(to_json(alone))
    assert {v.vs_reference.level for v in joined.revisions} >= {"crash", "same"}



def test_the_reference_in_its_own_process_says_what_it_says_here(planted):
    """jobs > 1 forks the reference, which makes its hashes and digests from the trace text:
    the same values as from the outcome here, so the same JSON as with jobs=1."""
    from archeo import ops as opslib
    from archeo.subjects.rbtree import generate as rbgen
    from archeo.compare import Outcome
    from archeo.difftest import ReferenceProcess, outcome_hash, trace_digest
    from archeo.subjects.rbtree.harness import run_batch

    settings = Settings(seeds=4, ops=500)
    batches = settings.batches(settings.sequences()) + [opslib.encode([rbgen.DUMP])]
    expected = []
    for batch in batches:
        text = run_batch(batch)
        outcome = Outcome.of_trace(text)
        expected.append((text, outcome_hash(outcome), trace_digest(outcome)))
    assert ReferenceProcess(batches).result() == expected
    history, revisions, _, root = planted
    programs = build_all(revisions, parse_all(revisions, Cache(None), 1, lambda *a: None), root / "cache", CONFIG, lambda *a: None)
    with Executor(Limits(timeout=5, cpu_seconds=1)) as executor:
        subjects = subjects_of(revisions, programs, 5, executor)
        forked = difftest(subjects, settings, jobs=2, shrink=False)
        in_thread = difftest(subjects, settings, jobs=1, shrink=False)
    assert json.dumps(to_json(forked)) == json.dumps(to_json(in_thread))
