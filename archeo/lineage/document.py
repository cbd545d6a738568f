"""The lineage as a JSON document (`archeo-lineage/1`): plain, ordered, deterministic.

Timings and local paths stay out, so the same histories and settings give the same bytes on
any machine; `archeo/schemas/lineage.schema.json` describes it.
"""

from __future__ import annotations

from .records import Lineage

SCHEMA = "archeo-lineage/1"


def to_json(lineage: Lineage) -> dict:
    return {
        "schema": SCHEMA,
        "archeo_version": lineage.archeo_version,
        "targets": list(lineage.targets),
        "settings": lineage.settings,
        "sources": {name: lineage.sources[name] for name in lineage.targets},
        "revisions": [
            {
                "target": m.target,
                "commit": m.commit,
                "date": m.date,
                "subject": m.subject,
                "status": m.status,
                "level": m.level or None,
                "class": m.behaviour_class or None,
                "nearest": [
                    {"target": n.target, "commit": n.commit, "similarity": n.similarity}
                    for n in lineage.nearest.get(f"{m.target}:{m.commit}", [])
                ],
            }
            for m in lineage.members
        ],
        "classes": [
            {
                "name": c.name,
                "level": c.level,
                "known_bad": c.known_bad,
                "detail": c.detail,
                "members": [{"target": t, "commit": commit} for t, commit in c.members],
            }
            for c in lineage.classes
        ],
        "arrows": [
            {
                "target": a.target,
                "commit": a.commit,
                "kind": a.kind,
                "source": None if a.source_target is None else {"target": a.source_target, "commit": a.source_commit},
                "similarity": a.similarity,
                "previous_similarity": a.previous_similarity,
            }
            for a in lineage.arrows
        ],
        "known_bad": [
            {
                "class": s.behaviour_class,
                "origin": {"target": s.origin[0], "commit": s.origin[1]},
                "level": s.level,
                "witness": list(s.witness),
                "witness_seed": s.witness_seed,
                "replayed_on": s.replayed_on,
                "carriers": [
                    {"target": c.target, "commit": c.commit, "in_class": c.in_class, "replay": c.replay,
                     "replay_level": c.replay_level}
                    for c in s.carriers
                ],
                "statement": s.statement,
            }
            for s in lineage.searches
        ],
    }
