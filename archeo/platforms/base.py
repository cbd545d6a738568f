"""What every platform shares: the CompilePlan, the revision's files, include scanning.

Split from the package's `__init__` so `xen` and `userland` import these without importing
the package that chooses between them (no import cycle).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import ArcheoError
from ..records import CompileSettings, Revision

STUB_STAGE = "archeo-stubs"  # where a plan's chosen stubs are staged, inside the build tree

INCLUDE_DIRECTIVE = re.compile(r'^[ \t]*(?:#|%:)[ \t]*(include|include_next|import)\b[ \t]*(.*)$', re.MULTILINE)


@dataclass(frozen=True)
class CompilePlan:
    """Everything gcc is told about one revision, besides the files themselves.

    `include_dirs` are relative to the staged tree and searched in order before
    `stub_dir` (an absolute directory of archeo's headers, "" for none). `stubs` are files
    of `stub_source` staged under `archeo-stubs/` for this revision only (a stub of
    `linux/stddef.h` must not shadow the system's for a revision that never asked for it).
    """

    platform: str
    std: str
    nostdinc: bool
    include_dirs: tuple[str, ...]
    defines: tuple[str, ...] = ()
    stub_dir: str = ""
    stubs: tuple[str, ...] = ()
    stub_source: str = ""
    notes: tuple[str, ...] = ()

    def cflags(self) -> list[str]:
        """Standard, `-nostdinc`, defines and include directories, in gcc's order."""
        flags = [f"-std={self.std}"]
        if self.nostdinc:
            flags.append("-nostdinc")
        flags += [f"-D{d}" for d in self.defines]
        for d in self.include_dirs:
            flags += ["-I", d]
        if self.stubs:
            flags += ["-I", STUB_STAGE]
        if self.stub_dir:
            flags += ["-I", self.stub_dir]
        return flags

    def stub_texts(self) -> dict[str, str]:
        """The stubs this plan stages, path under `archeo-stubs/` -> text (part of cache keys)."""
        return {name: (Path(self.stub_source) / name).read_text() for name in self.stubs}

    def identity(self) -> str:
        """A stable text of the plan, for cache keys (the stub texts included)."""
        parts = [self.platform, self.std, str(self.nostdinc), *self.include_dirs, "|", *self.defines, "|", self.stub_dir]
        parts += [f"{name}\0{text}" for name, text in sorted(self.stub_texts().items())]
        return "\n".join(parts)


# ---------------------------------------------------------------- what a revision includes
def includes(text: str) -> list[tuple[int, str, str]]:
    """(line, kind, name) of every `#include` with a literal target: kind is `<` or `"`."""
    out = []
    for match in INCLUDE_DIRECTIVE.finditer(text or ""):
        m = re.match(r'^(?:<([^>]*)>|"([^"]*)")', match.group(2).strip())
        if m and match.group(1) != "import":
            line = text.count("\n", 0, match.start()) + 1
            out.append((line, "<", m.group(1)) if m.group(1) is not None else (line, '"', m.group(2)))
    return out


def revision_files(rev: Revision) -> dict[str, str]:
    """The files staged for a revision: its .c, its header and its include closure, by path."""
    files = dict(rev.closure)
    if rev.header_path and rev.header_text is not None:
        files[rev.header_path] = rev.header_text
    if rev.text is not None:
        files[rev.path] = rev.text
    return files


def header_dirs(header_path: str | None) -> list[str]:
    """Every ancestor of the header's directory, deepest first, so `<xen/rbtree.h>` and
    `<xeno/rbtree.h>` (or `"rbtree.h"`) resolve without knowing the include name."""
    dirs = []
    parent = PurePosixPath(header_path).parent if header_path else PurePosixPath(".")
    while str(parent) not in ("", "."):
        dirs.append(parent.as_posix())
        parent = parent.parent
    return dirs


def search_dirs(rev_or_header: Revision | str | None, settings: CompileSettings) -> tuple[str, ...]:
    """The revision's own include directories, in gcc's order: the project's, then the header's."""
    header = rev_or_header.header_path if isinstance(rev_or_header, Revision) else rev_or_header
    return tuple(dict.fromkeys([*settings.include_dirs, *header_dirs(header)]))


def write_exact(path: Path, text: str) -> None:
    """Write `text` byte for byte (no newline or encoding translation), and check it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8", "surrogateescape")
    path.write_bytes(data)
    if path.read_bytes() != data:
        raise ArcheoError(f"could not write {path.name} unchanged into {path.parent}")


def safe_relative(path: str) -> bool:
    p = PurePosixPath(path)
    return bool(path) and not p.is_absolute() and ".." not in p.parts
