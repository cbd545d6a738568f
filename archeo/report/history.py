"""The file's life over its revisions: the timeline and what appeared and disappeared.

Two parts of the findings document (docs/findings-schema.md) read the revisions in order
rather than one at a time: `timeline` (the file added, moved, removed, re-added; its header
moving) and `history` (functions, macros and API groups over time as spans, one event per
commit that changed them, and sizeof(node)). findings.py builds the rest; both read the Study
only, never a renderer.
"""

from __future__ import annotations

from collections import Counter

from ..errors import ArcheoError
from ..study import Study
from ..subjects import Subject, get


def timeline(study: Study) -> list[dict]:
    """The file's life: added, moved, removed, re-added; header moves. Modifications counted."""
    events: list[dict] = []
    seen = False
    last_path = None
    last_header = None
    for r in study.revisions:
        found = []
        if r.status == "deleted":
            found.append(("removed", f"removed from {r.path}"))
        elif r.status == "added":
            if not seen:
                found.append(("added", f"added as {r.path}" + (f" (header {r.header_path})" if r.header_path else "")))
            elif last_path and r.path != last_path:
                found.append(("re-added", f"re-added as {r.path} (was {last_path})"))
            else:
                found.append(("re-added", f"re-added as {r.path}"))
        elif r.status == "renamed":
            found.append(("moved", f"moved from {r.old_path or last_path} to {r.path}"))
        if r.status != "deleted":
            if seen and last_header and r.header_path and r.header_path != last_header:
                found.append(("header-moved", f"header moved from {last_header} to {r.header_path}"))
            elif seen and last_header and not r.header_path:
                found.append(("header-removed", f"header {last_header} gone"))
            elif seen and not last_header and r.header_path and r.status != "added":
                found.append(("header-added", f"header {r.header_path} appears"))
            last_header = r.header_path
        if not found and events:
            events[-1]["following"] += 1
        for kind, text in found:
            events.append(
                {
                    "commit": r.commit,
                    "date": r.date,
                    "event": kind,
                    "path": r.path,
                    "old_path": r.old_path,
                    "header_path": r.header_path,
                    "text": text,
                    "following": 0,
                }
            )
        seen = True
        last_path = r.path
    return events


def _spans(study: Study, names_of) -> dict[str, list[dict]]:
    """name -> [{from, to}] over present revisions with a model; a removal of the file ends all."""
    spans: dict[str, list[dict]] = {}
    open_: dict[str, dict] = {}
    for r in study.revisions:
        if r.status == "deleted":
            for span in open_.values():
                span["to"] = r.commit
            open_ = {}
            continue
        model = study.models.get(r.commit)
        if model is None or not model.ok:
            continue  # unknown here: neither appears nor disappears
        names = names_of(model)
        for name in [n for n in open_ if n not in names]:
            open_.pop(name)["to"] = r.commit
        for name in names:
            if name not in open_:
                span = {"from": r.commit, "to": None}
                spans.setdefault(name, []).append(span)
                open_[name] = span
    return spans


