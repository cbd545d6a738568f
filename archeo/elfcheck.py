"""Refuse a program whose revision code could run before the sandbox is in place.

archeo/shim/sandbox_rt.c confines every program from `.preinit_array`, which the dynamic
loader runs before any constructor. Code of the revision (its .c, and its header through the
harness engine) could still run earlier, or in the sandbox's place, in three ways, and each
is refused here, on the object files, with a precise reason (the revision's build fails; the
run goes on):

- a `.preinit_array` entry of its own (it might be run before ours), or any section the
  linker could turn into something the loader acts on (`.interp`, `.dynamic`, ...): only the
  sections a compiler puts in an ordinary object are accepted;
- an IFUNC symbol: its resolver runs while the loader relocates, before any initialiser;
- a definition of a name the C library exports (`prctl`, `syscall`, `malloc`...): the
  sandbox's setup, and a sanitizer's, call libc, and would call the revision's code instead.

Why not also look for `syscall` instructions in the revision: once the filter is in place
it sees every system call however it is made, and before it no revision code runs.

The ELF reading is plain `struct` over the section headers and the symbol tables (64-bit
little-endian, what archeo builds on); no binutils needed.
"""

from __future__ import annotations

import os
import struct
import subprocess
from functools import lru_cache
from pathlib import Path

# Sections an ordinary object from gcc has (with -g and sanitizers too); `.name` or `.name.*`.
_ALLOWED_SECTIONS = (
    ".text", ".data", ".bss", ".rodata", ".tdata", ".tbss", ".comment", ".note.GNU-stack",
    ".note.gnu.property", ".eh_frame", ".gcc_except_table", ".init_array", ".fini_array",
    ".ctors", ".dtors", ".debug_", ".zdebug_", ".group", ".symtab", ".strtab", ".shstrtab",
    ".symtab_shndx", ".rela", ".rel", ".stack_sizes", ".gnu.lto_", ".sdata", ".sbss", ".lbss",
    ".ldata", ".lrodata", "__patchable_function_entries",
)
_STT_GNU_IFUNC = 10
_SHT_SYMTAB, _SHT_DYNSYM = 2, 11


class _Elf:
    """Section names and defined global symbols of one ELF64 little-endian file."""

    def __init__(self, data: bytes):
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ValueError("not a 64-bit little-endian ELF file")
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
        self.data = data
        self.sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
        names = self.sections[shstrndx]
        self.names = [self._string(names[4], s[0]) for s in self.sections]

    def _string(self, table_offset: int, at: int) -> str:
        end = self.data.index(b"\0", table_offset + at)
        return self.data[table_offset + at : end].decode("utf-8", "replace")

    def symbols(self, kind: int):
        """(name, type, defined) of the global and weak symbols in tables of `kind`."""
        for sec in self.sections:
            if sec[1] != kind:
                continue
            strtab = self.sections[sec[6]][4]
            for at in range(sec[4], sec[4] + sec[5], sec[9] or 24):
                name, info, _other, shndx = struct.unpack_from("<IBBH", self.data, at)
                if info >> 4 in (1, 2) and name:  # STB_GLOBAL, STB_WEAK
                    yield self._string(strtab, name), info & 0xF, shndx != 0


def symbol_span(data: bytes, name: str) -> tuple[int, int] | None:
    """(file offset, size) of the bytes of the defined symbol `name` in a linked program
    (its .symtab), or None when it is not there or the file is not one we read."""
    try:
        elf = _Elf(data)
        for sec in elf.sections:
            if sec[1] != _SHT_SYMTAB:
                continue
            strtab = elf.sections[sec[6]][4]
            for at in range(sec[4], sec[4] + sec[5], sec[9] or 24):
                st_name, _info, _other, shndx, value, size = struct.unpack_from("<IBBHQQ", data, at)
                if not st_name or not 0 < shndx < len(elf.sections) or elf._string(strtab, st_name) != name:
                    continue
                home = elf.sections[shndx]  # (name, type, flags, addr, offset, size, ...)
                if home[1] == 8 or not home[3] <= value <= value + size <= home[3] + home[5]:  # SHT_NOBITS: no bytes
                    return None
                return home[4] + value - home[3], size
    except (ValueError, struct.error, IndexError):
        return None
    return None


def _allowed_section(name: str) -> bool:
    return not name or any(name == p or name.startswith(p + ".") or (p.endswith("_") and name.startswith(p))
                           for p in _ALLOWED_SECTIONS)


@lru_cache(maxsize=4)
def libc_exports(cc: str = "gcc") -> frozenset[str]:
    """The names the C library the programs link with defines (its dynamic symbols)."""
    try:
        path = subprocess.run([cc, "-print-file-name=libc.so.6"], capture_output=True, text=True,
                              timeout=60).stdout.strip()
        elf = _Elf(Path(path).read_bytes())
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(name.split("@")[0] for name, _type, defined in elf.symbols(_SHT_DYNSYM) if defined)


def check_objects(objects: list[str | os.PathLike], cc: str = "gcc") -> str | None:
    """Why the program built from these objects (the revision's and the harness engine's)
    may not run, or None."""
    exports = libc_exports(cc)
    for obj in objects:
        label = Path(obj).stem
        try:
            elf = _Elf(Path(obj).read_bytes())
        except (OSError, ValueError, struct.error) as exc:
            return f"sandbox: cannot read {label}.o ({exc})"
        for name in elf.names:
            if not _allowed_section(name):
                return f"sandbox: refused: {label}.o has a section {name} (code there could run before the sandbox)"
        for name, kind, defined in elf.symbols(_SHT_SYMTAB):
            if defined and kind == _STT_GNU_IFUNC:
                return f"sandbox: refused: {label}.o defines the IFUNC {name} (its resolver runs before the sandbox)"
            if defined and name in exports:
                return f"sandbox: refused: {label}.o defines {name}, which the C library exports (it would run in the sandbox's setup)"
    return None
