"""What changed structurally between two revisions' models.

A diff compares models, not texts: functions by name and by fingerprint (so a rename
with the same body is a rename), signatures by their parts (so "const added to
parameter 1" can be said), structs by name, then typedef alias, then shared field names
(so 2004's `struct rb_node_s`/`rb_node_t` and 2009's `struct rb_node` pair up and are
reported as one struct change), macros by their normal form (so parentheses that change
no parse are not a change). When nothing structural differs but the text does, the
change is `text-only`, and the revisions' texts (when given) say what kind of text.

    >>> from archeo.parse.astdiff import diff_history
    >>> for model, changes in zip(models, diff_history(models, revisions)):
    ...     print(model.commit[:12], [c.kind for c in changes])
"""

from __future__ import annotations

import hashlib

import difflib

from .rawtext import strip_comments
from ..records import Change, Function, Model, Revision, Struct

STRUCTURAL_KINDS = (
    "function-added",
    "function-removed",
    "function-renamed",
    "signature-changed",
    "body-changed",
    "struct-added",
    "struct-removed",
    "struct-changed",
    "typedef-added",
    "typedef-removed",
    "typedef-changed",
    "macro-added",
    "macro-removed",
    "macro-changed",
    "api-changed",
)


# ---------------------------------------------------------------- entry points
def diff_history(models: list[Model], revisions: list[Revision] | None = None) -> list[list[Change]]:
    """Changes of each model against the previous one that parsed, in order.

    The first model, and any that failed to parse, get no changes. Deleted revisions
    have no model, so the first revision after a gap is compared across it (Xen's 2009
    re-add against the last revision before the 2004 removal).
    """
    by_commit = {r.commit: r for r in revisions or () if r.present}
    result: list[list[Change]] = []
    previous: Model | None = None
    for model in models:
        if not model.ok:
            result.append([])
            continue
        if previous is None:
            result.append([])
        else:
            result.append(diff_models(previous, model, by_commit.get(previous.commit), by_commit.get(model.commit)))
        previous = model
    return result


def diff_models(old: Model, new: Model, old_rev: Revision | None = None, new_rev: Revision | None = None) -> list[Change]:
    """Every structural change from `old` to `new`; `text-only` when there is none but the text changed."""
    if not old.ok or not new.ok:
        return []
    changes = _functions(old, new)
    changes += _structs(old, new)
    changes += _typedefs(old, new)
    changes += _macros(old, new)
    changes += _api(old, new, changes)
    moved = [Change("file-moved", new.path, f"{old.path} -> {new.path}")] if old.path and new.path and old.path != new.path else []
    if not changes:
        text = _text_only(old, new, old_rev, new_rev)
        if text is not None:
            changes.append(text)
    return moved + changes


