"""Normal forms of macro bodies, so that a change of parentheses or spacing is no change.

A body that parses as C is printed back from its AST; anything else falls back to its
tokens. Parsing costs, so one run of revisions remembers the forms (`MacroNormaliser`).
"""

from __future__ import annotations

import re
from itertools import combinations

from pycparser import c_ast
from pycparser.c_parser import ParseError as PycParseError
from pycparserext.ext_c_generator import GnuCGenerator
from pycparserext.ext_c_lexer import GnuCLexer
from pycparserext.ext_c_parser import GnuCParser


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


class MacroNormaliser:
    """Normal forms of macro bodies, remembered for one run (see `macro_normal_forms`).

    Lives as long as one `parse_run` (in its `Reuse`): an optimisation, never a source of truth.
    """

    def __init__(self):
        self._known: dict[tuple, str] = {}

    def normal_forms_for(self, typedef_names):
        names = frozenset(typedef_names)

        def normal_forms(macros):
            # Only the typedef names a body mentions can change how it parses: keying on those
            # keeps a body's form reusable when the unit's other typedefs change (a userland
            # unit has hundreds, from the system's headers) and keeps the prelude short.
            keys = [(tuple(sorted(names.intersection(_IDENTIFIER.findall(body)))), params, body) for params, body in macros]
            missing = list(dict.fromkeys(k for k in keys if k not in self._known))
            used = sorted({n for k in missing for n in k[0]})
            for key, normal in zip(missing, macro_normal_forms([k[1:] for k in missing], used)):
                self._known[key] = normal
            return [self._known[k] for k in keys]

        return normal_forms


def macro_normal_forms(macros, typedef_names=()) -> list[str]:
    """Each macro body's normal form: its AST printed back, or its token stream.

    A body that parses as a C expression or statement (with its parameters as plain
    identifiers, or some of them as type names for bodies like `(type *)ptr`) is printed
    back from the AST, so parentheses that change no parse and all whitespace vanish:
    `(pc & ~3)` and `((pc) & ~3)` have the same normal form. Anything else (a bare
    type, `#x` stringification) falls back to its tokens. One parse for all the bodies
    when they all parse, one per body otherwise.
    """
    prelude = "".join(f"typedef int {t};" for t in typedef_names)
    results: list[str | None] = [None] * len(macros)
    todo = []
    for i, (params, body) in enumerate(macros):
        if not body.strip():
            results[i] = ""
        else:
            todo.append(i)
    if todo:
        batch = prelude + "".join(f"void __archeo_m{i}(void) {{ {macros[i][1]} ; }}\n" for i in todo)
        printed = _print_bodies(batch)
        if printed is not None and len(printed) == len(todo):
            for i, text in zip(todo, printed):
                results[i] = text
    for i in todo:
        if results[i] is None:
            results[i] = _normal_alone(macros[i][0] or (), macros[i][1], prelude)
    return [r or "" for r in results]


def _normal_alone(params, body: str, prelude: str) -> str:
    for size in range(0, min(len(params), 4) + 1):
        for types in combinations(params, size):
            local = "".join(f"typedef int {t};" for t in types)
            printed = _print_bodies(f"{prelude}void __archeo_m(void) {{ {local} {body} ; }}")
            if printed:
                return printed[0]
    return _token_stream(body)


def _print_bodies(source: str) -> list[str] | None:
    try:
        ast = GnuCParser().parse(source, "<macro>")
    except (PycParseError, ValueError, IndexError, AttributeError, TypeError):
        return None
    gen = GnuCGenerator()
    out = []
    for ext in ast.ext:
        if isinstance(ext, c_ast.FuncDef):
            items = [it for it in ext.body.block_items or () if not isinstance(it, c_ast.Typedef)]
            text = " ".join(" ".join(gen._generate_stmt(it).split()) for it in items)
            out.append(text[:-1].rstrip() if text.endswith(";") else text)
    return out


def _token_stream(body: str) -> str:
    """The body's tokens, one space apart: whitespace never matters, parentheses still do."""
    values: list[str] = []
    lexer = GnuCLexer(lambda *a: None, lambda: None, lambda: None, lambda name: False)
    lexer.input(body)
    try:
        while (tok := lexer.token()) is not None:
            values.append(tok.value)
    except Exception:  # noqa: BLE001 - an odd body falls back to its folded text
        return " ".join(body.split())
    return " ".join(values)
