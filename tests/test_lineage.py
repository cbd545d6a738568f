"""archeo lineage on three fixture histories written here.

alpha is the "upstream": era2009, then a planted crash in rb_erase, its fix, and era2017.
beta copies alpha's correct 2009 code in 2011, trims rb_prev in 2013, and refreshes to
era2017 in 2018 (a refresh that changes no behaviour). gamma copies alpha while it carried
the crash (2010) and refreshes to era2017 in 2019 (a refresh that fixes it).
"""

from __future__ import annotations

import json

import pytest

from archeo.cli import main
from archeo.lineage import ancestry
from archeo.lineage.records import REFERENCE_CLASS
from histories import C_PATH_2004, H_PATH_XEN, Step, build_history, write_target


def _code(fixture: str) -> dict:
    return {C_PATH_2004: f"{fixture}.c", H_PATH_XEN: f"{fixture}.h"}


HISTORIES = {
    "alpha": [("2009-06-01", "era2009"), ("2010-01-10", "crash"), ("2010-06-01", "era2009"), ("2017-06-20", "era2017")],
    "beta": [("2011-03-01", "era2009"), ("2013-05-05", "noprev"), ("2018-02-02", "era2017")],
    "gamma": [("2010-03-03", "crash"), ("2019-09-09", "era2017")],
}


@pytest.fixture(scope="module")
def lineage_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lineage")
    args, commits = [], {}
    for name, steps in HISTORIES.items():
        built = build_history(tmp, [Step(f"{name}: {fx}", date, writes=_code(fx)) for date, fx in steps], name=name)
        commits[name] = built.commits
        args += ["--target", str(write_target(tmp, name)), "--repo", f"{name}={built.path}"]
    out = tmp / "report"
    common = [*args, "--seeds", "4", "--ops", "2000", "--cache", str(tmp / "cache"), "--quiet", "--out", str(out)]
    code = main(["lineage", *common])
    document = json.loads((out / "lineage.json").read_text())
    return code, document, commits, out, common


def _classes(document) -> dict[str, set]:
    return {c["name"]: {(m["target"], m["commit"]) for m in c["members"]} for c in document["classes"]}


def test_classes_span_histories_and_a_trimmed_api_does_not_split_them(lineage_run):
    code, document, commits, _, _ = lineage_run
    assert code == 0
    classes = _classes(document)
    bad = {("alpha", commits["alpha"][1]), ("gamma", commits["gamma"][0])}
    assert set(classes) == {REFERENCE_CLASS, "B1"}
    assert classes["B1"] == bad
    every = {(name, c) for name, cs in commits.items() for c in cs}
    assert classes[REFERENCE_CLASS] == every - bad  # beta's noprev revision (api only) included
    b1 = next(c for c in document["classes"] if c["name"] == "B1")
    assert b1["known_bad"] and b1["level"] == "crash"


def test_copies_and_refreshes_find_their_source(lineage_run):
    _, document, commits, _, _ = lineage_run
    arrows = {(a["target"], a["commit"]): a for a in document["arrows"]}
    beta_copy = arrows["beta", commits["beta"][0]]
    assert beta_copy["kind"] == "copy" and beta_copy["source"]["target"] == "alpha"
    assert beta_copy["source"]["commit"] in (commits["alpha"][0], commits["alpha"][2])  # era2009, identical
    assert beta_copy["similarity"] == 1.0
    gamma_copy = arrows["gamma", commits["gamma"][0]]
    assert gamma_copy["source"] == {"target": "alpha", "commit": commits["alpha"][1]}  # copied the crash
    beta_refresh = arrows["beta", commits["beta"][2]]
    assert beta_refresh["kind"] == "refresh" and beta_refresh["previous_similarity"] < ancestry.REFRESH_BELOW
    assert beta_refresh["source"] == {"target": "alpha", "commit": commits["alpha"][3]}
    gamma_refresh = arrows["gamma", commits["gamma"][1]]
    assert gamma_refresh["kind"] == "refresh" and gamma_refresh["source"]["commit"] in (commits["alpha"][3], commits["beta"][2])
    # a small patch is neither a copy nor a refresh, and alpha's first revision has no earlier source
    assert ("beta", commits["beta"][1]) not in arrows and ("alpha", commits["alpha"][1]) not in arrows
    assert arrows["alpha", commits["alpha"][0]]["source"] is None


def test_the_known_bad_search_finds_the_copy_that_carries_it_and_not_the_one_that_fixed_it(lineage_run):
    _, document, commits, _, _ = lineage_run
    (search,) = document["known_bad"]
    assert search["class"] == "B1" and search["origin"] == {"target": "alpha", "commit": commits["alpha"][1]}
    carriers = {(c["target"], c["commit"]) for c in search["carriers"]}
    assert carriers == {("alpha", commits["alpha"][1]), ("gamma", commits["gamma"][0])}
    assert all(c["replay"].startswith("crash") for c in search["carriers"])
    assert 0 < len(search["witness"]) <= 12 and search["replayed_on"] == 9
    assert "gamma" in search["statement"] and "carry" in search["statement"]


def test_the_figure_draws_every_revision_and_every_arrow(lineage_run):
    _, document, _, out, _ = lineage_run
    svg = (out / "lineage.svg").read_text()
    assert svg.count("<circle") == len(document["revisions"]) == 9
    assert svg.count("marker-end=") == sum(1 for a in document["arrows"] if a["source"])
    html = (out / "index.html").read_text()
    assert "<svg" in html and "Known-bad search" in html
    assert "lineage.svg" in (out / "index.md").read_text()


def test_a_second_run_gives_byte_identical_json(lineage_run, tmp_path):
    _, _, _, out, common = lineage_run
    again = tmp_path / "again"
    args = list(common)
    args[args.index("--out") + 1] = str(again)
    assert main(["lineage", *args]) == 0
    assert (again / "lineage.json").read_bytes() == (out / "lineage.json").read_bytes()


def test_the_json_follows_its_schema(lineage_run):
    jsonschema = pytest.importorskip("jsonschema")
    from importlib.resources import files

    schema = json.loads(files("archeo").joinpath("schemas/lineage.schema.json").read_text())
    jsonschema.validate(lineage_run[1], schema)


def test_a_repo_for_an_unknown_target_is_one_clear_error(tmp_path, capsys):
    target = write_target(tmp_path, "alpha")
    assert main(["lineage", "--target", str(target), "--repo", "beta=/nowhere", "--cache", str(tmp_path)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "beta" in err[0] and "alpha" in err[0]


def test_normalising_drops_comments_layout_and_project_prefixes():
    a = ancestry.normal_tokens("/* x */ void fio_rb_erase(struct fio_rb_node *n)\n{  // y\n  __rb_rotate_left(n); }")
    b = ancestry.normal_tokens("void rb_erase(struct rb_node *n) { rb_rotate_left(n); }")
    assert a == b
    assert ancestry.similarity(ancestry.shingles(a), ancestry.shingles(b)) == 1.0
    c = ancestry.normal_tokens("int main(void) { return 0; }")
    assert ancestry.similarity(ancestry.shingles(a), ancestry.shingles(c)) < 0.2
