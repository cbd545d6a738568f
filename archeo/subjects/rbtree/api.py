"""What the generated harness needs to know about one revision, derived from its parsed Model.

The harness (archeo/shim/harness.c) is one C file for every API era; what differs between
eras is spelled out in a small per-revision header, `archeo_config.h`, written here:

- the node and root types, as the revision's own API spells them (`rb_node_t` in 2004,
  `struct rb_node` from 2009);
- how to read a node's parent and colour. The revision's own header macros (`rb_parent`,
  `rb_is_red`, `rb_color`) when its header has them, so the harness sees the tree exactly
  as the revision's users do; the plain fields otherwise (`rb_parent`/`rb_color` in 2004,
  `__rb_parent_color & ~3` / `& 1` once the colour accessors moved into rbtree.c);
- RB_RED's value (read from the revision's macro, even when only its .c defines it);
- `rb_entry` (or `container_of` when the header has none);
- which protocol operations the revision supports: `<`/`>`/`n`/`p`/`r` need the functions,
  `c`/`z` need RB_CLEAR_NODE/RB_EMPTY_NODE, the later API groups' ops what
  archeo/subjects/rbtree/groups.py lists; anything else writes `NA`.

Why derive from the Model rather than sniff the text: the parse stage already knows the
functions, structs and macros of each revision; one source of truth for "what API does this
revision have" keeps `archeo build` and the API/ABI comparison of the report consistent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archeo.errors import ArcheoError
from archeo.records import Model, Struct
from .groups import CACHED_ROOT, GROUP_OPS, OP_NEEDS

#: protocol operations in the order of docs/protocol.md's table
ALL_OPS = ("i", "e", "f", "<", ">", "n", "p", "r", "c", "z", "d", "v", "x") + GROUP_OPS
#: what each optional operation needs from the revision (functions, or header macros)
OPTIONAL_FUNCTIONS = {"<": "rb_first", ">": "rb_last", "n": "rb_next", "p": "rb_prev", "r": "rb_replace_node"}
OPTIONAL_MACROS = {"c": "RB_CLEAR_NODE", "z": "RB_EMPTY_NODE"}
REQUIRED_FUNCTIONS = ("rb_insert_color", "rb_erase", "rb_link_node")


class ApiError(ArcheoError):
    """The revision lacks something every harness needs (a node type, rb_insert_color, ...)."""


@dataclass(frozen=True)
class HarnessApi:
    """The per-revision facts the harness is generated from (all C spellings)."""

    commit: str
    node_type: str  # "rb_node_t" | "struct rb_node"
    root_type: str
    parent: str  # C expression of the node `n`: its parent pointer
    is_red: str  # C expression of `n`: non-zero when red
    rb_red: int  # RB_RED's value
    entry: str  # "rb_entry" | "container_of"
    ops: tuple[str, ...]  # protocol operations this revision supports
    layout: str  # "fields" (2004) | "rb_parent_color" (2009) | "__rb_parent_color" (2017-12 on)
    notes: tuple[str, ...] = ()  # how each choice was made, for `archeo build --json` and humans
    entry_needs_container_of: bool = True  # ARCHEO_ENTRY falls back to offsetof where it is undefined
    # The project's spelling of each function the harness calls, where it is not the kernel's
    # (`foo_rb_insert_color` for `rb_insert_color`): (kernel name, project name) pairs.
    renames: tuple[tuple[str, str], ...] = ()

    def has(self, op: str) -> bool:
        return op in self.ops


@dataclass(frozen=True)
class Affix:
    """How a project spells the kernel's names: `fio_` + `rb_insert_color`, or a suffix.

    Functions and macros are found by role, not by spelling: the role's kernel name with the
    project's affix where that exists, else the kernel name itself.
    """

    prefix: str = ""
    suffix: str = ""

    def spell(self, kernel_name: str) -> str:
        if kernel_name.isupper():  # RB_CLEAR_NODE -> FOO_RB_CLEAR_NODE
            return self.prefix.upper() + kernel_name + self.suffix.upper()
        return self.prefix + kernel_name + self.suffix

    def __bool__(self) -> bool:
        return bool(self.prefix or self.suffix)


def find_affix(model: Model) -> Affix:
    """The project's affix, read off its insert-colour function (the one role every era has)."""
    if _callable(model, "rb_insert_color"):
        return Affix()
    for fn in sorted(model.functions, key=lambda f: f.name):
        m = re.fullmatch(r"(\w*?)rb_insert_color(\w*)", fn.name)
        if m and _callable(model, fn.name):
            return Affix(m.group(1), m.group(2))
    return Affix()