def summary(changes: list[Change]) -> str:
    """`2 body-changed, 1 macro-changed` in first-seen order; `-` for none."""
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.kind] = counts.get(c.kind, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "-"


# ---------------------------------------------------------------- functions
def _functions(old: Model, new: Model) -> list[Change]:
    before = {f.name: f for f in old.functions}
    after = {f.name: f for f in new.functions}
    changes: list[Change] = []
    for name, f_new in after.items():
        f_old = before.get(name)
        if f_old is None:
            continue
        sig = _signature_detail(f_old, f_new)
        if sig:
            changes.append(Change("signature-changed", name, sig))
        if f_old.fingerprint != f_new.fingerprint:
            changes.append(
                Change(
                    "body-changed",
                    name,
                    f"statements {f_old.statements} -> {f_new.statements}, complexity {f_old.complexity} -> {f_new.complexity}",
                )
            )
    removed = [f for n, f in before.items() if n not in after]
    added = [f for n, f in after.items() if n not in before]
    for f_new in list(added):
        twin = next((f for f in removed if f.fingerprint == f_new.fingerprint), None)
        if twin is None:
            continue
        removed.remove(twin)
        added.remove(f_new)
        detail = f"{twin.name} -> {f_new.name}, same body ({f_new.statements} statements)"
        if twin.signature.replace(twin.name, f_new.name, 1) != f_new.signature:
            detail += f"; signature {twin.signature} -> {f_new.signature}"
        changes.append(Change("function-renamed", f_new.name, detail))
    changes += [Change("function-removed", f.name, f.signature) for f in removed]
    changes += [Change("function-added", f.name, f"{f.signature}, {f.statements} statements") for f in added]
    return changes


def _signature_detail(old: Function, new: Function) -> str:
    """What differs between two prototypes of one function, part by part; "" when nothing."""
    parts: list[str] = []
    if old.storage != new.storage:
        parts.append(f"storage {' '.join(old.storage) or '(none)'} -> {' '.join(new.storage) or '(none)'}")
    if old.returns != new.returns:
        parts.append(f"returns {old.returns} -> {new.returns}{_qualifier_note(old.returns, new.returns)}")
    if len(old.params) != len(new.params):
        parts.append(f"{len(old.params)} -> {len(new.params)} parameters")
    else:
        for i, (p, q) in enumerate(zip(old.params, new.params), 1):
            if p.type != q.type:
                parts.append(f"parameter {i} ({q.name or p.name}) {p.type} -> {q.type}{_qualifier_note(p.type, q.type)}")
            elif p.name != q.name:
                parts.append(f"parameter {i} renamed {p.name or '(unnamed)'} -> {q.name or '(unnamed)'}")
    if not parts:
        return ""
    return "; ".join(parts) + f" [{old.signature} -> {new.signature}]"


def _qualifier_note(old: str, new: str) -> str:
    a, b = old.split(), new.split()
    quals = ("const", "volatile", "restrict")
    if [w for w in a if w not in quals] != [w for w in b if w not in quals]:
        return ""
    notes = []
    for q in quals:
        if b.count(q) > a.count(q):
            notes.append(f"{q} added")
        elif b.count(q) < a.count(q):
            notes.append(f"{q} removed")
    return f" ({', '.join(notes)})" if notes else ""


# ---------------------------------------------------------------- structs and typedefs
def pair_structs(old: tuple[Struct, ...], new: tuple[Struct, ...]) -> list[tuple[Struct, Struct]]:
    """Which old struct became which new one: by name, then typedef alias, then shared fields.

    The last rule pairs a struct by its role: 2004's `rb_node_s` and 2009's `rb_node`
    share `rb_left` and `rb_right`, so they are one struct that changed.
    """
    pairs: list[tuple[Struct, Struct]] = []
    left, right = list(old), list(new)

    def take(match):
        for a in list(left):
            b = next((b for b in right if a.kind == b.kind and match(a, b)), None)
            if b is not None:
                pairs.append((a, b))
                left.remove(a)
                right.remove(b)

    take(lambda a, b: a.name == b.name)
    take(lambda a, b: bool(set(a.typedefs) & ({b.name, *b.typedefs})) or b.name in a.typedefs or a.name in b.typedefs)
    for a in list(left):
        names = {f.name for f in a.fields}
        scored = [(len(names & {f.name for f in b.fields}), -i, b) for i, b in enumerate(right) if b.kind == a.kind]
        scored = [s for s in scored if s[0] > 0]
        if scored:
            b = max(scored, key=lambda s: (s[0], s[1]))[2]
            pairs.append((a, b))
            left.remove(a)
            right.remove(b)
    order = {id(b): i for i, b in enumerate(new)}
    return sorted(pairs, key=lambda p: order[id(p[1])])


def _structs(old: Model, new: Model) -> list[Change]:
    pairs = pair_structs(old.structs, new.structs)
    renames = {a.name: b.name for a, b in pairs if a.name != b.name}
    changes = []
    for a, b in pairs:
        detail = _struct_detail(a, b, renames)
        if detail:
            changes.append(Change("struct-changed", b.name, detail))
    paired_old = {id(a) for a, _ in pairs}
    paired_new = {id(b) for _, b in pairs}
    changes += [Change("struct-removed", a.name, _fields_text(a)) for a in old.structs if id(a) not in paired_old]
    changes += [Change("struct-added", b.name, _fields_text(b)) for b in new.structs if id(b) not in paired_new]
    return changes


def _struct_detail(a: Struct, b: Struct, renames: dict[str, str]) -> str:
    """One line: renamed? typedefs? fields removed, added, retyped, reordered; both field lists."""
    parts = []
    if a.name != b.name:
        parts.append(f"renamed {a.name} -> {b.name}")
    if a.typedefs != b.typedefs:
        parts.append(f"typedefs ({', '.join(a.typedefs)}) -> ({', '.join(b.typedefs)})")
    before = {f.name: _renamed_type(f.type, renames) for f in a.fields}
    after = {f.name: f.type for f in b.fields}
    removed = [n for n in before if n not in after]
    added = [n for n in after if n not in before]
    retyped = [f"{n} {before[n]} -> {after[n]}" for n in after if n in before and before[n] != after[n]]
    if removed:
        parts.append("fields removed: " + ", ".join(removed))
    if added:
        parts.append("fields added: " + ", ".join(added))
    if retyped:
        parts.append("fields retyped: " + ", ".join(retyped))
    common_before = [n for n in before if n in after]
    common_after = [n for n in after if n in before]
    if common_before != common_after:
        parts.append("fields reordered")
    if not parts:
        return ""
    return "; ".join(parts) + f" [{_fields_text(a)} -> {_fields_text(b)}]"


def _renamed_type(text: str, renames: dict[str, str]) -> str:
    """A field type with old struct tags replaced by their new names (word by word)."""
    words = text.split()
    out = []
    i = 0
    while i < len(words):
        if words[i] in ("struct", "union") and i + 1 < len(words):
            tag = f"{words[i]} {words[i + 1]}"
            out.append(renames.get(tag, tag))
            i += 2
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def _fields_text(s: Struct) -> str:
    return f"{s.name} {{ " + "; ".join(f"{f.type} {f.name}".strip() for f in s.fields) + " }"


def _typedefs(old: Model, new: Model) -> list[Change]:
    changes = []
    for name, text in new.typedefs.items():
        if name not in old.typedefs:
            changes.append(Change("typedef-added", name, text))
        elif old.typedefs[name] != text:
            changes.append(Change("typedef-changed", name, f"{old.typedefs[name]} -> {text}"))
    changes += [Change("typedef-removed", name, text) for name, text in old.typedefs.items() if name not in new.typedefs]
    return changes


# ---------------------------------------------------------------- macros and api
def _macros(old: Model, new: Model) -> list[Change]:
    before = {m.name: m for m in old.macros}
    after = {m.name: m for m in new.macros}
    changes = []
    for name, m in after.items():
        o = before.get(name)
        if o is None:
            changes.append(Change("macro-added", name, _macro_text(m)))
        elif (o.params, o.normal) != (m.params, m.normal):
            changes.append(Change("macro-changed", name, f"{_macro_text(o)} -> {_macro_text(m)}"))
    changes += [Change("macro-removed", name, _macro_text(m)) for name, m in before.items() if name not in after]
    return changes


def _macro_text(m) -> str:
    """The macro's name, parameters and a digest of its expansion — never the body itself.

    Change details end up in reports that are committed and published; the studied code is
    not ours to republish, so a change says *that* an expansion changed, not what it says.
    The body stays available in `Model.macros` for a user's own analysis.
    """
    head = m.name if m.params is None else f"{m.name}({', '.join(m.params)})"
    digest = hashlib.sha256((m.normal or m.body).encode()).hexdigest()[:8]
    return f"{head} [expansion {digest}, {len(m.body.split())} tokens]" if m.body else head


def _api(old: Model, new: Model, changes: list[Change]) -> list[Change]:
    """Names the header stopped or started declaring that no other change already names."""
    named = {c.name for c in changes} | {c.detail.split(" -> ")[0] for c in changes if c.kind == "function-renamed"}
    gone = [n for n in old.api if n not in new.api and n not in named]
    came = [n for n in new.api if n not in old.api and n not in named]
    if not gone and not came:
        return []
    parts = []
    if gone:
        parts.append("no longer in the header: " + ", ".join(gone))
    if came:
        parts.append("now in the header: " + ", ".join(came))
    return [Change("api-changed", new.header_path or "api", "; ".join(parts))]


# ---------------------------------------------------------------- text-only
def _text_only(old: Model, new: Model, old_rev: Revision | None, new_rev: Revision | None) -> Change | None:
    """`text-only` when a text changed and the code did not; what kind of text, when the texts are known."""
    files = []
    if old.source_digest != new.source_digest or (old_rev and new_rev and old_rev.text != new_rev.text):
        files.append(("source", new.path, old_rev.text if old_rev else None, new_rev.text if new_rev else None))
    if old.header_digest != new.header_digest or (old_rev and new_rev and old_rev.header_text != new_rev.header_text):
        files.append(("header", new.header_path or "", old_rev.header_text if old_rev else None, new_rev.header_text if new_rev else None))
    if not files:
        return None
    details = []
    for _, path, before, after in files:
        what = describe_text_change(before, after) if before is not None and after is not None else "text changed"
        details.append(f"{path}: {what}")
    return Change("text-only", ", ".join(p for _, p, _, _ in files), "; ".join(details) + "; code identical")


def describe_text_change(before: str, after: str) -> str:
    """What kind of text changed: comments/whitespace, #include lines, macro text, or code lines.

    Comments are cut (`rawtext.strip_comments`), whitespace folded and blank lines dropped;
    what still differs is counted by kind, with the macro or first word of each line.
    """
    a = [ln for ln in (" ".join(x.split()) for x in strip_comments(before).split("\n")) if ln]
    b = [ln for ln in (" ".join(x.split()) for x in strip_comments(after).split("\n")) if ln]
    if a == b:
        return "comments or whitespace only"
    counts: dict[tuple[str, str], int] = {}
    names: dict[str, dict[str, None]] = {}
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        verb = {"replace": "changed", "delete": "removed", "insert": "added"}[tag]
        for ln in (b[j1:j2] if tag != "delete" else a[i1:i2]):
            kind, name = _line_kind(ln)
            counts[(kind, verb)] = counts.get((kind, verb), 0) + 1
            if name:
                names.setdefault(kind, {})[name] = None
    parts = []
    for (kind, verb), n in counts.items():
        label = f"{n} {kind}{'s' if n > 1 else ''} {verb}"
        if names.get(kind):
            label += f" ({', '.join(names[kind])})"
        parts.append(label)
    return ", ".join(parts)


def _line_kind(line: str) -> tuple[str, str]:
    if line.startswith("#"):
        words = line[1:].replace("(", " ").split()
        if words and words[0] == "include":
            return "#include line", ""
        if words and words[0] == "define" and len(words) > 1:
            return "macro definition", words[1]
        return "directive", ""
    word = line.replace("(", " ").split()[0]
    return "code line", word if (word[0].isalpha() or word[0] == "_") else ""
