"""Our own rbtree fixtures compile, the correct ones are correct, the broken ones are
broken in the way they claim, and the fixture histories are deterministic.

The C compiles against archeo's stub kernel headers (archeo/shim/include); when they
are not there yet, the tests that need them skip.  ARCHEO_SHIM_INCLUDE can point at
another stub include directory.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import git
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import group_fixtures
import histories as H  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GCC = shutil.which("gcc")
CFLAGS = ["-std=gnu99", "-O2", "-nostdinc"]
STUBS = ("config.h", "types.h", "lib.h")


def _shim_dir() -> Path | None:
    for cand in (os.environ.get("ARCHEO_SHIM_INCLUDE"), ROOT / "archeo" / "shim" / "include"):
        if cand and all((Path(cand) / d / f).is_file() for d in ("xen", "xeno") for f in STUBS):
            return Path(cand)
    return None


SHIM = _shim_dir()
needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc not installed")
needs_shim = pytest.mark.skipif(
    SHIM is None,
    reason="stub kernel headers not written yet: archeo/shim/include/{xen,xeno}/"
    "{config,types,lib}.h missing (or set ARCHEO_SHIM_INCLUDE)",
)


# ----------------------------------------------------------------------------- helpers
def _compile(workdir: Path, c_text: str, h_text: str, include: str, *, extra_src: str = "",
             out: str = "x.o", flags: tuple[str, ...] = ("-c",), cflags=CFLAGS):
    """gcc the .c with its header placed at `include`; returns the CompletedProcess."""
    workdir.mkdir(parents=True, exist_ok=True)
    hdr = workdir / "hdr"
    (hdr / include).parent.mkdir(parents=True, exist_ok=True)
    (hdr / include).write_text(h_text)
    (workdir / "rbtree.c").write_text(c_text)
    srcs = [str(workdir / "rbtree.c")]
    if extra_src:
        (workdir / "main.c").write_text(extra_src)
        srcs.append(str(workdir / "main.c"))
    cmd = [GCC, *cflags, "-Wall", "-I", str(SHIM), "-I", str(hdr), *flags, *srcs,
           "-o", str(workdir / out)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def _own_warnings(stderr: str) -> list[str]:
    """Warnings reported inside our files (not inside the stub headers)."""
    return [ln for ln in stderr.splitlines()
            if re.search(r"(rbtree\.[ch]|main\.c):\d+:\d+: warning", ln)]


# The smoke driver.  No libc headers (-nostdinc): only GCC builtins.
# ./prog smoke [noreplace]  - 1000 keys: insert all, 4000 random insert/erase(/replace),
#                             erase all, a few ascending/descending runs; checks the
#                             tree after every operation.
# ./prog i3 e3 n4 p4 ...    - these operations, with the same checks (n/p print).
# Prints "ok <ops> <hash of every shape and colour seen>" or "bad <what> at op <i>".
SMOKE_MAIN = r"""
#define NKEYS 1000
struct item { NODE_T node; int key; int slot; };
static struct item *items[NKEYS][2];
static int cur[NKEYS], present[NKEYS], npresent, replace_ok = 1;
static ROOT_T root;
static const char *bad;
static int last, cnt;
static unsigned long hash = 1469598103934665603UL, seed = 12345;

#define KEY(n) (rb_entry((n), struct item, node)->key)

static unsigned rnd(unsigned n)
{
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)(seed >> 33) % n;
}
static void mix(long v) { hash = (hash ^ (unsigned long)v) * 1099511628211UL; }

static int walk(NODE_T *n, NODE_T *par, int depth)
{
    int l, r, k;
    mix(n ? 0 : -1);
    if ( !n ) return 0;
    if ( depth > 64 ) { bad = "cycle"; return 0; }
    if ( PARENT(n) != par ) bad = "parent";
    k = KEY(n);
    mix(k * 2 + IS_BLACK(n));
    l = walk(n->rb_left, n, depth + 1);
    if ( cnt && k <= last ) bad = "order";
    if ( !present[k] ) bad = "stray";
    last = k; cnt++;
    r = walk(n->rb_right, n, depth + 1);
    if ( !IS_BLACK(n) && ((n->rb_left && !IS_BLACK(n->rb_left))
                          || (n->rb_right && !IS_BLACK(n->rb_right))) )
        bad = "red-red";
    if ( l != r ) bad = "black-height";
    return l + IS_BLACK(n);
}

