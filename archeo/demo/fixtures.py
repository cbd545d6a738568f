"""Our own red-black trees in C (MIT, written here), by name, and how to read them.

The correct eras (`era2004`, `era2009`, `era2017`) are stored whole in `fixtures/`; each
broken or edited variant is stored as a diff against its base, so the fault is the diff and
nothing else (fixtures/README.md says what each one is). The tests build their histories from
these, and so does `archeo demo`: they ship with the package. No Xen or Linux text is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"

AUTHOR_NAME = "Ada Fixture"
AUTHOR_EMAIL = "ada@fixtures.archeo.invalid"
COMMITTER_NAME = "Archeo Tests"
COMMITTER_EMAIL = "tests@fixtures.archeo.invalid"

# The paths the real file and its header had; the histories use the same ones.
C_PATH_2004 = "xen/common/rbtree.c"
C_PATH_2020 = "xen/lib/rbtree.c"
H_PATH_XENO = "xen/include/xeno/rbtree.h"
H_PATH_XEN = "xen/include/xen/rbtree.h"
TARGET_PATHS = (C_PATH_2004, C_PATH_2020)
TARGET_HEADER_PATHS = (H_PATH_XENO, H_PATH_XEN)
# Files with the same base name that are *not* the target.
DECOY_PATHS = ("xen/include/asm-ia64/linux/rbtree.h", "tools/rbtree.c")


def xeno_to_xen(text: str) -> str:
    """The 2004 header move: ``<xeno/...>`` includes become ``<xen/...>``."""
    return text.replace("<xeno/", "<xen/")


@dataclass(frozen=True)
class Fixture:
    """One rbtree implementation: a ``.c`` and the header it is compiled against."""

    name: str
    source: str  # file in FIXTURE_DIR
    header: str  # file in FIXTURE_DIR
    include: str  # where the header must sit on the include path: xeno/rbtree.h | xen/rbtree.h
    era: str  # 2004 | 2009 | 2017: the API shape
    base: str  # the correct fixture it is a variant of (itself for a correct one)
    kind: str  # correct | crash | hang | corrupt | invariant | structural | observable | api | text
    trace: str  # expected difftest class against `base` (docs/protocol.md), "" if unpredictable
    api: tuple[str, ...]  # functions it defines (inline ones from the header included)
    note: str
    xen_paths: bool = False  # the 2004 shape after the xeno -> xen move (texts rewritten)

    def c_text(self) -> str:
        text = read_fixture(self.source)
        return xeno_to_xen(text) if self.xen_paths else text

    def h_text(self) -> str:
        text = read_fixture(self.header)
        return xeno_to_xen(text) if self.xen_paths else text

    def text(self, ext: str) -> str:
        return {"c": self.c_text, "h": self.h_text}[ext]()

    @property
    def sound(self) -> bool:
        """Builds valid red-black trees and answers every walk correctly."""
        return self.kind in ("correct", "text", "api", "structural")


_API_2004 = ("rb_insert_color", "rb_erase", "rb_link_node")
_API_2009 = _API_2004 + ("rb_first", "rb_last", "rb_next", "rb_prev", "rb_replace_node")


def _fx(name, source, header, era, base, kind, trace, note, api=_API_2009, **kw) -> Fixture:
    include = "xeno/rbtree.h" if era == "2004" and not kw.get("xen_paths") else "xen/rbtree.h"
    return Fixture(name, source, header, include, era, base, kind, trace, api, note, **kw)


FIXTURES: dict[str, Fixture] = {
    f.name: f
    for f in (
        _fx("era2004", "era2004.c", "era2004.h", "2004", "era2004", "correct", "same",
            "typedef'd rb_node_t/rb_root_t, parent and colour fields; insert and erase only",
            api=_API_2004),
        _fx("era2004xen", "era2004.c", "era2004.h", "2004", "era2004", "correct", "same",
            "era2004 after the xeno -> xen header move (includes rewritten, nothing else)",
            api=_API_2004, xen_paths=True),
        _fx("era2009", "era2009.c", "era2009.h", "2009", "era2009", "correct", "same",
            "packed rb_parent_color, colour macros in the header, walkers and replace"),
        _fx("era2017", "era2017.c", "era2017.h", "2017", "era2017", "correct", "same",
            "const walkers, __rb_parent_color, colour helpers private to the .c, "
            "erase settles easy cases early (same trees as the classic algorithm)"),
        _fx("crash", "crash.c", "era2009.h", "2009", "era2009", "crash", "crash",
            "rb_erase dereferences NULL when the successor of a two-child node "
            "is not its right child and has no right child"),
        _fx("hang", "hang.c", "era2009.h", "2009", "era2009", "hang", "hang",
            "rb_insert_color loops forever when the new node ends at depth >= 2 after "
            "the repair (the 5th ascending insert, a handful of random ones)"),
        _fx("corrupt", "corrupt.c", "era2009.h", "2009", "era2009", "corrupt", "",
            "rb_erase writes node[1].rb_left = NULL, past the end of the erased node; "
            "AddressSanitizer sees it, a plain build may or may not misbehave"),
        _fx("aslr", "aslr.c", "era2009.h", "2009", "era2009", "flaky", "flaky",
            "rb_erase dereferences NULL when the erased node's address has bit 12 set; "
            "ASLR moves the pool, so two runs of one batch crash at different erases"),
        _fx("invariant", "invariant.c", "era2009.h", "2009", "era2009", "invariant", "invariant",
            "rb_insert_color skips the red-uncle recolouring on the right side: red-red "
            "after 4 ascending inserts (later erases may then crash on a NULL sibling)"),
        _fx("structural", "structural.c", "era2009.h", "2009", "era2009", "structural",
            "structural",
            "rb_erase splices the in-order predecessor instead of the successor: valid "
            "trees, different shapes and colours"),
        _fx("observable", "observable.c", "era2009.h", "2009", "era2009", "observable",
            "observable",
            "rb_next returns the right child itself instead of its leftmost descendant"),
        _fx("api", "api.c", "api.h", "2009", "era2009", "api", "same",
            "era2009 plus an exported rb_first_postorder (declared in its header); the "
            "protocol has no op for it, so traces are the same and only the model differs",
            api=_API_2009 + ("rb_first_postorder",)),
        _fx("noprev", "noprev.c", "noprev.h", "2009", "era2009", "api", "api",
            "era2009 without rb_prev: `p K` is NA on this side",
            api=tuple(n for n in _API_2009 if n != "rb_prev")),
        _fx("textonly", "textonly.c", "textonly.h", "2009", "era2009", "text", "same",
            "era2009 with only comments, whitespace and licence wording changed"),
        _fx("macroparens", "era2017.c", "macroparens.h", "2017", "era2017", "text", "same",
            "era2017 header with redundant parentheses added inside rb_parent(): "
            "different tokens, same AST, same behaviour"),
    )
}


def fixture_files() -> list[Path]:
    """Every C and header fixture, whether stored whole or as a diff (read with `read_fixture`)."""
    names = {p.name.removesuffix(".diff") for p in FIXTURE_DIR.iterdir() if p.suffix in (".c", ".h", ".diff")}
    return sorted(FIXTURE_DIR / n for n in names)


def read_fixture(name: str) -> str:
    """A fixture's text. The correct eras are stored whole; each broken or edited variant is
    stored as `<name>.diff` against its base, so the fault is the diff and nothing else."""
    whole = FIXTURE_DIR / name
    if whole.is_file():
        return whole.read_text()
    return apply_diff((FIXTURE_DIR / f"{name}.diff").read_text())


def apply_diff(diff: str) -> str:
    """Apply a unified diff (as difflib writes it) to the base file its `---` line names.

    Every context and removed line is checked against the base, so a base edited since the
    diff was made fails loudly instead of producing a different variant.
    """
    lines = diff.splitlines(keepends=True)
    base_name = lines[0][4:].strip()
    base = read_fixture(base_name).splitlines(keepends=True)
    out: list[str] = []
    pos = 0  # next base line to copy
    i = 2
    while i < len(lines):
        header = lines[i]
        assert header.startswith("@@ "), f"bad hunk header in diff of {base_name}: {header!r}"
        start = int(header.split()[1][1:].split(",")[0]) - 1
        start = max(start, 0)
        out += base[pos:start]
        pos = start
        i += 1
        while i < len(lines) and not lines[i].startswith("@@ "):
            tag, text = lines[i][0], lines[i][1:]
            if tag in " -":
                assert base[pos] == text, f"diff against {base_name} does not apply at line {pos + 1}"
                pos += 1
                if tag == " ":
                    out.append(text)
            elif tag == "+":
                out.append(text)
            i += 1
    return "".join(out + base[pos:])


def resolve_text(value: str) -> str:
    """What a ``Step.writes`` value stands for.

    ``"<fixture>.c"`` / ``"<fixture>.h"`` (a name in ``FIXTURES``, e.g. ``"crash.h"``,
    which is era2009.h) gives that fixture's source or header; any other single-line
    value naming a file in ``tests/fixtures/`` gives that file; anything else is the
    text itself.
    """
    if "\n" not in value:
        stem, dot, ext = value.rpartition(".")
        if dot and ext in ("c", "h") and stem in FIXTURES:
            return FIXTURES[stem].text(ext)
        if value and FIXTURE_DIR / value in fixture_files():
            return read_fixture(value)
    return value
