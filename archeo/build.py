"""Build one standalone executable per revision: its own .c, its own header, our harness.

    >>> from archeo.build import build_history
    >>> programs = build_history(revisions, models, cache_dir="~/.cache/archeo", jobs=2)

For each revision, in a private temporary directory:

- the revision's .c, unmodified, at its path in the repository (so compiler messages name it);
- its header and its include closure at their historical paths (`xen/include/xeno/rbtree.h`
  -> `-I xen/include`, included as `<xeno/rbtree.h>`), and the platform's stubs;
- `archeo_config.h`, generated from the parsed API (archeo/subjects/rbtree/api.py);

then `gcc -O2` with the revision's CompilePlan (archeo/platforms: `-std`, `-nostdinc` against
archeo/shim/include for Xen, the system's headers for userland, defines, include directories)
on the revision and on the harness engine, and a normal link with the harness runtime.

What decides a program is what the compiler is given, so both units are preprocessed first
(their code identity): a revision whose identity an earlier one had gets that program; the
harness engine's unit, which holds the revision's header but not its commit id, is compiled
once into `<cache>/objects/` for every revision that shares it (mutants of one revision, a
history whose header rarely changes); the revision's own .c is always compiled from its
sources, with its plan's flags. Threads building the same code wait for each other.

Executables are cached under `<cache>/programs/<key>/`, the key being a sha256 of everything
that went in (texts, config, harness and shim sources, compiler version, flags); see
build_cache.py. Compile failures are cached too (they are as deterministic as successes).
The cache is an optimisation only: delete it and the same programs come back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from . import build_steps, elfcheck
from .build_cache import Claims, built_with, load, program_info, put_object, remember, store
from .build_layout import CONFIG_PATH, _include_targets, _Layout, _with_root, check_includes, layout_for, stage_sources  # noqa: F401 (re-exported)
from .errors import ArcheoError
from .platforms import CompilePlan, plan, revision_files
from .records import Model, Program, Revision
from .subjects import Subject, default

__all__ = ["Builder", "Toolchain", "build_history", "build_revision", "check_includes", "first_error", "layout_for",
           "program_info", "stage_sources"]

SHIM_DIR = Path(__file__).resolve().parent / "shim"
SHIM_INCLUDE = SHIM_DIR / "include"
HARNESS_ENGINE = SHIM_DIR / "harness.c"
HARNESS_RUNTIME = SHIM_DIR / "harness_rt.c"
HARNESS_HEADER = SHIM_DIR / "harness.h"
SANDBOX_RUNTIME = SHIM_DIR / "sandbox_rt.c"  # seccomp + Landlock from .preinit_array (docs/security.md)
COMPILER_LAUNCHER = SHIM_DIR / "confine_cc.c"  # the compiler under Landlock (docs/security.md)
# What the compiler may read besides the build directory and archeo's own files: the toolchain
# and the system's C headers. Nothing under /etc but the loader's cache, nothing under /home.
COMPILER_READS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/dev/null")
HARNESS_GROUPS = SHIM_DIR / "harness_groups.c"  # included by harness.c

KEY_SCHEME = "archeo-build-6"  # 2: code identity (`code`); 3: compile plans; 4: sandboxed; 5: shared harness objects; 6: counted variants
COMMIT_SOURCE = "archeo-gen/archeo_commit.c"  # the commit id, out of the harness engine's unit
HARNESS_UNIT = "archeo-obj/harness.i"  # the harness engine preprocessed: its code identity and what is compiled
REVISION_UNIT = "archeo-obj/revision.i"  # the revision's .c preprocessed: its code identity, its counted variant
RUNTIME_STD = "-std=gnu99"  # the harness runtime is ours: one standard whatever the revision's
BASE_FLAGS = ("-O2",)  # the standard comes from the revision's CompilePlan
SANITIZE_FLAGS = (
    "-O1",
    "-g",
    "-fno-omit-frame-pointer",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
)
COMPILE_TIMEOUT = 300  # seconds; a compiler that takes longer is our problem, not a result



@dataclass(frozen=True)
class Toolchain:
    """The compiler and its identity (part of every cache key)."""

    cc: str
    version: str

    @classmethod
    def probe(cls, cc: str = "gcc") -> Toolchain:
        try:
            out = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=60)
            machine = subprocess.run([cc, "-dumpmachine"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ArcheoError(f"cannot run the C compiler {cc!r} ({exc}): install gcc or pass --cc") from None
        if out.returncode != 0:
            raise ArcheoError(f"{cc} --version failed: {out.stderr.strip()[:200]}")
        first = (out.stdout.strip().splitlines() or [cc])[0]
        return cls(cc, f"{first} ({machine.stdout.strip()})")


# ---------------------------------------------------------------- one revision
class Builder:
    """Builds programs into one cache with one toolchain; safe to use from several threads.

    `jobs`: at most this many compiler (or `--info`) processes at once, however many threads
    call `build`; a thread that waits for another building the same code holds no slot."""

    def __init__(self, cache_dir: str | os.PathLike, sanitize: bool = False, toolchain: Toolchain | None = None,
                 sandbox: bool = True, jobs: int | None = None, subject: Subject | None = None):
        self.subject = subject or default()  # its API discovery and config header (archeo/subjects/base.py)
        self.cache_dir = Path(cache_dir).expanduser()
        self.sanitize = sanitize
        self.sandbox = sandbox  # False: `--info` runs unconfined too (--no-sandbox)
        self.toolchain = toolchain or Toolchain.probe()
        self.runtime_defines: tuple[str, ...] = ()  # bench/measure_syscalls.py: -DARCHEO_SANDBOX_MEASURE
        self._harness_texts = tuple(
            p.read_text() for p in (HARNESS_ENGINE, HARNESS_RUNTIME, HARNESS_HEADER, SANDBOX_RUNTIME, SHIM_DIR / "archeo_landlock.h", HARNESS_GROUPS)
        )
        self._shim_texts = tuple(
            (str(p.relative_to(SHIM_INCLUDE)), p.read_text()) for p in sorted(SHIM_INCLUDE.rglob("*.h"))
        )
        self._claims = Claims()  # code identities and shared objects being built right now
        self._slots = threading.BoundedSemaphore(jobs) if jobs else nullcontext()

    @property
    def flags(self) -> tuple[str, ...]:
        return SANITIZE_FLAGS if self.sanitize else BASE_FLAGS

    def key(self, rev: Revision, layout: _Layout, config: str, compile_plan: CompilePlan | None = None) -> str:
        """sha256 of everything that goes into the program."""
        compile_plan = compile_plan or plan(rev)
        return _digest([
            KEY_SCHEME,
            self.toolchain.version,
            " ".join(self.flags),
            f"sanitize={self.sanitize}",
            " ".join(self.runtime_defines),
            json.dumps(layout.__dict__, sort_keys=True),
            rev.text or "",
            rev.header_text or "",
            *(f"{path}\0{text}" for path, text in sorted(rev.closure.items())),
            compile_plan.identity(),
            config,
            *self._harness_texts,
            *(f"{name}\0{text}" for name, text in self._shim_texts),
        ])

    def build(self, rev: Revision, model: Model) -> Program:
        """One revision's Program; a compile error is a Program with `error`, never an exception."""
        fail = lambda error: Program(rev.commit, None, "", sanitize=self.sanitize, error=error)  # noqa: E731
        if not rev.present:
            return fail("the file does not exist at this revision (deleted)")
        if rev.header_text is None:
            return fail("no companion header at this revision")
        for path, text in revision_files(rev).items():
            problem = check_includes(text, path)
            if problem:
                return fail(problem)
        if not model.ok:  # the parse stage's reason comes first: the API of unparsed code is unknown
            e = model.error
            return fail(f"{e.stage}: {e.file}:{e.line}: {e.message}")
        compile_plan = plan(rev)
        try:
            api = self.subject.derive_api(model)
        except ArcheoError as exc:
            return fail(f"api: {exc}")
        layout = layout_for(rev)
        config = self.subject.config_header(api, layout.includes)
        key = self.key(rev, layout, config, compile_plan)
        final = self.cache_dir / "programs" / key
        cached = load(final, rev.commit, key, self.sanitize)
        if cached is not None:
            return replace(cached, cached=True)
        with tempfile.TemporaryDirectory(prefix="archeo-build-") as tmp:
            steps, code = self._prepare(Path(tmp), rev, layout, config, compile_plan)
            # Another thread building the same code: wait for it, then copy its program.
            with self._claims.claim(code):
                info = self._compile(Path(tmp), rev, steps, code)
                if info.pop("transient", False):
                    return fail(info["error"])  # not cached: the next run compiles it again
                notes = [*compile_plan.notes, *api.notes]
                info.update(commit=rev.commit, key=key, sanitize=self.sanitize, notes=notes, api_ops="".join(api.ops))
                store(final, info, Path(tmp) / "program" if info["ok"] else None, config)
                if info["ok"] and info.get("code"):
                    remember(self.cache_dir, info["code"], key)
        return load(final, rev.commit, key, self.sanitize) or fail(info.get("error") or "cache write failed")

    def _runtime_object(self, source: Path = HARNESS_RUNTIME, executable: bool = False) -> Path:
        """A runtime (the same for every revision) compiled once per toolchain and flags; or,
        `executable`, one of our own tools (the compiler launcher)."""
        defines = ["-DARCHEO_SANITIZE"] if self.sanitize else []
        if executable:
            argv = [self.toolchain.cc, RUNTIME_STD, *BASE_FLAGS, str(source)]
        else:
            argv = [self.toolchain.cc, RUNTIME_STD, *self.flags, *defines, *self.runtime_defines, "-c", str(source)]
        key = _digest([KEY_SCHEME, self.toolchain.version, *argv[1:], *self._harness_texts, source.read_text()], sep=True)
        suffix = "" if executable else ".o"
        path = self.cache_dir / "objects" / f"{source.stem}-{key[:32]}{suffix}"
        with self._claims.claim(str(path)):
            if path.exists():
                return path
            with tempfile.TemporaryDirectory(prefix="archeo-rt-") as tmp:
                made = Path(tmp) / f"{source.stem}{suffix}"
                proc = self._run([*argv, "-o", str(made)])
                if proc.returncode != 0:  # our own code: a failure here is ours, not the revision's
                    raise ArcheoError(f"cannot compile {source.name}: {first_error(proc.stderr)}")
                put_object(made, path)
        return path

    def prepare(self) -> None:
        """Compile what every program needs (the compiler launcher, the runtimes) now."""
        self._runtime_object(COMPILER_LAUNCHER, executable=True)
        self._confined_objects(self.cache_dir)

    def _run(self, command: list[str], **kwargs) -> subprocess.CompletedProcess:
        """subprocess.run of a compiler (or program) command, within the builder's `jobs`."""
        with self._slots:
            return subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=COMPILE_TIMEOUT, **kwargs)

    def _confined(self, argv: list[str], tmp: Path) -> tuple[list[str], dict]:
        """subprocess.run arguments running the compiler command `argv` confined: under
        Landlock (confine_cc.c), reading only the toolchain, the system's headers, archeo's
        files and the build directory `tmp`, writing only there; with an environment of our
        own (a PATH to find the assembler and linker, TMPDIR in `tmp`) and archeo's flags."""
        cc = shutil.which(argv[0]) or argv[0]
        reads = [*COMPILER_READS, str(SHIM_DIR.parent), str(self.cache_dir / "objects"),
                 str(Path(os.path.realpath(cc)).parent.parent)]
        launcher = str(self._runtime_object(COMPILER_LAUNCHER, executable=True))
        env = {"PATH": os.pathsep.join(dict.fromkeys([os.path.dirname(cc), "/usr/bin", "/bin"])), "TMPDIR": str(tmp)}
        return [launcher, *reads, "--", str(tmp), "--", cc, *argv[1:]], dict(env=env, cwd=tmp)

    def _run_confined(self, argv: list[str], tmp: Path, what: str = "compiler") -> dict | None:
        """Run a compile or link step confined: None when it succeeded, else the failure."""
        command, where = self._confined(argv, tmp)
        try:
            proc = self._run(command, **where)
        except subprocess.TimeoutExpired:
            raise ArcheoError(f"{argv[0]} took more than {COMPILE_TIMEOUT}s in {tmp.name}") from None
        if proc.returncode < 0:  # killed (Ctrl-C, OOM): says nothing about the revision
            return {"ok": False, "error": f"the {what} was killed by signal {-proc.returncode}", "transient": True}
        if proc.returncode != 0:
            return {"ok": False, "error": first_error(proc.stderr, str(tmp)), "log": proc.stderr}
        return None

    def _prepare(self, tmp: Path, rev: Revision, layout: _Layout, config: str, compile_plan: CompilePlan):
        """Stage the sources in `tmp`; the compile steps (revision, harness engine) and the code identity."""
        stage_sources(rev, layout, config, tmp, compile_plan)
        (tmp / "archeo-obj").mkdir()
        defines = ["-DARCHEO_SANITIZE"] if self.sanitize else []
        cflags = _with_root(compile_plan, layout).cflags()
        steps = [
            [*self._revision_argv(layout, compile_plan), "-o", "archeo-obj/revision.o"],
            [self.toolchain.cc, *self.flags, *defines, "-I", "archeo-gen", *cflags, "-c", str(HARNESS_ENGINE),
             "-o", "archeo-obj/harness.o"],
        ]
        return steps, self._code_identity(tmp, steps, rev.commit)

    def _compile(self, tmp: Path, rev: Revision, steps: list[list[str]], code: str) -> dict:
        # What the compiler is given decides the program: an earlier build of the same code
        # (another revision's: a comment, a licence text, a header change that reaches nothing)
        # is copied rather than compiled again (its embedded commit id aside, it is this one).
        earlier = built_with(self.cache_dir, code)
        if earlier is not None and earlier[1].get("node_size") is not None:
            shutil.copy2(earlier[0], tmp / "program")
            return {"ok": True, "node_size": int(earlier[1]["node_size"]), "ops": earlier[1].get("ops", ""), "code": code,
                    **build_steps.recipe_of(earlier[0].parent, earlier[1])}
        failed = self._run_confined(steps[0], tmp)
        harness_object = None
        if not failed:
            failed, harness_object = self._harness_object(tmp, steps[1], code)
        if failed:
            return failed
        commit_c = _commit_source(tmp)
        link = [self.toolchain.cc, *self.flags, "-o", "program", "archeo-obj/revision.o", "archeo-obj/harness.o",
                *self._confined_objects(tmp), commit_c]
        failed = self._run_confined(link, tmp, "linker")
        if failed:
            return failed
        problem = elfcheck.check_objects([tmp / "archeo-obj/revision.o", tmp / "archeo-obj/harness.o"], self.toolchain.cc)
        if problem:
            return {"ok": False, "error": problem}
        with self._slots:
            info = program_info(tmp / "program", sandbox=self.sandbox)
        if "node_size" not in info:
            return {"ok": False, "error": f"the built program does not run: {info.get('error', '?')}"}
        return {"ok": True, "node_size": int(info["node_size"]), "ops": info.get("ops", ""), "code": code,
                **build_steps.recipe(self, tmp / REVISION_UNIT, steps[0], harness_object)}

    @staticmethod
    def commit_source(tmp: Path) -> str:
        """archeo-gen/archeo_commit.c in `tmp`, from its config header (see _commit_source)."""
        return _commit_source(tmp)

    def stepped(self, program: Program) -> str | None:
        """The path of `program`'s counted variant (build_steps.py), built on first use; None
        when it has none (a sanitizer build, an older cache entry, a compile that failed)."""
        return build_steps.stepped(self, program)

    def _harness_object(self, tmp: Path, argv: list[str], code: str) -> tuple[dict | None, Path | None]:
        """archeo-obj/harness.o: the harness engine compiled from the translation unit that
        `_code_identity` preprocessed (archeo-obj/harness.i), shared through `<cache>/objects`
        by every revision whose unit is byte for byte the same (most share their header: the
        unit does not hold the commit id, which archeo_commit.c gives). Compiled from the
        sources as before when there is no unit (a sanitizer build keeps its line numbers)
        or when it fails (so the message names the files the compiler was given). Returns the
        failure (None when it succeeded) and the shared object's path (None when not shared)."""
        unit = tmp / HARNESS_UNIT
        if not code or self.sanitize or not unit.exists():
            return self._run_confined(argv, tmp), None
        from_unit = [*argv[: argv.index("-c") + 1], HARNESS_UNIT, *argv[argv.index("-o") :]]
        key = _digest([KEY_SCHEME, self.toolchain.version, *from_unit, unit.read_text("utf-8", "surrogateescape")])
        path = self.cache_dir / "objects" / f"harness-{key}.o"
        with self._claims.claim(str(path)):
            if not path.exists():
                failed = self._run_confined(from_unit, tmp)
                if failed:
                    return (failed if failed.get("transient") else self._run_confined(argv, tmp)), None
                put_object(tmp / "archeo-obj/harness.o", path)
                return None, path
        shutil.copy2(path, tmp / "archeo-obj/harness.o")
        return None, path

    def _revision_argv(self, layout: _Layout, compile_plan: CompilePlan) -> list[str]:
        """The command that compiles the revision's own .c (no harness), without `-o`."""
        return [self.toolchain.cc, *self.flags, *_with_root(compile_plan, layout).cflags(), "-c", layout.source]

    def revision_compile(self, rev: Revision, model: Model):
        """(stage(dir), argv) compiling the revision's .c alone, as `build` would, or None when
        it has no API to build against. For mutation's trivial-compiler-equivalence check."""
        if not rev.present or rev.header_text is None or not model.ok:
            return None
        try:
            api = self.subject.derive_api(model)
        except ArcheoError:
            return None
        compile_plan, layout = plan(rev), layout_for(rev)
        config = self.subject.config_header(api, layout.includes)
        return (lambda dest: stage_sources(rev, layout, config, dest, compile_plan)), self._revision_argv(layout, compile_plan)

    def _confined_objects(self, tmp: Path) -> list[str]:
        """The runtimes every program is linked with: the harness's, and the sandbox's, which
        confines the program from `.preinit_array` before any of the revision's code runs
        (archeo/shim/sandbox_rt.c); elfcheck then refuses a program whose revision code
        could run before it."""
        return [str(self._runtime_object(HARNESS_RUNTIME)), str(self._runtime_object(SANDBOX_RUNTIME))]

    def _code_identity(self, tmp: Path, steps: list[list[str]], commit: str) -> str:
        """sha256 of what the compiler was given, line markers aside: the revision's and the
        harness engine's translation units preprocessed (`-E -P`), the commit id taken out,
        with the toolchain, flags and runtime. The harness's unit is kept as
        archeo-obj/harness.i, which `_harness_object` compiles; the revision's as
        archeo-obj/revision.i, kept with the program for its counted variant (build_steps.py).

        Two revisions with the same identity are the same program (a licence text, a comment,
        an include that adds nothing, a file move), so difftest runs it once for both. "" when
        the preprocessor says no (then nothing is shared).
        """
        h = hashlib.sha256()
        for part in (KEY_SCHEME, self.toolchain.version, " ".join(self.flags), f"sanitize={self.sanitize}", *self._harness_texts):
            h.update(part.encode("utf-8", "surrogateescape") + b"\0")
        for argv, keep in zip(steps, (REVISION_UNIT, HARNESS_UNIT)):
            at = argv.index("-c")
            argv = [*argv[:at], "-E", "-P", *argv[at + 1 : argv.index("-o")], "-o", keep]
            command, where = self._confined(argv, tmp)
            with self._slots:
                proc = subprocess.run(command, **where, capture_output=True, timeout=COMPILE_TIMEOUT)
            if proc.returncode != 0:
                return ""
            unit = (tmp / keep).read_bytes()
            h.update(_tokens_only(unit.replace(commit.encode(), b"")) + b"\0")
        return h.hexdigest()


