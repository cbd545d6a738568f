"""Every subject's op codes, for the engine's `archeo.ops.Op` to check a token against.

A batch's syntax (a code, then a key or none) is the engine's; which codes exist is each
subject's. Here they are joined, so `Op` needs no subject to be chosen before it can parse;
a subject's harness then rejects another subject's codes. A new subject adds its
`vocabulary` module here.
"""

from __future__ import annotations

from .rbtree import vocabulary as _rbtree

KEYED = frozenset(_rbtree.KEYED)
BARE = frozenset(_rbtree.BARE)
