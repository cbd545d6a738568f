"""Build one standalone executable per revision: its own .c, its own header, our harness.

    >>> from archeo.build import build_history
    >>> programs = build_history(revisions, models, cache_dir="~/.cache/archeo", jobs=2)

For each revision, in a private temporary directory:

- the revision's .c, unmodified, at its path in the repository (so compiler messages name it);
- its header and its include closure at their historical paths (`xen/include/xeno/rbtree.h`
  -> `-I xen/include`, included as `<xeno/rbtree.h>`), and the platform's stubs;
- `archeo_config.h`, generated from the parsed API (archeo/api.py);

then `gcc -O2` with the revision's CompilePlan (archeo/platforms: `-std`, `-nostdinc` against
archeo/shim/include for Xen, the system's headers for userland, defines, include directories)
on the revision and on the harness engine, and a normal link with the harness runtime.

Executables are cached under `<cache>/programs/<key>/`, the key being a sha256 of everything
that went in (texts, config, harness and shim sources, compiler version, flags); the harness
runtime, the same for every revision, is compiled once into `<cache>/objects/`. A cache entry
is built aside and renamed into place, so an interrupted build never leaves half a program;
compile failures are cached too (they are as deterministic as successes). The cache is an
optimisation only: delete it and the same programs come back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from . import elfcheck
from .api import ApiError, config_header, derive_api
from .errors import ArcheoError
from .platforms import INCLUDE_DIRECTIVE, CompilePlan, includes, plan, revision_files, safe_relative, stage, write_exact
from .records import Model, Program, Revision
from .sandbox import NO_SANDBOX_FLAG, denied_call, raise_if_refused

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

KEY_SCHEME = "archeo-build-4"  # 2: programs record their code identity (`code`); 3: compile plans; 4: sandboxed
CONFIG_PATH = "archeo-gen/archeo_config.h"
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


@dataclass(frozen=True)
class _Layout:
    """Where the revision's files go in the build directory, and how they are included."""

    source: str  # relative path of the .c
    header: str  # relative path of the header
    include_root: str  # relative directory passed with -I
    includes: tuple[str, ...]  # what archeo_config.h includes, e.g. ("<xen/types.h>", "<xen/rbtree.h>")


# ---------------------------------------------------------------- the includes of a revision
def check_includes(text: str, path: str) -> str | None:
    """Why the revision may not be compiled, or None: an `#include` must name a relative path
    without `..` (no reaching outside the build directory), and must not be computed."""
    for match in INCLUDE_DIRECTIVE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        rest = match.group(2).strip()
        directive = f"#{match.group(1)} {rest}".strip()
        m = re.match(r'^(<([^>]*)>|"([^"]*)")', rest)
        if not m:
            return f"{path}:{line}: computed include is not allowed: {directive}"
        target = m.group(2) if m.group(2) is not None else m.group(3)
        if target.startswith("/") or target.startswith("\\") or re.match(r"^[A-Za-z]:", target):
            return f"{path}:{line}: absolute include path is not allowed: {directive}"
        if ".." in re.split(r"[/\\]", target):
            return f"{path}:{line}: include path with '..' is not allowed: {directive}"
    return None


def _include_targets(text: str) -> list[str]:
    """The `<...>`/`"..."` include targets of a text, in order, brackets kept."""
    return [f"<{name}>" if kind == "<" else f'"{name}"' for _, kind, name in includes(text)]


def layout_for(rev: Revision) -> _Layout:
    """Place the .c at its own path and the header where the .c's `#include` finds it."""
    if not safe_relative(rev.path) or not safe_relative(rev.header_path or "x"):
        raise ArcheoError(f"revision {rev.short}: unsafe file path {rev.path!r} / {rev.header_path!r}")
    header_path = rev.header_path or "rbtree.h"
    base = PurePosixPath(header_path).name
    targets = _include_targets(rev.text or "")
    own = next((t for t in targets if PurePosixPath(t[1:-1]).name == base), None)
    if own is None:  # the .c does not include its header by name: use its historical include path
        name = header_path.split("include/", 1)[1] if "include/" in header_path else base
        own = f"<{name}>"
        prelude = targets
    else:
        prelude = targets[: targets.index(own)]
    name = own[1:-1]
    if header_path.endswith("/" + name) and header_path != rev.path:
        root = header_path[: -len(name) - 1]
        header = header_path
    else:
        root, header = "archeo-include", f"archeo-include/{name}"
    if header == rev.path:
        raise ArcheoError(f"revision {rev.short}: header and source share the path {header}")
    # the .c's other rbtree headers after its own (rbtree_augmented.h): the harness needs them too
    after = targets[targets.index(own) + 1 :] if own in targets else []
    later = tuple(t for t in after if PurePosixPath(t[1:-1]).name.startswith("rbtree"))
    return _Layout(rev.path, header, root, tuple(prelude) + (own,) + later)


