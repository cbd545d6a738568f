"""The rbtree's op codes (docs/protocol.md): which take a key, which stand alone, which are probes.

Plain strings only, so the engine's `archeo.ops.Op` can check a token against every subject's
codes (archeo/subjects/vocabulary.py) without importing a subject. The core ops every era has
come first; the later API groups' ops (GROUP_CODES) after them. `w` (wipe) is the engine's.
"""

from __future__ import annotations

KEYED = frozenset("iefnprcz" + "IERABab+&?[]u")
BARE = frozenset("<>dvx" + "LP")
CODES = KEYED | BARE
#: the probes: `d` prints the tree, `v` checks it; `x` forgets it (a witness is cut at the last)
DUMP_CODE, VERIFY_CODE, RESET_CODE = "d", "v", "x"
#: the later kernel rbtree API groups (archeo/subjects/rbtree/) and their protocol ops
GROUP_CODES = {
    "cached": "IERL",
    "postorder": "P",
    "augmented": "AB",
    "augment2010": "ab",
    "search": "+&?[]",
    "rcu": "u",
}
GROUPS = tuple(GROUP_CODES)