static int check(void)
{
    cnt = 0; bad = 0;
    if ( root.rb_node && PARENT(root.rb_node) ) bad = "parent";
    walk(root.rb_node, root.rb_node ? PARENT(root.rb_node) : 0, 0);
    if ( root.rb_node && !IS_BLACK(root.rb_node) ) bad = "root-red";
    if ( !bad && cnt != npresent ) bad = "count";
#ifdef HAVE_WALK
    if ( !bad ) {
        NODE_T *n; int seen = 0, k = -1;
        for ( n = rb_first(&root); n && seen <= NKEYS; n = rb_next(n), seen++ ) {
            if ( KEY(n) <= k ) bad = "next";
            k = KEY(n);
        }
        if ( seen != npresent ) bad = "next";
        n = rb_last(&root);
        if ( n && KEY(n) != k ) bad = "last";
#ifdef HAVE_PREV
        for ( seen = 0, k = NKEYS; n && seen <= NKEYS; n = rb_prev(n), seen++ ) {
            if ( KEY(n) >= k ) bad = "prev";
            k = KEY(n);
        }
        if ( seen != npresent ) bad = "prev";
#endif
    }
#endif
    return bad == 0;
}

static void insert(int k)
{
    NODE_T **link = &root.rb_node, *parent = 0, *node = &items[k][cur[k]]->node;
    while ( *link ) {
        parent = *link;
        if ( k < KEY(parent) ) link = &parent->rb_left;
        else if ( k > KEY(parent) ) link = &parent->rb_right;
        else return;
    }
    rb_link_node(node, parent, link);
    rb_insert_color(node, &root);
    present[k] = 1; npresent++;
}

static void erase(int k)
{
    if ( !present[k] ) return;
    rb_erase(&items[k][cur[k]]->node, &root);
    present[k] = 0; npresent--;
}

static void op(int i, int what, int k)
{
    if ( what == 'i' ) insert(k);
    else if ( what == 'e' ) erase(k);
#ifdef HAVE_WALK
    else if ( what == 'n' && present[k] ) {
        NODE_T *n = rb_next(&items[k][cur[k]]->node);
        __builtin_printf("n%d=%d\n", k, n ? KEY(n) : -1);
    }
#endif
    else if ( what == 'p' && present[k] ) {
#ifdef HAVE_PREV
        NODE_T *n = rb_prev(&items[k][cur[k]]->node);
        __builtin_printf("p%d=%d\n", k, n ? KEY(n) : -1);
#else
        __builtin_printf("p%d=NA\n", k);
#endif
    }
#ifdef HAVE_REPLACE
    else if ( what == 'r' && present[k] && replace_ok ) {
        rb_replace_node(&items[k][cur[k]]->node, &items[k][!cur[k]]->node, &root);
        cur[k] = !cur[k];
    }
#endif
    if ( !check() ) {
        __builtin_printf("bad %s at op %d\n", bad, i);
        __builtin_exit(1);
    }
}