class _Spelled:
    """A model seen through an affix: the role names the harness uses, mapped to the project's."""

    def __init__(self, model: Model, affix: Affix):
        self.model, self.affix = model, affix
        self.renames: dict[str, str] = {}

    def function(self, role: str) -> str | None:
        """The callable function playing `role`, by the project's spelling or the kernel's."""
        for name in dict.fromkeys((self.affix.spell(role), role)):
            if _callable(self.model, name):
                if name != role:
                    self.renames[role] = name
                return name
        return None

    def macro_name(self, macros: dict, role: str) -> str | None:
        """The function-like macro playing `role` in `macros`, by either spelling."""
        return next((n for n in dict.fromkeys((self.affix.spell(role), role)) if _function_macro(macros, n)), None)

    def accessor(self, macros: dict, role: str) -> str | None:
        """A header's accessor playing `role` (`rb_parent`, `rb_is_red`...): a function-like
        macro, or an inline function of the header taking one node (later copies made them so)."""
        name = self.macro_name(macros, role)
        if name:
            return name
        for candidate in dict.fromkeys((self.affix.spell(role), role)):
            fn = self.model.function(candidate)
            if fn is not None and fn.origin == "header" and len(fn.params) == 1:
                return candidate
        return None


# ---------------------------------------------------------------- derivation
def derive_api(model: Model) -> HarnessApi:
    """Decide everything the harness needs from one revision's Model; ApiError when it can't."""
    notes: list[str] = []
    affix = find_affix(model)
    spelled = _Spelled(model, affix)
    if affix:
        notes.append(f"the project spells the API {affix.spell('rb_insert_color')} (affix {affix.prefix!r}/{affix.suffix!r})")
    missing = [name for name in REQUIRED_FUNCTIONS if spelled.function(name) is None]
    if missing:
        raise ApiError(f"revision {model.commit[:12]} has no {', '.join(affix.spell(m) for m in missing)}: the harness cannot insert or erase")

    insert = model.function(spelled.function("rb_insert_color"))
    if len(insert.params) < 2:
        raise ApiError(f"{insert.name} in {model.commit[:12]} takes {len(insert.params)} parameters, expected (node, root)")
    node_type = base_type(insert.params[0].type)
    root_type = base_type(insert.params[1].type)
    node = _struct(model, node_type)
    if node is None:
        raise ApiError(f"no definition of the node type {node_type} in {model.commit[:12]}")
    root = _struct(model, root_type)
    if root is None:
        raise ApiError(f"no definition of the root type {root_type} in {model.commit[:12]}")
    if "rb_node" not in _field_names(root):
        raise ApiError(f"{root_type} has no rb_node field in {model.commit[:12]}")
    fields = _field_names(node)
    if not {"rb_left", "rb_right"} <= fields:
        raise ApiError(f"{node_type} has no rb_left/rb_right in {model.commit[:12]}")

    header = {m.name: m for m in model.macros if m.origin == "header"}
    packed = next((f for f in ("rb_parent_color", "__rb_parent_color") if f in fields), None)
    if "rb_parent" in fields and "rb_color" in fields:
        layout = "fields"
    elif packed:
        layout = packed
    else:
        raise ApiError(f"{node_type} in {model.commit[:12]} has neither rb_parent/rb_color nor a packed parent-colour word")

    rb_red = _macro_int(model, affix.spell("RB_RED"))
    if rb_red is None:
        rb_red = _macro_int(model, "RB_RED")
    if rb_red is None:
        rb_red = 0
        notes.append("RB_RED not defined anywhere: red taken as 0 (the kernel convention)")
    elif "RB_RED" not in header:
        notes.append(f"RB_RED={rb_red} read from the revision's .c (its header no longer defines it)")

    if spelled.accessor(header, "rb_parent"):
        name = spelled.accessor(header, "rb_parent")
        parent = f"{name}(n)"
        notes.append(f"parent via the header's {name}()")
    elif layout == "fields":
        parent = "(n)->rb_parent"
        notes.append("parent via the rb_parent field")
    else:
        parent = f"(({node_type} *)((n)->{packed} & ~3UL))"
        notes.append(f"parent via {packed} & ~3")

    if spelled.accessor(header, "rb_is_red"):
        name = spelled.accessor(header, "rb_is_red")
        is_red = f"{name}(n)"
        notes.append(f"colour via the header's {name}()")
    elif spelled.accessor(header, "rb_color"):
        name = spelled.accessor(header, "rb_color")
        is_red = f"({name}(n) == {rb_red})"
        notes.append(f"colour via the header's {name}()")
    elif layout == "fields":
        is_red = f"((n)->rb_color == {rb_red})"
        notes.append("colour via the rb_color field")
    else:
        is_red = f"((int)((n)->{packed} & 1UL) == {rb_red})"
        notes.append(f"colour via {packed} & 1 (no colour accessor in the header)")

    entry = spelled.macro_name(header, "rb_entry") or "container_of"
    needs_container_of = entry == "container_of" or "container_of" in header[entry].body
    if entry == "container_of":
        notes.append("no rb_entry in the header: container_of where defined, else offsetof (ARCHEO_ENTRY)")
    elif needs_container_of and not _function_macro(header, "container_of"):
        notes.append("rb_entry needs a container_of the header lacks: offsetof where none is defined (ARCHEO_ENTRY)")

    ops, macros = [], {}
    for op in ALL_OPS:
        if op in OPTIONAL_FUNCTIONS:
            if spelled.function(OPTIONAL_FUNCTIONS[op]):
                ops.append(op)
        elif op in OPTIONAL_MACROS:
            name = spelled.macro_name(header, OPTIONAL_MACROS[op])
            if name:
                ops.append(op)
                macros[OPTIONAL_MACROS[op]] = name
        elif op in OP_NEEDS:
            if all(_group_name(spelled, header, n, macros) for n in OP_NEEDS[op][1]):
                ops.append(op)
        else:
            ops.append(op)
    cached = _struct(model, CACHED_ROOT[0])
    if any(op in "IERL" for op in ops) and (cached is None or not set(CACHED_ROOT[1]) <= _field_names(cached)):
        notes.append(f"cached-root functions but no {CACHED_ROOT[0]} with {'/'.join(CACHED_ROOT[1])}: cached ops answer NA")
        ops = [op for op in ops if op not in "IERL"]
    core = [op for op in ALL_OPS if op not in OP_NEEDS]
    missing_roles = [OPTIONAL_FUNCTIONS.get(op) or OPTIONAL_MACROS[op] for op in core if op not in ops]
    if missing_roles:
        notes.append(f"no {', '.join(affix.spell(r) for r in missing_roles)}: those operations answer NA")
    renames = {**spelled.renames, **{k: v for k, v in macros.items() if k != v}}
    return HarnessApi(
        commit=model.commit,
        node_type=node_type,
        root_type=root_type,
        parent=parent,
        is_red=is_red,
        rb_red=rb_red,
        entry=entry,
        ops=tuple(ops),
        layout=layout,
        notes=tuple(notes),
        entry_needs_container_of=needs_container_of,
        renames=tuple(sorted(renames.items())),
    )