# ---------------------------------------------------------------- one revision
class Builder:
    """Builds programs into one cache with one toolchain; safe to use from several threads."""

    def __init__(self, cache_dir: str | os.PathLike, sanitize: bool = False, toolchain: Toolchain | None = None,
                 sandbox: bool = True):
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

    @property
    def flags(self) -> tuple[str, ...]:
        return SANITIZE_FLAGS if self.sanitize else BASE_FLAGS

    def key(self, rev: Revision, layout: _Layout, config: str, compile_plan: CompilePlan | None = None) -> str:
        """sha256 of everything that goes into the program."""
        compile_plan = compile_plan or plan(rev)
        h = hashlib.sha256()
        parts = [
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
        ]
        for part in parts:
            data = part.encode("utf-8", "surrogateescape")
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
        return h.hexdigest()

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
            api = derive_api(model)
        except ApiError as exc:
            return fail(f"api: {exc}")
        layout = layout_for(rev)
        config = config_header(api, layout.includes)
        key = self.key(rev, layout, config, compile_plan)
        final = self.cache_dir / "programs" / key
        cached = _load(final, rev.commit, key, self.sanitize)
        if cached is not None:
            return replace(cached, cached=True)
        with tempfile.TemporaryDirectory(prefix="archeo-build-") as tmp:
            info = self._compile(Path(tmp), rev, layout, config, compile_plan)
            if info.pop("transient", False):
                return fail(info["error"])  # not cached: the next run compiles it again
            notes = [*compile_plan.notes, *api.notes]
            info.update(commit=rev.commit, key=key, sanitize=self.sanitize, notes=notes, api_ops="".join(api.ops))
            _store(final, info, Path(tmp) / "program" if info["ok"] else None, config)
            if info["ok"] and info.get("code"):
                self._remember(info["code"], key)
        return _load(final, rev.commit, key, self.sanitize) or fail(info.get("error") or "cache write failed")

    def _runtime_object(self, source: Path = HARNESS_RUNTIME, executable: bool = False) -> Path:
        """A runtime (the same for every revision) compiled once per toolchain and flags; or,
        `executable`, one of our own tools (the compiler launcher)."""
        defines = ["-DARCHEO_SANITIZE"] if self.sanitize else []
        if executable:
            argv = [self.toolchain.cc, RUNTIME_STD, *BASE_FLAGS, str(source)]
        else:
            argv = [self.toolchain.cc, RUNTIME_STD, *self.flags, *defines, *self.runtime_defines, "-c", str(source)]
        texts = [*self._harness_texts, source.read_text()]
        key = hashlib.sha256("\0".join([KEY_SCHEME, self.toolchain.version, *argv[1:], *texts]).encode()).hexdigest()
        suffix = "" if executable else ".o"
        path = self.cache_dir / "objects" / f"{source.stem}-{key[:32]}{suffix}"
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=f".{source.stem}-", suffix=suffix, dir=path.parent)
        os.close(fd)
        try:
            proc = subprocess.run([*argv, "-o", partial], capture_output=True, text=True, timeout=COMPILE_TIMEOUT)
            if proc.returncode != 0:  # our own code: a failure here is ours, not the revision's
                raise ArcheoError(f"cannot compile {source.name}: {first_error(proc.stderr)}")
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        return path

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

    def _compile(self, tmp: Path, rev: Revision, layout: _Layout, config: str, compile_plan: CompilePlan) -> dict:
        stage_sources(rev, layout, config, tmp, compile_plan)
        (tmp / "archeo-obj").mkdir()
        cc, flags = self.toolchain.cc, list(self.flags)
        defines = ["-DARCHEO_SANITIZE"] if self.sanitize else []
        cflags = _with_root(compile_plan, layout).cflags()
        steps = [
            [*self._revision_argv(layout, compile_plan), "-o", "archeo-obj/revision.o"],
            [cc, *flags, *defines, "-I", "archeo-gen", *cflags, "-c", str(HARNESS_ENGINE), "-o", "archeo-obj/harness.o"],
        ]
        # What the compiler is given decides the program: an earlier build of the same code
        # (another revision's: a comment, a licence text, a header change that reaches nothing)
        # is copied rather than compiled again (its embedded commit id aside, it is this one).
        code = self._code_identity(tmp, steps, rev.commit)
        earlier = self._built_with(code)
        if earlier is not None:
            shutil.copy2(earlier, tmp / "program")
            info = program_info(tmp / "program", sandbox=self.sandbox)
            if "node_size" in info:
                return {"ok": True, "node_size": int(info["node_size"]), "ops": info.get("ops", ""), "code": code}
        for argv in steps:
            try:
                command, where = self._confined(argv, tmp)
                proc = subprocess.run(command, **where, capture_output=True, text=True, errors="replace", timeout=COMPILE_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise ArcheoError(f"{cc} took more than {COMPILE_TIMEOUT}s on {rev.short}") from None
            if proc.returncode < 0:  # killed (Ctrl-C, OOM): says nothing about the revision
                return {"ok": False, "error": f"the compiler was killed by signal {-proc.returncode}", "transient": True}
            if proc.returncode != 0:
                return {"ok": False, "error": first_error(proc.stderr, str(tmp)), "log": proc.stderr}
        link = [cc, *flags, "-o", "program", "archeo-obj/revision.o", "archeo-obj/harness.o", *self._confined_objects(tmp)]
        command, where = self._confined(link, tmp)
        proc = subprocess.run(command, **where, capture_output=True, text=True, errors="replace", timeout=COMPILE_TIMEOUT)
        if proc.returncode < 0:
            return {"ok": False, "error": f"the linker was killed by signal {-proc.returncode}", "transient": True}
        if proc.returncode != 0:
            return {"ok": False, "error": first_error(proc.stderr, str(tmp)), "log": proc.stderr}
        problem = elfcheck.check_objects([tmp / "archeo-obj/revision.o", tmp / "archeo-obj/harness.o"], cc)
        if problem:
            return {"ok": False, "error": problem}
        info = program_info(tmp / "program", sandbox=self.sandbox)
        if "node_size" not in info:
            return {"ok": False, "error": f"the built program does not run: {info.get('error', '?')}"}
        return {"ok": True, "node_size": int(info["node_size"]), "ops": info.get("ops", ""), "code": code}

    def _built_with(self, code: str) -> Path | None:
        """The cached program an earlier build made from the same code, if any."""
        if not code:
            return None
        try:
            key = (self.cache_dir / "program-codes" / code).read_text().strip()
        except OSError:
            return None
        path = self.cache_dir / "programs" / key / "program"
        return path if re.fullmatch(r"[0-9a-f]{64}", key) and path.exists() else None

    def _remember(self, code: str, key: str) -> None:
        """Index a built program by its code identity, for `_built_with` (written aside, renamed)."""
        index = self.cache_dir / "program-codes"
        index.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=".by-code-", dir=index)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        os.replace(partial, index / code)

    def _revision_argv(self, layout: _Layout, compile_plan: CompilePlan) -> list[str]:
        """The command that compiles the revision's own .c (no harness), without `-o`."""
        return [self.toolchain.cc, *self.flags, *_with_root(compile_plan, layout).cflags(), "-c", layout.source]

    def revision_compile(self, rev: Revision, model: Model):
        """(stage(dir), argv) compiling the revision's .c alone, as `build` would, or None when
        it has no API to build against. For mutation's trivial-compiler-equivalence check."""
        if not rev.present or rev.header_text is None or not model.ok:
            return None
        try:
            api = derive_api(model)
        except ApiError:
            return None
        compile_plan, layout = plan(rev), layout_for(rev)
        config = config_header(api, layout.includes)
        return (lambda dest: stage_sources(rev, layout, config, dest, compile_plan)), self._revision_argv(layout, compile_plan)

    def _confined_objects(self, tmp: Path) -> list[str]:
        """The runtimes every program is linked with: the harness's, and the sandbox's, which
        confines the program from `.preinit_array` before any of the revision's code runs
        (archeo/shim/sandbox_rt.c); elfcheck then refuses a program whose revision code
        could run before it."""
        return [str(self._runtime_object(HARNESS_RUNTIME)), str(self._runtime_object(SANDBOX_RUNTIME))]

    def _code_identity(self, tmp: Path, steps: list[list[str]], commit: str) -> str:
        """sha256 of what the compiler was given, line markers aside: the revision's and the
        harness engine's translation units preprocessed (`-E -P`), the commit id the harness
        embeds taken out, with the toolchain, flags and runtime.

        Two revisions with the same identity are the same program (a licence text, a comment,
        an include that adds nothing, a file move), so difftest runs it once for both. "" when
        the preprocessor says no (then nothing is shared).
        """
        h = hashlib.sha256()
        for part in (KEY_SCHEME, self.toolchain.version, " ".join(self.flags), f"sanitize={self.sanitize}", *self._harness_texts):
            h.update(part.encode("utf-8", "surrogateescape") + b"\0")
        for argv in steps:
            at = argv.index("-c")
            argv = [*argv[:at], "-E", "-P", *argv[at + 1 : argv.index("-o")]]
            command, where = self._confined(argv, tmp)
            proc = subprocess.run(command, **where, capture_output=True, timeout=COMPILE_TIMEOUT)
            if proc.returncode != 0:
                return ""
            h.update(_tokens_only(proc.stdout.replace(commit.encode(), b"")) + b"\0")
        return h.hexdigest()