int main(int argc, char **argv)
{
    int i, j, k, perm[NKEYS], n = 0;
    for ( k = 0; k < NKEYS; k++ )
        for ( j = 0; j < 2; j++ ) {
            items[k][j] = __builtin_calloc(1, sizeof(struct item));
            items[k][j]->key = k;
            items[k][j]->slot = j;
        }
    if ( argc > 1 && argv[1][0] != 's' ) {
        for ( i = 1; i < argc; i++ ) {
            for ( k = 0, j = 1; argv[i][j]; j++ ) k = k * 10 + argv[i][j] - '0';
            op(n++, argv[i][0], k);
        }
        __builtin_printf("ok %d %lx\n", n, hash);
        return 0;
    }
    if ( argc > 2 ) replace_ok = 0;
    for ( k = 0; k < NKEYS; k++ ) perm[k] = k;
    for ( k = NKEYS - 1; k > 0; k-- ) { j = rnd(k + 1); i = perm[k]; perm[k] = perm[j]; perm[j] = i; }
    for ( k = 0; k < NKEYS; k++ ) op(n++, 'i', perm[k]);
    for ( i = 0; i < 4000; i++ ) { k = rnd(NKEYS); op(n++, "ier"[rnd(3)], k); }
    for ( k = 0; k < NKEYS; k++ ) op(n++, 'e', perm[(k * 7) % NKEYS]);
    for ( k = 0; k < 20; k++ ) op(n++, 'i', k);
    for ( k = 40; k >= 20; k-- ) op(n++, 'i', k);
    __builtin_printf("ok %d %lx\n", n, hash);
    return 0;
}
"""


def _prelude(fx: H.Fixture) -> str:
    d = fx.include.split("/")[0]
    lines = [f"#include <{d}/types.h>", f"#include <{d}/lib.h>", f"#include <{fx.include}>"]
    if fx.era == "2004":
        lines += ["#define NODE_T rb_node_t", "#define ROOT_T rb_root_t",
                  "#define PARENT(n) ((n)->rb_parent)",
                  "#define IS_BLACK(n) ((n)->rb_color == RB_BLACK)"]
    else:
        word = "rb_parent_color" if fx.era == "2009" else "__rb_parent_color"
        lines += ["#define NODE_T struct rb_node", "#define ROOT_T struct rb_root",
                  "#define PARENT(n) rb_parent(n)",
                  f"#define IS_BLACK(n) ((int)((n)->{word} & 1))"]
    for need, macro in (("rb_next", "HAVE_WALK"), ("rb_prev", "HAVE_PREV"),
                        ("rb_replace_node", "HAVE_REPLACE")):
        if need in fx.api:
            lines.append(f"#define {macro} 1")
    return "\n".join(lines) + "\n"


class Programs:
    """Smoke programs, built once per session, one per fixture."""

    def __init__(self, base: Path):
        self.base = base
        self.paths: dict[str, Path] = {}
        self.errors: dict[str, str] = {}

    def build(self, names, sanitize: bool = False) -> None:
        def one(name):
            fx = H.FIXTURES[name]
            key = name + ("-asan" if sanitize else "")
            flags = ["-std=gnu99", "-O1" if sanitize else "-O2", "-nostdinc", "-g"]
            if sanitize:
                flags += ["-fsanitize=address", "-fno-omit-frame-pointer"]
            proc = _compile(self.base / key, fx.c_text(), fx.h_text(), fx.include,
                            extra_src=_prelude(fx) + SMOKE_MAIN, out="prog", flags=(),
                            cflags=flags)
            if proc.returncode:
                self.errors[key] = proc.stderr
            else:
                self.paths[key] = self.base / key / "prog"

        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            list(pool.map(one, names))

    def run(self, name: str, *args: str, timeout: float = 10.0):
        assert name in self.paths, self.errors.get(name, f"{name} was not built")
        return subprocess.run([str(self.paths[name]), *args], capture_output=True, text=True,
                              timeout=timeout)


@pytest.fixture(scope="session")
def programs(tmp_path_factory) -> Programs:
    if GCC is None or SHIM is None:
        pytest.skip("needs gcc and the stub kernel headers")
    progs = Programs(tmp_path_factory.mktemp("smoke"))
    progs.build(list(H.FIXTURES))
    return progs


CORRECT = ["era2004", "era2004xen", "era2009", "era2017", "textonly", "macroparens", "api",
           "noprev"]


# ----------------------------------------------------------------------------- the files
def test_every_fixture_file_is_ours_and_documented():
    readme = (H.FIXTURE_DIR / "README.md").read_text()
    used = {f.source for f in H.FIXTURES.values()} | {f.header for f in H.FIXTURES.values()}
    used |= group_fixtures.files()
    for path in H.fixture_files():
        text = H.read_fixture(path.name)
        assert text.startswith("/* SPDX-License-Identifier: MIT */\n"), path.name
        assert "archeo's tests" in text, path.name
        for foreign in ("GNU General Public", "Free Software Foundation", "Arcangeli",
                        "Copyright (C)", "linux/include"):
            assert foreign not in text, (path.name, foreign)
        assert f"`{path.name}`" in readme, f"{path.name} is not described in README.md"
        assert path.name in used, f"{path.name} belongs to no fixture"
    for name in H.FIXTURES:
        assert f"`{name}`" in readme, f"fixture {name} is not described in README.md"


def test_variants_are_small_edits_of_their_base():
    import difflib

    for fx in H.FIXTURES.values():
        base = H.FIXTURES[fx.base]
        for ext in ("c", "h"):
            a, b = base.text(ext).splitlines(), fx.text(ext).splitlines()
            changed = sum(1 for ln in difflib.unified_diff(a, b, lineterm="", n=0)
                          if ln[:1] in "+-" and not ln.startswith(("+++", "---")))
            limit = {"structural": 30, "api": 20, "noprev": 25, "textonly": 40}.get(fx.name, 8)
            assert changed <= limit, (fx.name, ext, changed)


def test_variants_are_stored_as_diffs_that_apply_exactly():
    stored = sorted(p.name for p in H.FIXTURE_DIR.glob("*.diff"))
    assert stored, "the variants are stored as diffs against their base"
    for name in stored:
        variant = name.removesuffix(".diff")
        assert not (H.FIXTURE_DIR / variant).exists(), f"{variant} is stored twice"
        text = H.read_fixture(variant)
        assert text.endswith("\n") and text != H.read_fixture((H.FIXTURE_DIR / name).read_text().split()[1])
    # a base edited under a diff makes it fail loudly, not silently produce another variant
    import pytest as _pytest

    broken = (H.FIXTURE_DIR / "crash.c.diff").read_text().replace("\n ", "\n X", 1)
    with _pytest.raises(AssertionError, match="does not apply"):
        H.apply_diff(broken)


def test_resolve_text():
    assert H.resolve_text("crash.h") == (H.FIXTURE_DIR / "era2009.h").read_text()
    assert H.resolve_text("macroparens.c") == (H.FIXTURE_DIR / "era2017.c").read_text()
    assert "<xen/rbtree.h>" in H.resolve_text("era2004xen.c")
    assert "<xeno/" not in H.resolve_text("era2004xen.h")
    assert H.resolve_text("hello") == "hello"
    assert H.resolve_text("int x;\n") == "int x;\n"


# ----------------------------------------------------------------------------- compiling
@needs_gcc
@needs_shim
@pytest.mark.parametrize("name", list(H.FIXTURES))
def test_fixture_compiles_against_the_shim(name, tmp_path):
    fx = H.FIXTURES[name]
    proc = _compile(tmp_path, fx.c_text(), fx.h_text(), fx.include)
    assert proc.returncode == 0, proc.stderr
    assert not _own_warnings(proc.stderr), proc.stderr


def _revision_units(built: H.BuiltHistory):
    """(commit, c text, header text, include path) for every commit where the target exists."""
    repo = git.Repo(built.path)
    try:
        for commit in built.commits:
            tree = repo.commit(commit).tree
            c = next((p for p in H.TARGET_PATHS if _has(tree, p)), None)
            h = next((p for p in H.TARGET_HEADER_PATHS if _has(tree, p)), None)
            if c is None:
                continue
            assert h is not None, commit
            include = "/".join(h.split("/")[-2:])
            yield commit, _blob(tree, c), _blob(tree, h), include
    finally:
        repo.close()


def _has(tree, path):
    try:
        tree[path]
        return True
    except KeyError:
        return False


def _blob(tree, path) -> str:
    return tree[path].data_stream.read().decode()


@needs_gcc
@needs_shim
def test_every_revision_of_the_histories_compiles(tmp_path):
    units = {}
    for built in (H.standard_history(tmp_path / "s"), H.planted_history(tmp_path / "p")):
        for commit, c, h, include in _revision_units(built):
            key = hashlib.sha1(f"{c}\0{h}\0{include}".encode()).hexdigest()
            units.setdefault(key, (commit, c, h, include))

    def one(item):
        key, (commit, c, h, include) = item
        return commit, _compile(tmp_path / "build" / key, c, h, include)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        for commit, proc in pool.map(one, units.items()):
            assert proc.returncode == 0, (commit, proc.stderr)


# ----------------------------------------------------------------------------- behaviour
def _ok(proc) -> str:
    assert proc.returncode == 0 and proc.stdout.startswith("ok "), (proc.stdout, proc.stderr)
    return proc.stdout.split()[-1]


@needs_gcc
@needs_shim
def test_correct_eras_are_correct_and_build_identical_trees(programs):
    # Without rb_replace_node (2004 has none): every era, same shapes and colours.
    common = {name: _ok(programs.run(name, "smoke", "noreplace")) for name in CORRECT}
    assert len(set(common.values())) == 1, common
    # With replacements mixed in: the eras that have rb_replace_node.
    full = {name: _ok(programs.run(name, "smoke")) for name in CORRECT if name != "era2004"
            and "rb_replace_node" in H.FIXTURES[name].api}
    assert len(set(full.values())) == 1, full


@needs_gcc
@needs_shim
def test_structural_is_valid_but_shaped_differently(programs):
    assert _ok(programs.run("structural", "smoke")) != _ok(programs.run("era2009", "smoke"))
    witness = ["i%d" % k for k in range(7)] + ["e3"]
    assert _ok(programs.run("structural", *witness)) != _ok(programs.run("era2009", *witness))
    assert _ok(programs.run("structural", *witness[:-1])) == \
        _ok(programs.run("era2009", *witness[:-1]))


@needs_gcc
@needs_shim
def test_invariant_breaks_red_black_rules(programs):
    assert programs.run("invariant", "smoke").stdout.startswith("bad ")
    proc = programs.run("invariant", "i0", "i1", "i2", "i3")
    assert proc.returncode == 1 and proc.stdout.startswith("bad red-red at op 3"), proc.stdout
    _ok(programs.run("invariant", "i0", "i1", "i2"))


@needs_gcc
@needs_shim
def test_crash_dies_on_erase(programs):
    assert programs.run("crash", "smoke").returncode < 0
    witness = ["i%d" % k for k in range(7)]
    _ok(programs.run("crash", *witness))
    proc = programs.run("crash", *witness, "e3")
    assert proc.returncode == -11, (proc.returncode, proc.stdout)


@needs_gcc
@needs_shim
def test_hang_never_returns(programs):
    _ok(programs.run("hang", "i0", "i1", "i2", "i3"))
    with pytest.raises(subprocess.TimeoutExpired):
        programs.run("hang", "i0", "i1", "i2", "i3", "i4", timeout=1.0)


@needs_gcc
@needs_shim
def test_observable_gets_rb_next_wrong(programs):
    assert programs.run("observable", "smoke").stdout.startswith("bad next")
    # 0..4 ascending: 1 is the root and 3 its right child, whose left child is 2.
    inserts = ["i%d" % k for k in range(5)]
    assert "n1=2" in programs.run("era2009", *inserts, "n1").stdout
    _ok(programs.run("observable", *inserts[:4]))
    proc = programs.run("observable", *inserts)
    assert proc.stdout.startswith("bad next at op 4"), proc.stdout


@needs_gcc
@needs_shim
@pytest.mark.parametrize("plant", [p for p in H.PLANTS if p.witness], ids=lambda p: p.label)
def test_plant_witnesses_show_their_class(plant, programs):
    """Each plant's witness (protocol ops) separates it from the commit before it."""
    args = [op.replace(" ", "") for op in plant.witness if op[0] in "ienp"]
    before = H.PLANTS[plant.index - 1].fixture
    old, new = programs.run(before, *args), programs.run(plant.fixture, *args)
    if plant.role == "fix":
        old, new = new, old  # the broken side is the one before
    assert old.returncode == 0 and old.stdout.startswith(("ok", "n", "p")), old.stdout
    if plant.trace == "crash":
        assert new.returncode == -11
    elif plant.trace == "invariant":
        assert new.returncode == 1 and new.stdout.startswith("bad red-red"), new.stdout
    elif plant.trace == "observable":  # the driver's own rb_first/rb_next walk sees it first
        assert new.returncode == 1 and new.stdout.startswith("bad next"), new.stdout
    elif plant.trace == "api":
        assert new.returncode == 0 and "=NA" in new.stdout and "=NA" not in old.stdout
    elif plant.trace == "structural":
        assert new.returncode == 0 and _ok(new) != _ok(old)
    else:
        pytest.fail(f"no check for {plant.trace}")


