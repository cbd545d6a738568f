"""Assemble a revision's `Model` from its declarations' facts, the braces and gcc's defines.

The facts (facts.py) say what each declaration is; only here are they put together into
what the model holds: functions with their spans, structs with their typedef names,
macros with their normal forms, the public API, and what GCC or kernel syntax was made
parseable (`Model.neutralised`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

from .chunks import Brace
from ..records import Function, Macro, Model, Revision, Struct
from .facts import ExtFacts, FunctionFacts, RevisionContext
from .frontend import Preprocessed
from .macros import MacroNormaliser
from .rawtext import identifiers
from .visitors import syntax_descriptions


def _digest(text: str | None) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16] if text is not None else ""


def base_model(rev: Revision, **kw) -> Model:
    return Model(
        commit=rev.commit,
        path=rev.path,
        header_path=rev.header_path,
        source_digest=_digest(rev.text),
        header_digest=_digest(rev.header_text),
        **kw,
    )


# ---------------------------------------------------------------- assembling the model
def build_model(
    rev: Revision,
    facts: list[ExtFacts],
    braces: dict[tuple[str, int, int], Brace],
    unit: Preprocessed,
    ctx: RevisionContext,
    normaliser: MacroNormaliser,
) -> Model:
    """Everything the model holds: the declarations' facts in order, spans from the braces, gcc's defines."""
    own_facts = [f for f in facts if f.origin]
    functions = [_placed(fn, braces) for f in facts for fn in f.functions]
    prototypes = [p for f in facts for p in f.prototypes]
    structs, typedefs = _types(own_facts)
    all_typedefs = sorted({f.typedef for f in facts if f.typedef is not None})
    macros = _macros(unit.defines, ctx, normaliser.normal_forms_for(all_typedefs))
    api = _api(functions, prototypes, macros)
    neutralised = _neutralised(own_facts, unit.defines, rev, ctx)
    return base_model(
        rev,
        functions=tuple(functions),
        structs=tuple(structs),
        typedefs=typedefs,
        macros=tuple(macros),
        api=api,
        neutralised=neutralised,
    )


def _placed(fn: FunctionFacts, braces) -> Function:
    """The function with its span: from the first token of its construct to its closing brace."""
    (file, first), last = fn.name_at, fn.body_at[1]
    brace = braces.get(fn.body_at)
    if brace is not None:
        if brace.start is not None and brace.start[0] == file and brace.start[1] <= first:
            first = brace.start[1]
        if brace.close is not None:
            last = brace.close
    return replace(fn.function, first_line=first, last_line=last)


def _types(own_facts: list[ExtFacts]) -> tuple[list[Struct], dict[str, str]]:
    typedefs: dict[str, str] = {}
    aliases: dict[tuple[int, int], list[str]] = {}
    tag_aliases: dict[str, list[str]] = {}
    for i, facts in enumerate(own_facts):
        for name, text, node, tag in facts.typedefs:
            typedefs[name] = text
            if node is not None:
                aliases.setdefault((i, node), []).append(name)
            if tag is not None:
                tag_aliases.setdefault(tag, []).append(name)
    structs = []
    for i, facts in enumerate(own_facts):
        for node, kind, tag, fields in facts.aggregates:
            names = aliases.get((i, node), [])
            name = f"{kind} {tag}" if tag else (names[0] if names else f"{kind} <anonymous>")
            alias = tuple(dict.fromkeys(names + tag_aliases.get(name, [])))
            structs.append(Struct(name=name, kind=kind, fields=fields, typedefs=alias))
    return structs, typedefs


# ---------------------------------------------------------------- the revision's macros
def _macros(defines, ctx: RevisionContext, normal_forms) -> list[Macro]:
    seen: set[str] = set()
    chosen = []
    for d in defines:
        origin = ctx.own.get(os.path.normpath(d.file)) if d.file else None
        if origin is None or d.name in seen:
            continue
        seen.add(d.name)
        chosen.append((d, origin))
    normals = normal_forms([(d.params, d.body) for d, _ in chosen])
    return [
        Macro(name=d.name, params=d.params, body=d.body, origin=origin, normal=normal, line=d.line)
        for (d, origin), normal in zip(chosen, normals)
    ]


# ---------------------------------------------------------------- api and neutralised
def _api(functions, prototypes, macros) -> tuple[str, ...]:
    """What the header declares or defines: prototypes, inline functions, macros with a body.

    An object-like macro with an empty body (an include guard) is not API.
    """
    names = [name for name, origin in prototypes if origin == "header"]
    names += [f.name for f in functions if f.origin == "header"]
    names += [m.name for m in macros if m.origin == "header" and (m.body or m.params is not None)]
    return tuple(dict.fromkeys(names))


def _neutralised(own_facts: list[ExtFacts], defines, rev: Revision, ctx: RevisionContext) -> tuple[str, ...]:
    """What GCC or kernel syntax was made parseable in this revision, and how."""
    syntax: dict[str, set[str]] = {}
    for facts in own_facts:
        for kind, where in facts.gcc_syntax:
            syntax.setdefault(kind, set()).add(where)
    found = set(syntax_descriptions(syntax))
    shim = {}
    for d in defines:
        if d.file and not ctx.own.get(os.path.normpath(d.file)) and not d.file.startswith("<"):
            shim.setdefault(d.name, d)
    own_names = {d.name for d in defines if d.file and ctx.own.get(os.path.normpath(d.file))}
    used = identifiers(rev.text or "") | identifiers(rev.header_text or "")
    for name in sorted(used & set(shim) - own_names):
        d = shim[name]
        call = f"{name}({', '.join(d.params)})" if d.params is not None else name
        found.add(f"{call}: defined by the shim ({_shim_name(d.file)}) as `{d.body}`")
    return tuple(sorted(found))


def _shim_name(path: str) -> str:
    parts = Path(path).parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else path
