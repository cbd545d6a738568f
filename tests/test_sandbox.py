"""Nothing the code under test does reaches the machine (docs/security.md).

Hostile revisions written here: our era2009 fixture with a few lines added, each declaring
the libc function it needs `extern` by hand (no header: the revision is compiled -nostdinc).
Each attack tries to leave a trace outside the run's working directory (a marker file, a
removed file, a secret read into the trace); each must be stopped by the sandbox, reported as
crash kind `sandbox: <call>`, and leave nothing behind. The same attacks are planted in a
constructor, which runs before `main`. elfcheck's refusals are tested on revisions that
would run code before the sandbox is in place.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

import histories as H
from archeo import ops
from archeo.subjects.rbtree import generate as gen
from archeo.build import Builder
from archeo.cli import main
from archeo.parse import parse_revision
from archeo.execute import Executor
from archeo.records import Revision
from archeo.sandbox import probe

ANCHOR = "void rb_insert_color(struct rb_node *node, struct rb_root *root)\n{\n"
SECRET = "archeo-secret-5f0c1d\n"

# name: (declarations, statements, the system call the sandbox must name). {marker} is a
# file the attack tries to create, {victim} one it tries to remove, {secret} one it reads.
ATTACKS = {
    "system": ("extern int system(const char *);",
               'system("echo x > {marker}");', ("rt_sigprocmask",)),  # it blocks signals before it clones
    "execve": ("extern int execve(const char *, char *const [], char *const []);",
               'char *av[] = {{"/bin/touch", "{marker}", 0}}; execve("/bin/touch", av, av + 2);', ("execve",)),
    "fork": ("extern int fork(void); extern int open(const char *, int, ...);",
             'if (fork() == 0) open("{marker}", 0101, 0644);', ("clone", "clone3", "fork")),
    "open-read": ("extern int open(const char *, int, ...); extern long read(int, void *, unsigned long);"
                  " extern long write(int, const void *, unsigned long);",
                  'char b[64]; int fd = open("{secret}", 0); long n = read(fd, b, 64); if (n > 0) write(1, b, n);',
                  ("open", "openat")),
    "open-write": ("extern int open(const char *, int, ...);", 'open("{marker}", 0101, 0644);', ("open", "openat")),
    "unlink": ("extern int unlink(const char *);", 'unlink("{victim}");', ("unlink", "unlinkat")),
    "socket": ("extern int socket(int, int, int); extern int connect(int, const void *, unsigned int);",
               'unsigned char sa[16] = {{2, 0, 0, 80, 127, 0, 0, 1}}; connect(socket(2, 1, 0), sa, 16);', ("socket",)),
    "kill": ("extern int kill(int, int);", "kill(-1, 0);", ("kill",)),  # signal 0: harmless should it pass
    "ptrace": ("extern long ptrace(int, int, void *, void *);", "ptrace(0, 0, 0, 0);", ("ptrace",)),  # TRACEME
}


def hostile_text(attack: str, where: str, paths: dict) -> str:
    """era2009.c with `attack` planted in rb_insert_color ("insert") or in a constructor."""
    decls, stmts, _ = ATTACKS[attack]
    stmts = stmts.format(**paths)
    text = H.FIXTURES["era2009"].c_text()
    assert ANCHOR in text
    if where == "insert":
        return text.replace(ANCHOR, f"{decls}\n{ANCHOR}    {{ {stmts} }}\n")
    return text + f"\n{decls}\n__attribute__((constructor)) static void innocent_init(void)\n{{\n    {stmts}\n}}\n"


def revision(text: str, commit: str = "7" * 40) -> Revision:
    fx = H.FIXTURES["era2009"]
    return Revision(commit, "2020-01-01T00:00:00+00:00", "a", "s", "modified", H.C_PATH_2004,
                    "xen/include/" + fx.include, 1, 0, text=text, header_text=fx.h_text())


def build(text: str, cache, sanitize: bool = False):
    rev = revision(text)
    return Builder(cache, sanitize).build(rev, parse_revision(rev))


@pytest.fixture
def outside(tmp_path):
    """Where the attacks aim: outside any working directory archeo gives a run."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret").write_text(SECRET)
    (d / "victim").write_text("still here\n")
    return {"marker": str(d / "marker"), "victim": str(d / "victim"), "secret": str(d / "secret"), "dir": d}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("sandbox-cache")


def assert_nothing_left(outside, *texts):
    assert not os.path.exists(outside["marker"]), "the attack created its marker"
    assert (outside["dir"] / "victim").read_text() == "still here\n"
    assert sorted(p.name for p in outside["dir"].iterdir()) == ["secret", "victim"]
    for text in texts:
        assert SECRET.strip() not in text


