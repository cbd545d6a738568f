"""A mutant of a header's inline function, made visible to the harness.

The later API groups' functions of a kernel rbtree copy (`rb_erase_cached`, `rb_add`,
`rb_find_first`, `rb_insert_augmented`, ...) are often `static inline` in its headers. The
harness is its own translation unit and includes the revision's headers, so mutating the
function in the revision's preprocessed .c (archeo/mutants.py) alone would change nothing the
harness calls. The header text the build stages is therefore patched too:

- a `#define NAME archeo_unmutated_NAME` line just before the line where the function's name
  is declared (a directive may stand between the tokens of a declaration), so the header's own
  definition is compiled under another name, unused;
- after the whole header, inside a guard of its own (a header included twice defines it once),
  `#undef NAME` and the function as printed from the preprocessed AST, mutated or not.

The printed function is the header's own, macros expanded, so it needs nothing the header has
not declared by its end. The round trip patches every such function with its unmutated print
and must behave identically (archeo/mutate.py), like the .c's.
"""

from __future__ import annotations

import re

PREFIX = "archeo_unmutated_"


def patch_header(text: str, functions: list[tuple[str, int, str]], path: str) -> str:
    """`text` with each (name, line of its declarator, C text) replaced as described above."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for name, line, _ in sorted(functions, key=lambda f: f[1], reverse=True):
        lines.insert(max(0, line - 1), f"#define {name} {PREFIX}{name}\n")
    guard = "ARCHEO_MUTATED_" + re.sub(r"\W", "_", path).upper()
    tail = [f"#ifndef {guard}\n", f"#define {guard}\n"]
    for name, _, function_text in functions:
        tail += [f"#undef {name}\n", function_text if function_text.endswith("\n") else function_text + "\n"]
    tail.append(f"#endif /* {guard} */\n")
    return "".join(lines + tail)


__all__ = ["PREFIX", "patch_header"]