def history(study: Study, revisions: list[dict]) -> dict:
    """Functions and macros appearing and disappearing, API events, and sizeof(node) over time."""
    order = {r["commit"]: i for i, r in enumerate(revisions)}
    api_names = {n for m in study.models.values() for n in m.api}

    def listing(spans: dict[str, list[dict]], counts: Counter) -> list[dict]:
        rows = [
            {"name": name, "spans": s, "revisions": counts[name], "public": name in api_names}
            for name, s in spans.items()
        ]
        return sorted(rows, key=lambda row: (order[row["spans"][0]["from"]], row["name"]))

    fn_counts: Counter = Counter()
    mc_counts: Counter = Counter()
    for m in study.models.values():
        if m.ok:
            fn_counts.update({f.name for f in m.functions})
            mc_counts.update({x.name for x in m.macros})
    functions = listing(_spans(study, lambda m: [f.name for f in m.functions]), fn_counts)
    macros = listing(_spans(study, lambda m: [x.name for x in m.macros]), mc_counts)

    events = []
    previous = None
    for r in study.revisions:
        if r.status == "deleted":
            if previous is not None:
                gone_f = sorted({f.name for f in previous.functions})
                gone_m = sorted({x.name for x in previous.macros})
                events.append(_event(r, file_removed=True, functions_removed=gone_f, macros_removed=gone_m, api_removed=sorted(set(previous.api))))
            previous = None
            continue
        model = study.models.get(r.commit)
        if model is None or not model.ok:
            continue
        before_f = {f.name for f in previous.functions} if previous else set()
        before_m = {x.name for x in previous.macros} if previous else set()
        before_a = set(previous.api) if previous else set()
        now_f, now_m, now_a = {f.name for f in model.functions}, {x.name for x in model.macros}, set(model.api)
        kinds = Counter()
        names: dict[str, list[str]] = {}
        for c in study.structural.get(r.commit, []):
            if c.kind in ("signature-changed", "function-renamed", "struct-changed"):
                names.setdefault(c.kind, []).append(c.name)
                kinds[c.kind] += 1
        event = _event(
            r,
            functions_added=sorted(now_f - before_f),
            functions_removed=sorted(before_f - now_f),
            macros_added=sorted(now_m - before_m),
            macros_removed=sorted(before_m - now_m),
            api_added=sorted(now_a - before_a),
            api_removed=sorted(before_a - now_a),
            signatures_changed=sorted(names.get("signature-changed", [])),
            renamed=sorted(names.get("function-renamed", [])),
            structs_changed=sorted(names.get("struct-changed", [])),
        )
        if any(v for k, v in event.items() if k not in ("commit", "date")):
            events.append(event)
        previous = model

    node_size = [
        {"commit": r["commit"], "date": r["date"], "node_size": r["node_size"]} for r in revisions if r["node_size"] is not None
    ]
    out = {"functions": functions, "macros": macros, "events": events, "node_size": node_size}
    eras = api_eras(study, order)
    if eras["groups"]:  # only histories with a later API group have the key (Xen's JSON is unchanged)
        out["api_eras"] = eras
    return out


def _groups_by(subject: Subject):
    """The later API groups a revision offers, as the subject's harness would see them; none
    where the subject cannot derive the revision's API (that revision's build says why)."""

    def groups(model) -> list[str]:
        try:
            return list(subject.groups_of(subject.derive_api(model).ops))
        except ArcheoError:
            return []

    return groups


def api_eras(study: Study, order: dict) -> dict:
    """Which API groups each revision has: every group's spans (the commit it appeared in, the
    commit it disappeared in or null), and one event per commit that changed the set."""
    groups_of_model = _groups_by(get(study.target.subject))
    spans = _spans(study, groups_of_model)
    counts: Counter = Counter()
    for m in study.models.values():
        if m.ok:
            counts.update(groups_of_model(m))
    groups = sorted(
        ({"group": g, "spans": s, "revisions": counts[g]} for g, s in spans.items()),
        key=lambda row: (order[row["spans"][0]["from"]], row["group"]),
    )
    changed: dict[str, dict] = {}
    for row in groups:
        for span in row["spans"]:
            for commit, key in ((span["from"], "added"), (span["to"], "removed")):
                if commit is not None:
                    changed.setdefault(commit, {"added": [], "removed": []})[key].append(row["group"])
    by = {r.commit: r for r in study.revisions}
    events = [
        {"commit": c, "date": by[c].date, "added": sorted(v["added"]), "removed": sorted(v["removed"])}
        for c, v in sorted(changed.items(), key=lambda item: order[item[0]])
    ]
    return {"groups": groups, "events": events}


_EVENT_LISTS = (
    "functions_added",
    "functions_removed",
    "macros_added",
    "macros_removed",
    "api_added",
    "api_removed",
    "signatures_changed",
    "renamed",
    "structs_changed",
)


def _event(r, file_removed: bool = False, **lists) -> dict:
    """One entry of history.events: every key always present, lists sorted."""
    return {"commit": r.commit, "date": r.date, "file_removed": file_removed, **{k: lists.get(k, []) for k in _EVENT_LISTS}}