def _group_name(spelled: _Spelled, header: dict, name: str, macros: dict) -> bool:
    """Does the revision offer a later API group's function or function-like macro (in the
    project's spelling: a macro found renamed is recorded in `macros`)?"""
    if spelled.function(name):
        return True
    found = spelled.macro_name(header, name)
    if found and header[found].params is not None:
        macros[name] = found
        return True
    return False


def base_type(spelling: str) -> str:
    """`const struct rb_node *` -> `struct rb_node`: the type a pointer parameter points to."""
    text = re.sub(r"\b(const|volatile|restrict|__restrict)\b", " ", spelling)
    text = text.replace("*", " ")
    return " ".join(text.split())


def _struct(model: Model, type_name: str) -> Struct | None:
    """The struct a type spelling names, through typedefs (`rb_node_t` -> `struct rb_node_s`)."""
    seen = set()
    name = type_name
    while name not in seen:
        seen.add(name)
        for s in model.structs:
            if s.name == name or name in s.typedefs:
                return s
        target = model.typedefs.get(name)
        if target is None:
            return None
        name = base_type(target)
    return None


def _field_names(struct: Struct) -> set[str]:
    return {f.name for f in struct.fields}


def _function_macro(macros: dict, name: str) -> bool:
    macro = macros.get(name)
    return macro is not None and macro.params is not None