@needs_gcc
@needs_shim
def test_corrupt_writes_past_the_node(programs, tmp_path):
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    if subprocess.run([GCC, "-fsanitize=address", str(probe), "-o", str(tmp_path / "probe")],
                      capture_output=True).returncode:
        pytest.skip("gcc cannot build with AddressSanitizer here")
    programs.build(["corrupt", "era2009"], sanitize=True)
    assert _ok(programs.run("era2009-asan", "smoke")) == _ok(programs.run("era2009", "smoke"))
    proc = programs.run("corrupt-asan", "i0", "i1", "e1")
    assert proc.returncode != 0
    assert "heap-buffer-overflow" in proc.stderr and "WRITE" in proc.stderr, proc.stderr[-2000:]


# ----------------------------------------------------------------------------- histories
def _head_text(repo_path: Path, path: str) -> str:
    repo = git.Repo(repo_path)
    try:
        return _blob(repo.head.commit.tree, path)
    finally:
        repo.close()


def test_histories_are_deterministic(tmp_path):
    a, b = H.standard_history(tmp_path / "a"), H.standard_history(tmp_path / "b")
    assert a.commits == b.commits and len(set(a.commits)) == len(a.commits)
    pa, pb = H.planted_history(tmp_path / "a"), H.planted_history(tmp_path / "b")
    assert pa.commits == pb.commits
    steps = [H.Step("one", "2001-02-03", writes={"a.c": "era2009.c"}),
             H.Step("two", "2001-02-04T10:00:00+02:00", deletes=("a.c",))]
    r1 = H.build_history(tmp_path / "c", steps)
    r2 = H.build_history(tmp_path / "d", steps)
    assert r1.commits == r2.commits
    path, commits = r1
    assert path == tmp_path / "c" / "repo" and len(commits) == 2


