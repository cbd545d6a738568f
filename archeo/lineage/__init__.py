"""Lineage: every history of the same code on one map.

Copies of the kernel red-black tree live in many repositories, each with its own history.
archeo tests every revision of every target on the same seeded operations, so behaviour is
comparable across projects; this package puts them side by side:

- `classes`: revisions of any project that behave alike over everything tested;
- `ancestry`: which revision of another history each one's code is nearest to, and the likely
  source of each copy and refresh;
- `known_bad`: which revisions carry a behaviour known to be broken, with the witness replayed;
- `study`: runs the per-target pipeline (its cache shared with `archeo run`) and the above;
- `report`, `figure`: the page (HTML, Markdown, JSON).
"""
