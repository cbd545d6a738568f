"""Operation sequences as data: encoded, decoded, replayed and shrunk.

An op sequence is the one input every revision and the Python reference see, so it is
plain data (a list of frozen `Op`), written and read in the batch text of docs/protocol.md.
Which op codes exist, and how sequences are generated, is the subject's (archeo/subjects/:
the rbtree's vocabulary and generator are in subjects/rbtree/); this module is the engine's
part: the syntax of a batch, and shrinking a long failing sequence into a short witness a
human can read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .subjects.vocabulary import BARE as _SUBJECT_BARE
from .subjects.vocabulary import KEYED

MAGIC = "archeo-batch"
VERSION = 1
MAX_KEYSPACE = 1_048_576
MAX_OPS = 10_000_000
MAX_SEED = 2**32

#: `w` (wipe: back to a fresh harness) joins several runs into one batch (difftest); it is the
#: engine's, every subject's harness knows it, and no generator emits it. The other codes,
#: keyed and bare, are the subjects' (subjects/vocabulary.py).
WIPE_CODE = "w"
BARE = _SUBJECT_BARE | {WIPE_CODE}
CODES = KEYED | BARE


@dataclass(frozen=True, slots=True)
class Op:
    """One protocol operation: `code` is one of CODES, `key` is set exactly for KEYED codes."""

    code: str
    key: int | None = None

    def __post_init__(self) -> None:
        if self.code in KEYED:
            if type(self.key) is not int or self.key < 0:
                raise ValueError(f"op {self.code!r} needs a key >= 0, got {self.key!r}")
        elif self.code in BARE:
            if self.key is not None:
                raise ValueError(f"op {self.code!r} takes no key, got {self.key!r}")
        else:
            raise ValueError(f"unknown op code {self.code!r}; allowed: {' '.join(sorted(CODES))}")

    def __str__(self) -> str:
        return self.code if self.key is None else f"{self.code} {self.key}"

    @classmethod
    def parse(cls, token: str) -> Op:
        """Read one op token such as "i 5" or "d"; ValueError says what is wrong."""
        parts = token.split()
        if not parts:
            raise ValueError("empty op")
        code = parts[0]
        if code in KEYED:
            if len(parts) != 2:
                raise ValueError(f"op {token!r}: {code!r} needs exactly one key")
            text = parts[1]
            if not text.isdigit() or not text.isascii():
                raise ValueError(f"op {token!r}: key {text!r} is not a non-negative integer")
            return cls(code, int(text))
        if code in BARE:
            if len(parts) != 1:
                raise ValueError(f"op {token!r}: {code!r} takes no key")
            return _BARE_OPS[code]
        raise ValueError(f"op {token!r}: unknown code {code!r}; allowed: {' '.join(sorted(CODES))}")


_BARE_OPS = {c: Op(c) for c in BARE}
WIPE = _BARE_OPS[WIPE_CODE]


@dataclass(frozen=True)
class Batch:
    """A whole batch: the ops and the keyspace the harness sizes its node pool by."""

    ops: tuple[Op, ...]
    keyspace: int

    def encode(self) -> str:
        return encode(self.ops, self.keyspace)


# ---------------------------------------------------------------- validation
def _check_range(name: str, value: object, lo: int, hi: int) -> int:
    """One-line ValueError naming the bad value and the allowed range [lo, hi)."""
    if type(value) is not int or not lo <= value < hi:
        raise ValueError(f"{name} must be an integer with {lo} <= {name} < {hi}, got {value!r}")
    return value


def check_seed(seed: object) -> int:
    return _check_range("seed", seed, 0, MAX_SEED)


def check_n_ops(n_ops: object) -> int:
    if type(n_ops) is not int or not 1 <= n_ops <= MAX_OPS:
        raise ValueError(f"n_ops must be an integer with 1 <= n_ops <= {MAX_OPS}, got {n_ops!r}")
    return n_ops


def check_keyspace(keyspace: object) -> int:
    if type(keyspace) is not int or not 1 <= keyspace <= MAX_KEYSPACE:
        raise ValueError(
            f"keyspace must be an integer with 1 <= keyspace <= {MAX_KEYSPACE}, got {keyspace!r}"
        )
    return keyspace


# ---------------------------------------------------------------- encode / decode
def needed_keyspace(ops: Iterable[Op]) -> int:
    """One more than the largest key used (1 when no op has a key, so the pool is never empty)."""
    top = max((op.key for op in ops if op.key is not None), default=0)
    return top + 1


def encode(ops: Iterable[Op], keyspace: int | None = None) -> str:
    """The batch text of docs/protocol.md: header line, then one op per line, each `\\n` ended."""
    ops = list(ops)
    need = needed_keyspace(ops)
    if keyspace is None:
        keyspace = need
    check_keyspace(keyspace)
    if need > keyspace:
        raise ValueError(f"keyspace {keyspace} is too small: key {need - 1} is used")
    lines = [f"{MAGIC} {VERSION} {keyspace}"]
    lines.extend([op.code if op.key is None else f"{op.code} {op.key}" for op in ops])  # str(op), inlined
    lines.append("")
    return "\n".join(lines)


def decode_batch(text: str) -> Batch:
    """Parse batch text; every ValueError names the 1-based line that is wrong."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ValueError("line 1: empty batch, expected header 'archeo-batch 1 <keyspace>'")
    head = lines[0].split()
    if len(head) != 3 or head[0] != MAGIC:
        raise ValueError(f"line 1: bad header {lines[0]!r}, expected 'archeo-batch 1 <keyspace>'")
    if head[1] != str(VERSION):
        raise ValueError(f"line 1: unsupported batch version {head[1]!r}, expected {VERSION}")
    if not head[2].isdigit():
        raise ValueError(f"line 1: keyspace {head[2]!r} is not an integer")
    try:
        keyspace = check_keyspace(int(head[2]))
    except ValueError as exc:
        raise ValueError(f"line 1: {exc}") from None
    ops: list[Op] = []
    append = ops.append
    parse = Op.parse
    for number, line in enumerate(lines[1:], start=2):
        try:
            op = parse(line)
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if op.key is not None and op.key >= keyspace:
            raise ValueError(f"line {number}: key {op.key} is outside the keyspace 0..{keyspace - 1}")
        append(op)
    return Batch(tuple(ops), keyspace)