def test_standard_history_shape(tmp_path):
    built = H.standard_history(tmp_path)
    repo = git.Repo(built.path)
    try:
        c = {label: repo.commit(built.commit(label)) for label in built.labels}
        assert [s.label for s in built.steps] == [
            "add", "modify", "header-move", "delete", "decoys", "re-add", "header-only",
            "text-only", "decoy-change", "const", "macro-parens", "side", "main-only", "merge",
            "move", "decoy-change-2"]
        assert c["add"].authored_datetime.date().isoformat() == "2004-01-15"
        assert c["add"].author.name == H.AUTHOR_NAME
        assert set(c["add"].stats.files) == {"README", H.C_PATH_2004, H.H_PATH_XENO}
        assert c["modify"].stats.files[H.C_PATH_2004]["lines"] == 2

        move = c["header-move"].parents[0].diff(c["header-move"], M=True)
        renamed = [d for d in move if d.renamed_file]
        assert [(d.rename_from, d.rename_to) for d in renamed] == [(H.H_PATH_XENO, H.H_PATH_XEN)]
        c_after = _blob(c["header-move"].tree, H.C_PATH_2004)
        assert "#include <xen/rbtree.h>" in c_after and "xeno" not in c_after

        assert not _has(c["delete"].tree, H.C_PATH_2004)
        assert not _has(c["delete"].tree, H.H_PATH_XEN)
        assert set(c["decoys"].stats.files) == set(H.DECOY_PATHS)
        assert _blob(c["re-add"].tree, H.C_PATH_2004) == H.FIXTURES["era2009"].c_text()
        assert set(c["header-only"].stats.files) == {H.H_PATH_XEN}
        assert set(c["text-only"].stats.files) == {H.C_PATH_2004}
        assert set(c["decoy-change"].stats.files) == {"tools/rbtree.c"}
        assert "const struct rb_root" in _blob(c["const"].tree, H.H_PATH_XEN)

        merge = c["merge"]
        assert [p.hexsha for p in merge.parents] == [built.commit("main-only"),
                                                     built.commit("side")]
        assert c["side"].parents[0] == c["macro-parens"]
        merged = _blob(merge.tree, H.C_PATH_2004)
        assert merged == _blob(c["side"].tree, H.C_PATH_2004) != H.FIXTURES["era2017"].c_text()
        assert "It has a red-black tree" in _blob(merge.tree, "README")

        mv = c["move"].parents[0].diff(c["move"], M=True)
        assert [(d.rename_from, d.rename_to) for d in mv if d.renamed_file] == \
            [(H.C_PATH_2004, H.C_PATH_2020)]
        assert _blob(c["move"].tree, H.C_PATH_2020) == merged
        assert {t.name: t.commit.hexsha for t in repo.tags} == {
            "RELEASE-3.4.0": built.commit("re-add"), "RELEASE-4.11.0": built.commit("merge")}
        assert repo.active_branch.name == "main"
        assert repo.head.commit.hexsha == built.commits[-1]
    finally:
        repo.close()
    assert (built.path / H.C_PATH_2020).read_text() == merged  # checked out


