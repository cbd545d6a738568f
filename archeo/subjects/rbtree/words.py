"""The rbtree's ops in words, for reports and the terminal (docs/protocol.md's table).

`OP_WORDS` turns a token into a phrase (`n 4` -> `next of 4`); `OP_MEANING` says what an op
does and what its results mean, for a witness's legend; `NA_MEANING` what `NA` means here.
"""

from __future__ import annotations

OP_WORDS = {
    "i": "insert {}",
    "e": "erase {}",
    "f": "find {}",
    "<": "first",
    ">": "last",
    "n": "next of {}",
    "p": "prev of {}",
    "r": "replace {}",
    "c": "clear {}",
    "z": "is-empty {}",
    "d": "dump",
    "v": "verify",
    "x": "reset",
    "w": "wipe",
}

#: what each operation does and what its result means (docs/protocol.md), for a legend
OP_MEANING = {
    "i": "insert K: ok, or dup when K is already in the tree",
    "e": "erase K: ok, or absent",
    "f": "find K: 1 found, 0 not",
    "<": "first: the smallest key, nil when empty",
    ">": "last: the largest key, nil when empty",
    "n": "next of K: the key after K, nil at the end, absent when K is not in the tree",
    "p": "prev of K: the key before K, nil at the start, absent when K is not in the tree",
    "r": "replace K: K's node swapped for its spare node; ok or absent",
    "c": "clear K: K's spare node marked empty (RB_CLEAR_NODE); present when K is in the tree",
    "z": "is-empty K: 1 when K's node is marked empty (RB_EMPTY_NODE), else 0",
    "d": "dump: the whole tree, drawn below the table",
    "v": "verify: ok <nodes> <black height>, or bad <the rule broken> (checked on the C tree)",
    "x": "reset: forget the tree",
    "w": "wipe: a fresh harness",
}
NA_MEANING = "NA: this side lacks the function the operation needs, so it did nothing (e.g. no rb_first before 2009)"