def decode(text: str) -> list[Op]:
    """The ops of a batch text (see decode_batch for the keyspace too)."""
    return list(decode_batch(text).ops)


def to_json(ops: Sequence[Op], keyspace: int | None = None) -> dict:
    """A witness as JSON-ready data: `{"ops": ["i 5", "e 3", "d"], "keyspace": 6}`."""
    ops = list(ops)
    return {"ops": [str(op) for op in ops], "keyspace": keyspace or needed_keyspace(ops)}


def from_json(data: Mapping | Sequence | str) -> list[Op]:
    """Ops back from `to_json` output, its JSON text, or a bare list of op tokens."""
    if isinstance(data, str):
        data = json.loads(data)
    if isinstance(data, Mapping):
        if "ops" not in data:
            raise ValueError("witness JSON has no 'ops' list")
        data = data["ops"]
    if isinstance(data, str) or not isinstance(data, Sequence):
        raise ValueError(f"'ops' must be a list of op tokens, got {type(data).__name__}")
    out = []
    for index, token in enumerate(data):
        if not isinstance(token, str):
            raise ValueError(f"ops[{index}]: expected a string like 'i 5', got {token!r}")
        try:
            out.append(Op.parse(token))
        except ValueError as exc:
            raise ValueError(f"ops[{index}]: {exc}") from None
    return out


# ---------------------------------------------------------------- shrinking
Predicate = Callable[[list[Op]], bool]


class _Cached:
    """Memoise a predicate on the op tuple: shrinking revisits candidates and runs may be costly."""

    def __init__(self, still_fails: Predicate) -> None:
        self.still_fails = still_fails
        self.seen: dict[tuple[Op, ...], bool] = {}
        self.calls = 0

    def __call__(self, ops: Sequence[Op]) -> bool:
        key = tuple(ops)
        hit = self.seen.get(key)
        if hit is None:
            self.calls += 1
            hit = self.seen[key] = bool(self.still_fails(list(key)))
        return hit


def _require_failing(test: Callable[[Sequence[Op]], bool], ops: Sequence[Op], who: str) -> None:
    if not test(ops):
        raise ValueError(f"{who}: the given ops do not fail, nothing to shrink")


