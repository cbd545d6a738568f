"""Subjects: what kind of code archeo tests (docs/DESIGN: the subject extension point).

A subject is a `base.Subject`: op vocabulary, sequence generation, a Python reference, API
discovery, a C harness, how to read and draw its results. Today there is one, the kernel
red-black tree (`rbtree/`). A target names its subject (`subject = "rbtree"`, corpus/*.toml);
`get` gives it to the engine. A new subject is a folder here, named in `NAMES` and `get`, and
its vocabulary in vocabulary.py.
"""

from __future__ import annotations

from ..errors import ArcheoError
from .base import Subject

DEFAULT = "rbtree"
NAMES = ("rbtree",)


def get(name: str = DEFAULT) -> Subject:
    """The subject called `name`; a one-line error names the known ones."""
    if name == "rbtree":
        from .rbtree.subject import RBTREE

        return RBTREE
    raise ArcheoError(f"unknown subject {name!r}: use one of {', '.join(NAMES)}")


def default() -> Subject:
    """The subject of targets that name none, and of callers that pass none."""
    return get(DEFAULT)