@pytest.mark.parametrize("where", ["insert", "constructor"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attack_is_contained_and_named(attack, where, outside, cache):
    program = build(hostile_text(attack, where, outside), cache)
    names = {f"sandbox: {call}" for call in ATTACKS[attack][2]}
    if where == "constructor":
        # the build's `--info` run is the first to start the program: the constructor is
        # stopped there, and the revision's build fails naming the call
        assert not program.ok
        assert any(f"does not run: {name} (before main" in program.error for name in names), program.error
        assert_nothing_left(outside, program.error)
        return
    assert program.ok, program.error
    with Executor() as ex:
        result = ex.run(program, ops.encode(gen.generate(1, 300, profile="small")))
    assert result.status == "crash", (result.status, result.kind, result.stderr)
    assert result.kind in names, result.kind
    assert_nothing_left(outside, result.stdout, result.stderr)


def test_the_probe_names_the_layers(cache):
    program = build(H.FIXTURES["era2009"].c_text(), cache)
    layers = probe(program.path, str(cache))
    assert "seccomp" in layers.split("+")
    assert probe(program.path, str(cache), sandbox=False) == "none"
    with Executor() as ex:
        assert ex.run(program, ops.encode(gen.generate(1, 50))).status == "ok"
        assert ex.confinement.startswith(layers)


def test_the_mount_namespace_layer_stands_in_for_landlock(outside, cache):
    program = build(hostile_text("open-read", "insert", outside), cache)
    batch = ops.encode(gen.generate(1, 300, profile="small"))
    proc = subprocess.run([program.path, "--fs-layer", "mountns"], input=batch, capture_output=True, text=True,
                          cwd=outside["dir"] / ".." , env={})
    assert proc.returncode == -31 and "denied system call" in proc.stderr
    assert SECRET.strip() not in proc.stdout
    probe_out = subprocess.run([program.path, "--sandbox-probe", "--fs-layer", "mountns"], capture_output=True,
                               text=True, env={}, cwd=outside["dir"]).stdout
    assert probe_out in ("sandbox mountns+seccomp\n", "sandbox seccomp\n")


def test_without_the_sandbox_the_same_code_escapes(outside, cache):
    """The control: --no-sandbox really runs it unconfined (so the tests above can fail)."""
    program = build(hostile_text("open-write", "insert", outside), cache)
    with Executor(sandbox=False) as ex:
        result = ex.run(program, ops.encode(gen.generate(1, 300, profile="small")))
        assert ex.confinement in ("netns", "none")
    assert result.status == "ok"
    assert os.path.exists(outside["marker"])


def test_a_sanitizer_build_of_a_correct_revision_runs_clean_under_its_filter(cache):
    program = build(H.FIXTURES["era2009"].c_text(), cache, sanitize=True)
    assert program.ok, program.error
    with Executor() as ex:
        for seed, profile in ((1, "small"), (2, "large")):
            result = ex.run(program, ops.encode(gen.generate(seed, 3000, profile=profile)))
            assert (result.status, result.kind) == ("ok", ""), result.stderr


# ---------------------------------------------------------------- code that would run before the sandbox
@pytest.mark.parametrize("extra, reason", [
    ("static void early(int c, char **v, char **e) { (void)c; (void)v; (void)e; }\n"
     "__attribute__((section(\".preinit_array\"), used)) static void (*early_p)(int, char **, char **) = early;",
     "has a section .preinit_array"),
    ("static void real_helper(void) {}\nstatic void (*pick(void))(void) { return real_helper; }\n"
     "void helper(void) __attribute__((ifunc(\"pick\")));", "defines the IFUNC helper"),
    ("int prctl(int option, ...) { return option; }", "defines prctl, which the C library exports"),
])
def test_code_before_the_sandbox_is_refused(extra, reason, cache):
    program = build(H.FIXTURES["era2009"].c_text() + "\n" + extra + "\n", cache)
    assert not program.ok
    assert program.error.startswith("sandbox: refused: revision.o ") and reason in program.error, program.error


# ---------------------------------------------------------------- the history, end to end
def test_an_innocent_refactoring_is_reported_as_a_sandbox_crash(tmp_path, outside):
    """A two-commit history whose second commit plants system() and open/read/write in
    rb_insert_color: reported as `sandbox: ...` at that commit, nothing created, nothing read."""
    decls = (ATTACKS["system"][0] + " " + ATTACKS["open-read"][0])
    stmts = (ATTACKS["system"][1] + " " + ATTACKS["open-read"][1]).format(**outside)
    good = H.FIXTURES["era2009"].c_text()
    bad = good.replace(ANCHOR, f"{decls}\n{ANCHOR}    {{ {stmts} }}\n")
    header = H.FIXTURES["era2009"].h_text()
    history = H.build_history(tmp_path, [
        H.Step("add the tree", "2020-01-01", writes={"lib/rbtree.c": good, "include/xen/rbtree.h": header}),
        H.Step("innocent refactoring", "2020-02-01", writes={"lib/rbtree.c": bad}),
    ])
    out = tmp_path / "report"
    code = main(["run", "--repo", str(history.path), "--path", "lib/rbtree.c", "--header", "include/xen/rbtree.h",
                 "--cache", str(tmp_path / "cache"), "--out", str(out), "--seeds", "2", "--ops", "300", "--quiet"])
    assert code == 0
    findings = json.loads((out / "findings.json").read_text())
    by_commit = {r["commit"]: r for r in findings["revisions"]}
    planted = json.dumps(by_commit[history.commits[1]])
    assert "sandbox: rt_sigprocmask" in planted, planted[:2000]
    assert "sandbox" not in json.dumps(by_commit[history.commits[0]])
    assert findings["inputs"]["confinement"].split("+")[-2:] in (["seccomp", "netns"], ["landlock", "seccomp"]) \
        or "seccomp" in findings["inputs"]["confinement"]
    texts = [p.read_text() for p in out.rglob("*") if p.is_file() and p.suffix in (".json", ".md", ".html")]
    assert_nothing_left(outside, *texts)


SETUP_CALLS = {  # what only setting up needs, done before the filter: never allowed after it
    "unshare": ("extern int unshare(int);", "unshare(0x10000000);"),  # CLONE_NEWUSER
    "setsid": ("extern int setsid(void);", "setsid();"),
    "prlimit64": ("struct rl { unsigned long cur, max; }; extern int setrlimit(int, const struct rl *);",
                  "struct rl big = {~0UL, ~0UL}; setrlimit(9, &big);"),  # RLIMIT_AS lifted
}


@pytest.mark.parametrize("where", ["insert", "constructor"])
@pytest.mark.parametrize("call", sorted(SETUP_CALLS))
def test_the_setup_calls_are_never_allowed_to_the_revision(call, where, cache):
    """The session, the limits and leaving the network are set up before the filter is in
    place (archeo_rt_setup, from preinit): from a constructor on, `unshare`, `setsid` and
    raising a limit are stopped calls like any other."""
    decls, stmts = SETUP_CALLS[call]
    text = H.FIXTURES["era2009"].c_text()
    if where == "insert":
        text = text.replace(ANCHOR, f"{decls}\n{ANCHOR}    {{ {stmts} }}\n")
    else:
        text += f"\n{decls}\n__attribute__((constructor)) static void innocent_init(void)\n{{\n    {stmts}\n}}\n"
    program = build(text, cache)
    if where == "constructor":
        assert not program.ok and f"does not run: sandbox: {call} (before main" in program.error, program.error
        return
    assert program.ok, program.error
    with Executor() as ex:
        result = ex.run(program, ops.encode(gen.generate(1, 300, profile="small")))
    assert (result.status, result.kind) == ("crash", f"sandbox: {call}")


def test_the_compiler_reads_nothing_outside_its_tree(outside, cache):
    """The assembler's `.incbin` would copy any file into the program (and so into the
    trace): the compiler runs under Landlock and cannot open it."""
    text = H.FIXTURES["era2009"].c_text().replace(ANCHOR, ANCHOR + (
        '    __asm__ __volatile__(".pushsection .rodata\\n.incbin \\"%s\\"\\n.popsection");\n' % outside["secret"]))
    program = build(text, cache)
    assert not program.ok
    assert os.path.exists(outside["secret"])  # it is there: the assembler was not let in
    assert "secret" in program.error and any(w in program.error for w in ("not found", "Permission denied")), program.error
    assert_nothing_left(outside, program.error)


def test_a_machine_that_cannot_confine_is_refused_in_one_line(tmp_path):
    """Where seccomp cannot be installed the program refuses to start (exit 4, one line);
    archeo says so once, naming the flag that accepts the risk. (A stand-in program: this
    machine has seccomp.)"""
    from archeo.errors import ArcheoError

    stand_in = tmp_path / "program"
    stand_in.write_text("#!/bin/sh\necho 'archeo-sandbox: cannot confine the program: seccomp: Invalid argument' >&2\nexit 4\n")
    stand_in.chmod(0o755)
    with pytest.raises(ArcheoError) as error:
        probe(str(stand_in), str(tmp_path))
    message = str(error.value)
    assert "\n" not in message and "seccomp: Invalid argument" in message and "--no-sandbox" in message
    with Executor() as ex, pytest.raises(ArcheoError):
        ex.run(str(stand_in), "archeo-batch 1 4\nd\n")