def _with_root(compile_plan: CompilePlan, layout: _Layout) -> CompilePlan:
    """The plan with the layout's include root first (where the staged headers are)."""
    if layout.include_root in compile_plan.include_dirs:
        return compile_plan
    return replace(compile_plan, include_dirs=(layout.include_root, *compile_plan.include_dirs))


_LITERAL_OR_SPACE = re.compile(rb'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|\s+')


def _tokens_only(code: bytes) -> bytes:
    """Preprocessed C with every run of white space outside string and character literals
    made one space: a line broken differently, or spaces doubled, is the same code."""
    return _LITERAL_OR_SPACE.sub(lambda m: m.group(0) if m.group(0)[:1] in (b'"', b"'") else b" ", code).strip()


def stage_sources(rev: Revision, layout: _Layout, config: str, dest: Path, compile_plan: CompilePlan | None = None) -> None:
    """Write the revision's .c, header and include closure, unmodified, the plan's stubs, and
    the generated config under `dest` (platforms.stage).

    Read back and compared, so "the revision compiled is byte for byte the revision mined"
    is checked on every build rather than assumed (no newline or encoding translation).
    """
    stage(rev, compile_plan or plan(rev), dest)
    if layout.header != rev.header_path:  # the header where the .c's include finds it
        write_exact(dest / layout.header, rev.header_text or "")
    write_exact(dest / CONFIG_PATH, config)


