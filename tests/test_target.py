"""Targets load from the corpus or a file; bad ones get one clear line."""

import pytest

from archeo.errors import ArcheoError
from archeo.target import available_targets, load_target, target_from_paths


def test_xen_target_has_every_path_and_the_four_cgit_expectations():
    target = load_target("xen-rbtree")
    assert target.paths == ("xen/common/rbtree.c", "xen/lib/rbtree.c")
    assert target.header_paths == ("xen/include/xeno/rbtree.h", "xen/include/xen/rbtree.h")
    assert any("xenbits" in u for u in target.urls) and any("github.com/xen-project/xen" in u for u in target.urls)
    assert [e.commit for e in target.expectations] == ["628c2a958eb5", "2a5f90e8e883", "3e820c5daef9", "6009f4ddb2cd"]
    assert [(e.added, e.removed) for e in target.expectations] == [(295, 0), (1, 1), (0, 295), (398, 0)]
    assert "xen-rbtree" in available_targets()


def test_unknown_target_names_the_known_ones():
    with pytest.raises(ArcheoError, match="unknown target 'nope'.*xen-rbtree"):
        load_target("nope")


def test_bad_toml_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n[[[")
    with pytest.raises(ArcheoError) as err:
        load_target(str(bad))
    assert "not valid TOML" in str(err.value) and str(bad) in str(err.value)


def test_missing_key_is_named(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text('name = "x"\n')
    with pytest.raises(ArcheoError, match="lacks 'paths'"):
        load_target(str(f))


def test_target_from_paths():
    t = target_from_paths(["src/tree.c"], ["include/tree.h"])
    assert t.name == "tree" and t.paths == ("src/tree.c",) and t.header_paths == ("include/tree.h",)
    with pytest.raises(ArcheoError):
        target_from_paths([])


def test_subject_platform_and_build_settings_are_read():
    from archeo.target import target_from_dict

    t = target_from_dict({"name": "x", "paths": ["a.c"], "reference": "rbtree"})
    assert t.subject == "rbtree" and t.reference == "rbtree" and t.compile.platform == ""
    t = target_from_dict({"name": "x", "paths": ["a.c"], "subject": "rbtree", "platform": "userland",
                          "include_dirs": [".", "include/"], "defines": ["A", "B=1"], "std": "gnu11"})
    assert (t.compile.platform, t.compile.include_dirs, t.compile.defines, t.compile.std) == (
        "userland", (".", "include"), ("A", "B=1"), "gnu11")


@pytest.mark.parametrize("key, value, words", [
    ("platform", "windows", "unknown platform"),
    ("include_dirs", ["../up"], "not inside the repository"),
    ("defines", ["A B"], "is not NAME or NAME=VALUE"),
    ("std", "-O3", "is not a C standard"),
])
def test_bad_build_settings_are_one_line_errors(key, value, words):
    from archeo.target import target_from_dict

    with pytest.raises(ArcheoError, match=words):
        target_from_dict({"name": "x", "paths": ["a.c"], key: value}, source="t.toml")
