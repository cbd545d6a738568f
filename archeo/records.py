"""The plain data that flows between archeo's stages.

Every stage takes and returns these dataclasses and nothing else, so a stage can be
run, cached, tested or scripted from a notebook on its own (DESIGN.md: "plain
dataclasses between stages; no stage reaches into another's internals").
They hold values only: no open repositories, no file handles, no methods with effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field


# ---------------------------------------------------------------- target (target.py)
@dataclass(frozen=True)
class Expectation:
    """A fact about the history known from elsewhere (e.g. the original cgit log).

    `archeo mine` checks each one and says clearly when the mined history disagrees.
    """

    commit: str  # abbreviated or full id
    date: str  # YYYY-MM-DD (author date)
    added: int
    removed: int
    note: str = ""


@dataclass(frozen=True)
class CompileSettings:
    """How a project's own build compiles the file: what archeo must pass to do the same.

    `platform` is "" when archeo chooses one per revision from what it includes
    (archeo/platforms). `include_dirs` are repository-relative (`.` is the top);
    `defines` are `NAME` or `NAME=VALUE`; `std` is a `-std=` value, "" for the platform's.
    """

    platform: str = ""
    include_dirs: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    std: str = ""


@dataclass(frozen=True)
class Target:
    """What to study: which file, under which names, in which repository."""

    name: str
    paths: tuple[str, ...]  # every path the file ever had
    header_paths: tuple[str, ...]  # every path its companion header ever had
    urls: tuple[str, ...] = ()  # official first, then mirrors
    subject: str = "rbtree"  # what kind of code it is (which reference model it is tested against)
    release_pattern: str = ""  # glob of release tags, e.g. "RELEASE-*"
    description: str = ""
    expectations: tuple[Expectation, ...] = ()
    source: str = ""  # the TOML file it came from, for messages
    compile: CompileSettings = CompileSettings()

    @property
    def reference(self) -> str:
        """The old name of `subject` (targets written before subjects had a name)."""
        return self.subject


# ---------------------------------------------------------------- mine (mine.py)
@dataclass(frozen=True)
class Revision:
    """One commit that added, changed, moved or removed the target or its header.

    `text` is None once the file is deleted (status "deleted"), so gaps show.
    """

    commit: str  # full id
    date: str  # ISO 8601 author date with offset
    author: str
    subject: str
    status: str  # added | modified | renamed | deleted
    path: str  # the file's path at this commit (its last path when deleted)
    header_path: str | None
    added: int  # lines added to the .c file by this commit
    removed: int
    text: str | None = field(default=None, repr=False)
    header_text: str | None = field(default=None, repr=False)
    old_path: str | None = None  # for renames
    touched: tuple[str, ...] = ()  # which of "file", "header" this commit touched
    # The revisions this one descends from directly (git's parent rewriting over the target's
    # paths): on a branchy history "previous" means these, not the one listed before.
    parents: tuple[str, ...] = ()
    # Every other file of the repository the file and its header reach through quoted
    # `#include`s at this commit (archeo/closure.py): path -> text, as at this commit.
    closure: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    compile: CompileSettings = CompileSettings()

    @property
    def short(self) -> str:
        return self.commit[:12]

    @property
    def present(self) -> bool:
        return self.text is not None


# ---------------------------------------------------------------- parse (archeo/parse/)
@dataclass(frozen=True)
class Param:
    name: str
    type: str  # C spelling, qualifiers included ("const struct rb_node *")


@dataclass(frozen=True)
class Function:
    name: str
    storage: tuple[str, ...]  # subset of ("static", "extern", "inline")
    returns: str
    params: tuple[Param, ...]
    signature: str  # normalised C prototype
    first_line: int  # in the original file
    last_line: int
    statements: int
    complexity: int  # cyclomatic
    fingerprint: str  # hash of the normalised AST body (names of locals kept)
    origin: str = "source"  # "source" (.c) or "header" (inline in the header)


@dataclass(frozen=True)
class Field:
    name: str
    type: str


@dataclass(frozen=True)
class Struct:
    name: str  # "struct rb_node", "union x", or a typedef name for anonymous ones
    kind: str  # struct | union
    fields: tuple[Field, ...]
    typedefs: tuple[str, ...] = ()  # typedef names that alias it (rb_node_t)


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...] | None  # None for object-like macros
    body: str  # as written, whitespace folded
    origin: str = "header"  # "header" or "source"
    # added for the parse stage: the body printed back from its AST (or its tokens when it
    # is not C on its own), so parentheses and whitespace that change no parse compare equal
    normal: str = ""
    line: int = 0  # where it is defined, in its own file


@dataclass(frozen=True)
class ParseError:
    stage: str  # "preprocess" | "parse" | "model" (archeo's own visitors could not read the code)
    file: str
    line: int
    message: str


@dataclass(frozen=True)
class Model:
    """What one revision *is*: functions, types, macros, public API."""

    commit: str
    functions: tuple[Function, ...] = ()
    structs: tuple[Struct, ...] = ()
    typedefs: dict[str, str] = field(default_factory=dict)  # name -> C type
    macros: tuple[Macro, ...] = ()
    api: tuple[str, ...] = ()  # names the header declares or defines (functions and macros)
    neutralised: tuple[str, ...] = ()  # GCC syntax made parseable, and how
    error: ParseError | None = None
    # added for the parse stage: which files the model is of, and hashes of their texts,
    # so a diff can tell "text changed, code identical" from the models alone
    path: str = ""
    header_path: str | None = None
    source_digest: str = ""
    header_digest: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def function(self, name: str) -> Function | None:
        return next((f for f in self.functions if f.name == name), None)

    def macro(self, name: str) -> Macro | None:
        return next((m for m in self.macros if m.name == name), None)


@dataclass(frozen=True)
class Change:
    """One structural difference between two revisions' models (parse/astdiff.py)."""

    kind: str  # function-added | function-removed | function-renamed | signature-changed |
    # body-changed | struct-changed | macro-added | macro-removed | macro-changed |
    # text-only | header-text-only
    name: str
    detail: str = ""


# ---------------------------------------------------------------- build / execute
@dataclass(frozen=True)
class Program:
    """A built executable for one revision (build.py)."""

    commit: str
    path: str | None  # executable, None when the build failed
    key: str  # content hash of everything that went into it
    ops: tuple[str, ...] = ()  # operation codes this revision supports (docs/protocol.md)
    node_size: int | None = None  # sizeof the node type
    sanitize: bool = False
    error: str | None = None  # the compiler's first error
    notes: tuple[str, ...] = ()  # how the harness reads this revision's API (archeo/subjects/rbtree/api.py)
    cached: bool = False  # came from the build cache rather than a fresh compile
    # What the compiler was given, line markers and the embedded commit id aside: equal codes,
    # the same program (build.Builder._code_identity); "" when unknown.
    code: str = ""

    @property
    def ok(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class RunResult:
    """One batch through one program (execute.py). A crash or hang is a result."""

    status: str  # ok | crash | hang | error
    stdout: str
    lines: int  # result lines written (the last operation reached)
    signal: int | None = None
    returncode: int | None = None
    kind: str = ""  # e.g. "SIGSEGV", "timeout", "asan:heap-buffer-overflow"
    stderr: str = ""  # an excerpt
    seconds: float = 0.0
    notes: tuple[str, ...] = ()  # e.g. "network not isolated: ..." (execute.py)