def first_error(stderr: str, tmp: str = "") -> str:
    """The compiler's (or linker's) first error line, without our temporary directory in it."""
    lines = [(line.replace(tmp + "/", "") if tmp else line).strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if re.search(r"\berror\b|\bError:|undefined reference|multiple definition", line):
            return line
    return lines[0] if lines else "the compiler failed without a message"


def program_info(path: str | os.PathLike, sandbox: bool = True) -> dict:
    """`program --info` as a dict (node_size, ops, commit, sanitize), run confined (its
    constructors are the revision's code) in an empty directory of its own."""
    argv = [str(path), "--info"] + ([] if sandbox else [NO_SANDBOX_FLAG])
    try:
        with tempfile.TemporaryDirectory(prefix="archeo-info-") as cwd:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, env={}, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": str(exc)}
    raise_if_refused(proc.returncode, proc.stderr)
    denied = denied_call(proc.stderr) if proc.returncode == -signal.SIGSYS else None
    if denied:  # a constructor of the revision's, stopped before any operation
        return {"error": f"sandbox: {denied} (before main: the program's constructors)"}
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    return dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)


# ---------------------------------------------------------------- the cache
def _store(final: Path, info: dict, program: Path | None, config: str) -> None:
    """Put a finished build into the cache atomically: staged aside, then renamed into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{final.name[:16]}-", dir=final.parent))
    try:
        if program is not None:
            shutil.copy2(program, stage / "program")
        (stage / "archeo_config.h").write_text(config)
        log = info.pop("log", None)
        if log:
            (stage / "build.log").write_text(log)
        (stage / "program.json").write_text(json.dumps(info, indent=1) + "\n")
        try:
            os.rename(stage, final)
        except OSError:
            if not (final / "program.json").exists():  # not a lost race: a real failure
                raise
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _load(final: Path, commit: str, key: str, sanitize: bool) -> Program | None:
    try:
        info = json.loads((final / "program.json").read_text())
    except (OSError, ValueError):
        return None
    path = final / "program"
    if info.get("ok") and not path.exists():
        return None
    return Program(
        commit=commit,
        path=str(path) if info.get("ok") else None,
        key=key,
        ops=tuple(info.get("ops") or ()),
        node_size=info.get("node_size"),
        sanitize=sanitize,
        error=info.get("error"),
        notes=tuple(info.get("notes") or ()),
        code=info.get("code") or "",
    )


# ---------------------------------------------------------------- the API
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
) -> list[Program]:
    """Build every revision, `jobs` at a time; one Program per revision, in order.

    `models` is either aligned with `revisions` or a mapping from commit to Model. A failed
    build is a Program with `error`; the others go on.
    """
    if isinstance(models, Mapping):
        pairs = [(rev, models[rev.commit]) for rev in revisions]
    else:
        if len(models) != len(revisions):
            raise ValueError(f"{len(revisions)} revisions but {len(models)} models")
        pairs = list(zip(revisions, models))
    builder = Builder(cache_dir, sanitize, toolchain, sandbox)
    workers = max(1, jobs or os.cpu_count() or 1)
    tick = progress or (lambda stage, done, total: None)
    tick("build", 0, len(pairs))
    programs = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for program in pool.map(lambda pair: builder.build(*pair), pairs):
            programs.append(program)
            tick("build", len(programs), len(pairs))
    return programs