def test_planted_history_matches_its_data(tmp_path):
    built = H.planted_history(tmp_path)
    assert len(built.commits) == len(H.PLANTS) == len(built.steps)
    repo = git.Repo(built.path)
    try:
        for i, plant in enumerate(built.plants):
            assert plant.index == i and built.steps[i].label == plant.label
            assert built.plant_at(built.commits[i]) is plant
            tree = repo.commit(built.commits[i]).tree
            fx = H.FIXTURES[plant.fixture]
            assert _blob(tree, H.C_PATH_2004) == fx.c_text()
            assert _blob(tree, H.H_PATH_XEN) == fx.h_text()
            if plant.role == "plant":
                assert built.plants[i + 1].role == "fix"
                assert built.plants[i + 1].trace == plant.trace
                assert H.FIXTURES[plant.fixture].trace in (plant.trace, "same")
    finally:
        repo.close()
    kinds = list(built.introduced.values())
    for kind in ("api", "structural", "observable", "invariant", "crash"):
        assert kind in kinds
    assert set(built.reported) == set(built.commits[1:])
    assert [p.generated for p in built.plants if p.generated != p.trace] == ["crash", "crash"]
    assert "rb_first_postorder" in H.FIXTURES["api"].api


def test_merge_conflicts_need_a_resolution(tmp_path):
    steps = [H.Step("a", "2001-01-01", writes={"f": "one\n"}),
             H.Step("b", "2001-01-02", writes={"f": "two\n"}, branch="side"),
             H.Step("c", "2001-01-03", writes={"f": "three\n"}),
             H.Step("m", "2001-01-04", merge="side")]
    with pytest.raises(ValueError, match="conflict"):
        H.build_history(tmp_path, steps)
    steps[-1] = H.Step("m", "2001-01-04", merge="side", writes={"f": "four\n"})
    path, commits = H.build_history(tmp_path, steps, name="ok")
    assert (path / "f").read_text() == "four\n"


def test_write_target_round_trips(tmp_path):
    from archeo.records import Expectation

    out = H.write_target(tmp_path, "toy", ["a/rbtree.c"], ["a/rbtree.h"],
                         urls=["https://example.invalid/x.git"],
                         expectations=[Expectation("abc123", "2004-01-15", 10, 0, 'new "file"'),
                                       {"commit": "def456", "date": "2009-05-26",
                                        "added": 3, "removed": 1}])
    data = tomllib.loads(out.read_text())
    assert data["name"] == "toy" and data["paths"] == ["a/rbtree.c"]
    assert data["header_paths"] == ["a/rbtree.h"] and data["subject"] == "rbtree"
    assert data["urls"] == ["https://example.invalid/x.git"]
    assert data["expectations"][0] == {"commit": "abc123", "date": "2004-01-15", "added": 10,
                                       "removed": 0, "note": 'new "file"'}
    assert data["expectations"][1]["note"] == ""
    real = ROOT / "corpus" / "xen-rbtree.toml"
    if real.exists():
        ref = tomllib.loads(real.read_text())
        assert set(data) == set(ref), "write_target drifted from the corpus format"
        assert set(data["expectations"][0]) == set(ref["expectations"][0])