def _digest(parts, sep: bool = False) -> str:
    """sha256 of text parts, each length-prefixed (or, `sep`, joined by NULs: the runtime objects' old scheme)."""
    if sep:
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogateescape")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def _commit_source(tmp: Path) -> str:
    """archeo-gen/archeo_commit.c: the commit id the program says with `--info` (from the
    config's ARCHEO_COMMIT), in a unit of its own so that the harness engine's does not hold it."""
    match = re.search(r'^#define ARCHEO_COMMIT ("[^"\n]*")$', (tmp / CONFIG_PATH).read_text(), re.M)
    literal = match.group(1) if match else '"unknown"'
    (tmp / COMMIT_SOURCE).write_text(f"const char archeo_commit[] = {literal};\n")
    return COMMIT_SOURCE


_LITERAL_OR_SPACE = re.compile(rb'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|\s+')


def _tokens_only(code: bytes) -> bytes:
    """Preprocessed C with every run of white space outside string and character literals
    made one space: a line broken differently, or spaces doubled, is the same code."""
    return _LITERAL_OR_SPACE.sub(lambda m: m.group(0) if m.group(0)[:1] in (b'"', b"'") else b" ", code).strip()


def first_error(stderr: str, tmp: str = "") -> str:
    """The compiler's (or linker's) first error line, without our temporary directory in it."""
    lines = [(line.replace(tmp + "/", "") if tmp else line).strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if re.search(r"\berror\b|\bError:|undefined reference|multiple definition", line):
            return line
    return lines[0] if lines else "the compiler failed without a message"


# ---------------------------------------------------------------- the API
def planned_ops(model: Model, subject: Subject | None = None) -> str:
    """The operations a program built from this model will offer (its `--info` ops), "" when
    it has no API; known before compiling (pipeline.early_sequences)."""
    if not model.ok:
        return ""
    try:
        return "".join((subject or default()).derive_api(model).ops)
    except ArcheoError:
        return ""


def build_revision(
    rev: Revision,
    model: Model,
    cache_dir: str | os.PathLike,
    sanitize: bool = False,
    toolchain: Toolchain | None = None,
    sandbox: bool = True,
) -> Program:
    """Build one revision (see the module docstring); cached by content."""
    return Builder(cache_dir, sanitize, toolchain, sandbox).build(rev, model)


def build_history(
    revisions: Sequence[Revision],
    models: Sequence[Model] | Mapping[str, Model],
    cache_dir: str | os.PathLike,
    sanitize: bool = False,
    jobs: int | None = None,
    toolchain: Toolchain | None = None,
    sandbox: bool = True,
    progress=None,
    builder: Builder | None = None,
) -> list[Program]:
    """Build every revision, `jobs` compilers at a time; one Program per revision, in order.

    `models` is either aligned with `revisions` or a mapping from commit to Model. A failed
    build is a Program with `error`; the others go on. `builder`: one made already (with the
    same settings), e.g. prepared in the background.
    """
    if isinstance(models, Mapping):
        pairs = [(rev, models[rev.commit]) for rev in revisions]
    else:
        if len(models) != len(revisions):
            raise ValueError(f"{len(revisions)} revisions but {len(models)} models")
        pairs = list(zip(revisions, models))
    workers = max(1, jobs or os.cpu_count() or 1)
    builder = builder or Builder(cache_dir, sanitize, toolchain, sandbox, jobs=workers)
    tick = progress or (lambda stage, done, total: None)
    tick("build", 0, len(pairs))
    programs = []
    # Twice as many threads as compilers: a thread waiting for another revision of the same
    # code (build_cache.Claims) holds no compiler slot, which a third revision then uses.
    with ThreadPoolExecutor(max_workers=2 * workers) as pool:
        for program in pool.map(lambda pair: builder.build(*pair), pairs):
            programs.append(program)
            tick("build", len(programs), len(pairs))
    return programs