def ddmin(ops: Sequence[Op], still_fails: Predicate) -> list[Op]:
    """Zeller's delta debugging: a 1-minimal failing subsequence (removing any one op passes).

    ValueError if `ops` itself does not fail. The result always fails.
    """
    test = still_fails if isinstance(still_fails, _Cached) else _Cached(still_fails)
    current = list(ops)
    _require_failing(test, current, "ddmin")
    n = 2
    while len(current) >= 2:
        size = len(current)
        n = min(n, size)
        bounds = [size * i // n for i in range(n + 1)]
        chunks = [current[bounds[i] : bounds[i + 1]] for i in range(n)]
        for chunk in chunks:  # reduce to a subset
            if chunk and test(chunk):
                current, n = chunk, 2
                break
        else:
            for i in range(n):  # reduce to a complement
                complement = current[: bounds[i]] + current[bounds[i + 1] :]
                if complement and test(complement):
                    current, n = complement, max(n - 1, 2)
                    break
            else:
                if n >= size:
                    break
                n = min(size, 2 * n)
    return current


def _remap(ops: Sequence[Op], mapping: Mapping[int, int]) -> list[Op]:
    return [op if op.key is None else Op(op.code, mapping[op.key]) for op in ops]


def shrink_keys(ops: Sequence[Op], still_fails: Predicate, budget: int = 200) -> list[Op]:
    """Smaller, fewer keys while still failing.

    First renumber the distinct keys to 0..k-1 keeping their order (a correct tree behaves the
    same, so this nearly always succeeds); then greedily try merging each key into a smaller
    one, which can remove whole keys from the witness. At most `budget` predicate calls.
    """
    test = still_fails if isinstance(still_fails, _Cached) else _Cached(still_fails)
    current = list(ops)
    _require_failing(test, current, "shrink_keys")
    start = test.calls
    keys = sorted({op.key for op in current if op.key is not None})
    compact = _remap(current, {k: i for i, k in enumerate(keys)})
    if test(compact):
        current = compact
    merged = True
    while merged:
        merged = False
        keys = sorted({op.key for op in current if op.key is not None})
        for big in reversed(keys):
            for small in keys:
                if small >= big or test.calls - start >= budget:
                    break
                candidate = _remap(current, {k: (small if k == big else k) for k in keys})
                remaining = sorted({op.key for op in candidate if op.key is not None})
                candidate = _remap(candidate, {k: i for i, k in enumerate(remaining)})
                if test(candidate):
                    current, merged = candidate, True
                    break
            if merged:
                break
    return current


def shortest_failing_prefix(ops: Sequence[Op], still_fails: Predicate) -> list[Op]:
    """Binary search for a short failing prefix (assumes a failure, once shown, stays shown)."""
    test = still_fails if isinstance(still_fails, _Cached) else _Cached(still_fails)
    current = list(ops)
    _require_failing(test, current, "shortest_failing_prefix")
    lo, hi = 0, len(current)  # prefix of length hi fails
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if test(current[:mid]):
            hi = mid
        else:
            lo = mid
    return current[:hi]


def shrink(ops: Sequence[Op], still_fails: Predicate, reset: str | None = None) -> list[Op]:
    """A small failing witness: shortest prefix, then the last reset segment, ddmin, keys, ddmin.

    `reset` is the subject's op code that forgets the structure (rbtree: `x`), if it has one.
    The result always fails; ValueError if `ops` does not.
    """
    test = _Cached(still_fails)
    current = shortest_failing_prefix(ops, test)
    resets = [i for i, op in enumerate(current) if op.code == reset] if reset else []
    if resets and test(current[resets[-1] + 1 :]):
        current = current[resets[-1] + 1 :]
    current = ddmin(current, test)
    keyed = shrink_keys(current, test)
    if keyed != current:
        current = ddmin(keyed, test)
    return current


__all__ = [
    "Batch",
    "CODES",
    "Op",
    "check_keyspace",
    "check_n_ops",
    "check_seed",
    "ddmin",
    "decode",
    "decode_batch",
    "encode",
    "from_json",
    "needed_keyspace",
    "shortest_failing_prefix",
    "shrink",
    "shrink_keys",
    "to_json",
]