def _macro_int(model: Model, name: str) -> int | None:
    """An object-like macro's integer value (`#define RB_RED 0`), from the header first."""
    for origin in ("header", "source"):
        for m in model.macros:
            if m.name == name and m.params is None and m.origin == origin:
                body = m.body.strip().strip("()").strip()
                try:
                    return int(body.rstrip("uUlL"), 0)
                except ValueError:
                    return None
    return None


def _callable(model: Model, name: str) -> bool:
    """Can code outside rbtree.c call it: defined, and either in the header or not static."""
    fn = model.function(name)
    if fn is None:
        return False
    if fn.origin == "header":
        return True
    if "static" in fn.storage:
        return False
    return not model.api or name in model.api


# ---------------------------------------------------------------- the config header
def config_header(api: HarnessApi, includes: tuple[str, ...]) -> str:
    """The text of `archeo_config.h`: what harness.c includes first.

    `includes` are the include targets, as written between the brackets or quotes, that the
    revision's .c includes up to and including its own rbtree header (e.g. `<xen/config.h>`,
    `<xen/types.h>`, `<xen/rbtree.h>`): the harness sees the header in the same context the
    revision's code does.
    """
    lines = [
        f"/* archeo_config.h for {api.commit}: generated by archeo/subjects/rbtree/api.py from the parsed API, do not edit. */",
        "#ifndef ARCHEO_CONFIG_H",
        "#define ARCHEO_CONFIG_H",
        "",
    ]
    lines += [f"#include {target}" for target in includes]
    lines += [f"#define {kernel} {project}" for kernel, project in api.renames]
    lines += [
        "",
        f"typedef {api.node_type} archeo_node_t;",
        f"typedef {api.root_type} archeo_root_t;",
        f'#define ARCHEO_COMMIT "{_c_string(api.commit)}"',
        f'#define ARCHEO_OPS "{"".join(api.ops)}"',
        f"#define ARCHEO_RB_RED {api.rb_red}",
        f"#define ARCHEO_PARENT(n) ({api.parent})",
        f"#define ARCHEO_IS_RED(n) ({api.is_red})",
    ]
    if api.entry_needs_container_of:  # a userland copy may have no container_of anywhere
        lines += [
            "#ifdef container_of",
            f"#define ARCHEO_ENTRY(ptr, type, member) {api.entry}(ptr, type, member)",
            "#else",
            "#define ARCHEO_ENTRY(ptr, type, member) ((type *)((char *)(ptr) - __builtin_offsetof(type, member)))",
            "#endif",
        ]
    else:
        lines.append(f"#define ARCHEO_ENTRY(ptr, type, member) {api.entry}(ptr, type, member)")
    for op, name in OPTIONAL_FUNCTIONS.items():
        if api.has(op):
            lines.append(f"#define ARCHEO_HAS_{name[3:].upper()} 1")
    if api.has("c"):
        lines += ["#define ARCHEO_HAS_CLEAR 1", "#define ARCHEO_CLEAR(n) RB_CLEAR_NODE(n)"]
    if api.has("z"):
        lines += ["#define ARCHEO_HAS_EMPTY 1", "#define ARCHEO_EMPTY(n) RB_EMPTY_NODE(n)"]
    for op, (define, _) in OP_NEEDS.items():
        if api.has(op):
            lines.append(f"#define ARCHEO_HAS_{define} 1")
    if any(api.has(op) for op in "IERL"):
        lines.append("#define ARCHEO_HAS_CACHED 1")
    if any(api.has(op) for op in "ABab"):
        lines.append("#define ARCHEO_AUGMENTS 1")
    lines += ["", "#endif", ""]
    return "\n".join(lines)


def _c_string(text: str) -> str:
    return "".join(c if c.isalnum() or c in " .-_:" else "_" for c in text)
