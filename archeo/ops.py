"""Operation sequences as data: generated, encoded, decoded, replayed and shrunk.

An op sequence is the one input every revision and the Python reference see, so it is
plain data (a list of frozen `Op`), written and read in the batch text of docs/protocol.md.
Generation is deterministic from a seed (`random.Random(seed)`, no global state), so a
finding can be reproduced from `(seed, n_ops, mix, profile)` alone; shrinking turns a long
failing sequence into a short witness a human can read.
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace

MAGIC = "archeo-batch"
VERSION = 1
MAX_KEYSPACE = 1_048_576
MAX_OPS = 10_000_000
MAX_SEED = 2**32

#: ops that take a key, and ops that stand alone (docs/protocol.md). `w` (wipe: back to a
#: fresh harness) joins several runs into one batch; the generator never emits it. The core
#: ops every era has come first; the later API groups' ops (GROUP_CODES) after them.
KEYED = frozenset("iefnprcz" + "IERABab+&?[]u")
BARE = frozenset("<>dvxw" + "LP")
CODES = KEYED | BARE
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
DUMP, VERIFY, RESET, FIRST, LAST, WIPE = (_BARE_OPS[c] for c in "dvx<>w")


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


# ---------------------------------------------------------------- generation
@dataclass(frozen=True)
class Mix:
    """Relative weights of the kinds of action `generate` draws (checkpoints are separate).

    A weight of 0 turns an action off. When an action is impossible in the current state
    (erase a present key from an empty tree) the nearest possible one is used instead.
    """

    insert_new: float = 30
    insert_dup: float = 4
    erase_present: float = 20
    erase_absent: float = 4
    find: float = 8
    iter_forward: float = 3
    iter_backward: float = 3
    replace: float = 5
    clear: float = 3
    empty: float = 4
    # the later API groups (GROUP_CODES): 0 unless a run's revisions have them (`generate(groups=)`)
    cached: float = 0
    postorder: float = 0
    augmented: float = 0
    augment2010: float = 0
    search: float = 0
    rcu: float = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or value < 0 or value != value:
                raise ValueError(f"mix weight {f.name} must be a number >= 0, got {value!r}")
        if sum(self.weights()) <= 0:
            raise ValueError("mix weights must not all be 0")

    def weights(self) -> list[float]:
        return [getattr(self, f.name) for f in fields(self)]

    @classmethod
    def of(cls, value: Mix | Mapping[str, float] | None) -> Mix:
        """A Mix from a Mix, a partial dict of weights (others keep their default), or None."""
        if value is None or isinstance(value, Mix):
            return value or cls()
        names = {f.name for f in fields(cls)}
        unknown = set(value) - names
        if unknown:
            raise ValueError(f"unknown mix action(s) {sorted(unknown)}; allowed: {sorted(names)}")
        return cls(**value)

    def only(self, **weights: float) -> Mix:
        """This mix with every weight not named set to 0 (handy in tests and CLI flags)."""
        return Mix(**{f.name: weights.get(f.name, 0) for f in fields(self)})


ACTIONS = tuple(f.name for f in fields(Mix))


@dataclass(frozen=True)
class Profile:
    """How big trees get and how often they are looked at.

    small: many small trees (reset with `x` every few dozen ops), dumped and verified every few
    ops, so a structural difference shows close to the op that caused it.
    large: first `fill` random inserts, then the mix on a tree of thousands of keys, checked
    every `checkpoint_every` ops; finds what only deep trees show.
    """

    name: str
    keyspace: int
    checkpoint_every: int
    reset_every: int = 0  # mean ops between `x` resets; 0 = never
    fill: int = 0
    iterate_cap: int = 16
    mix: Mix = Mix()
    group_weight: float = 4  # the mix weight of each later API group a run turns on


PROFILES = {
    "small": Profile("small", keyspace=64, checkpoint_every=5, reset_every=40, iterate_cap=16),
    "large": Profile(
        "large",
        keyspace=16384,
        checkpoint_every=500,
        fill=4000,
        iterate_cap=32,
        mix=Mix(insert_new=25, erase_present=25, iter_forward=0.5, iter_backward=0.5),
        group_weight=2,
    ),
}


class _KeyModel:
    """The sorted set of present keys, as the generator needs it (O(1) random pick)."""

    __slots__ = ("sorted", "items", "index", "keyspace")

    def __init__(self, keyspace: int) -> None:
        self.sorted: list[int] = []
        self.items: list[int] = []
        self.index: dict[int, int] = {}
        self.keyspace = keyspace

    def __len__(self) -> int:
        return len(self.items)

    def add(self, key: int) -> None:
        bisect.insort(self.sorted, key)
        self.index[key] = len(self.items)
        self.items.append(key)

    def remove(self, key: int) -> None:
        del self.sorted[bisect.bisect_left(self.sorted, key)]
        at = self.index.pop(key)
        last = self.items.pop()
        if last != key:
            self.items[at] = last
            self.index[last] = at

    def clear(self) -> None:
        self.sorted.clear()
        self.items.clear()
        self.index.clear()

    def present(self, rng: random.Random) -> int:
        return self.items[rng.randrange(len(self.items))]

    def absent(self, rng: random.Random) -> int | None:
        """A random absent key, None when the keyspace is full."""
        if len(self.items) >= self.keyspace:
            return None
        for _ in range(32):
            key = rng.randrange(self.keyspace)
            if key not in self.index:
                return key
        free = [k for k in range(self.keyspace) if k not in self.index]
        return free[rng.randrange(len(free))]


def generate(
    seed: int,
    n_ops: int,
    mix: Mix | Mapping[str, float] | None = None,
    keyspace: int | None = None,
    profile: str | Profile = "small",
    groups: Iterable[str] = (),
) -> list[Op]:
    """Exactly `n_ops` ops, deterministic from `seed`, always ending with `d` and `v`.

    The generator keeps its own sorted-set model so it can aim at present or absent keys and
    walk `<`/`n` and `>`/`p` chains over the keys actually present. `mix` defaults to the
    profile's; `keyspace` too (keys are drawn from 0..keyspace-1). `groups` (names of
    GROUP_CODES) mixes those groups' ops in at the profile's `group_weight`; without groups the
    sequences are exactly those of the core API alone.
    """
    check_seed(seed)
    check_n_ops(n_ops)
    if isinstance(profile, str):
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
        profile = PROFILES[profile]
    mix = Mix.of(mix) if mix is not None else profile.mix
    groups = tuple(groups)
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise ValueError(f"unknown API group(s) {unknown}; allowed: {list(GROUPS)}")
    if groups:
        mix = replace(mix, **{g: profile.group_weight for g in groups if getattr(mix, g) == 0})
    keyspace = check_keyspace(profile.keyspace if keyspace is None else keyspace)
    return _Generator(random.Random(seed), n_ops, mix, keyspace, profile).run()


class _Generator:
    """One generation run; the state lives here rather than in closures so each step is small."""

    def __init__(self, rng: random.Random, n_ops: int, mix: Mix, keyspace: int, profile: Profile):
        self.rng = rng
        self.mix = mix
        self.profile = profile
        self.model = _KeyModel(keyspace)
        self.out: list[Op] = []
        self.budget = max(0, n_ops - 2)  # room for the final d + v
        self.n_ops = n_ops
        self.last_checkpoint = 0
        self.next_reset = self._reset_gap()
        self.dup_keys: list[int] = []  # keys rb_add gave a second node since the last reset

    def _reset_gap(self) -> int:
        every = self.profile.reset_every
        if not every:
            return -1
        return len(self.out) + self.rng.randint(max(1, every // 2), every + every // 2)

    def run(self) -> list[Op]:
        out, model, rng = self.out, self.model, self.rng
        fill = min(self.profile.fill, model.keyspace // 2)
        if fill:
            for key in rng.sample(range(model.keyspace), fill):
                if len(out) >= self.budget:
                    break
                out.append(Op("i", key))
                model.add(key)
                self._after_action()
        actions = [getattr(self, "_" + name) for name in ACTIONS]
        weights = self.mix.weights()
        cum = []
        total = 0.0
        for w in weights:
            total += w
            cum.append(total)
        choose = rng.choices
        while len(out) < self.budget:
            choose(actions, cum_weights=cum)[0]()
            self._after_action()
        out.extend((DUMP, VERIFY)[-min(2, self.n_ops) :])
        return out

    def _room(self) -> int:
        return self.budget - len(self.out)

    def _after_action(self) -> None:
        out = self.out
        if len(out) - self.last_checkpoint >= self.profile.checkpoint_every and self._room() >= 2:
            out += (DUMP, VERIFY)
            self.last_checkpoint = len(out)
        if self.next_reset >= 0 and len(out) >= self.next_reset and self._room() >= 1:
            if self.last_checkpoint != len(out) and self._room() >= 3:
                out += (DUMP, VERIFY)
            out.append(RESET)
            self.last_checkpoint = len(out)
            self.model.clear()
            self.dup_keys.clear()
            self.next_reset = self._reset_gap()

    # one method per Mix field; each appends at least one op
    def _insert_new(self) -> None:
        key = self.model.absent(self.rng)
        if key is None:
            return self._insert_dup()
        self.model.add(key)
        self.out.append(Op("i", key))

    def _insert_dup(self) -> None:
        if not self.model:
            return self._insert_new()
        self.out.append(Op("i", self.model.present(self.rng)))

    def _erase_present(self) -> None:
        if not self.model:
            return self._erase_absent()
        key = self.model.present(self.rng)
        self.model.remove(key)
        self.out.append(Op("e", key))

    def _erase_absent(self) -> None:
        key = self.model.absent(self.rng)
        if key is None:
            return self._erase_present()
        self.out.append(Op("e", key))

    def _find(self) -> None:
        rng, model = self.rng, self.model
        key = model.present(rng) if model and rng.random() < 0.5 else rng.randrange(model.keyspace)
        self.out.append(Op("f", key))

    def _iterate(self, forward: bool) -> None:
        """`<` (or `>`), then `n`/`p` along the present keys from the first (or a random) one."""
        rng, keys, out = self.rng, self.model.sorted, self.out
        out.append(FIRST if forward else LAST)
        room = min(self._room(), self.profile.iterate_cap)
        if not keys or room <= 0:
            return
        if rng.random() < 0.5:
            at = 0 if forward else len(keys) - 1
        else:
            at = rng.randrange(len(keys))
        code, step = ("n", 1) if forward else ("p", -1)
        while room > 0 and 0 <= at < len(keys):
            out.append(Op(code, keys[at]))
            at += step
            room -= 1

    def _iter_forward(self) -> None:
        self._iterate(True)

    def _iter_backward(self) -> None:
        self._iterate(False)

    def _replace(self) -> None:
        rng, model = self.rng, self.model
        key = model.present(rng) if model and rng.random() < 0.9 else rng.randrange(model.keyspace)
        self.out.append(Op("r", key))

    def _clear(self) -> None:
        """Mostly on absent keys (where `c` acts), sometimes on present ones (`present`)."""
        rng, model = self.rng, self.model
        key = model.absent(rng) if rng.random() < 0.8 else None
        if key is None:
            key = model.present(rng) if model else rng.randrange(model.keyspace)
        self.out.append(Op("c", key))

    def _empty(self) -> None:
        self.out.append(Op("z", self.rng.randrange(self.model.keyspace)))

    # the later API groups: one action per group, choosing among the group's ops
    def _present_or_any(self) -> int:
        rng, model = self.rng, self.model
        return model.present(rng) if model and rng.random() < 0.8 else rng.randrange(model.keyspace)

    def _insert_with(self, code: str) -> None:
        if self.model and self.rng.random() < 0.1:  # sometimes a present key: `dup`
            self.out.append(Op(code, self.model.present(self.rng)))
            return
        key = self.model.absent(self.rng)
        if key is None:
            return self._erase_with(code.translate(_ERASE_OF))
        self.model.add(key)
        self.out.append(Op(code, key))

    def _erase_with(self, code: str) -> None:
        if not self.model:
            return self._insert_with(code.translate(_INSERT_OF))
        key = self.model.present(self.rng)
        self.model.remove(key)
        self.out.append(Op(code, key))

    def _cached(self) -> None:
        pick = self.rng.random()
        if pick < 0.4:
            self._insert_with("I")
        elif pick < 0.7:
            self._erase_with("E")
        elif pick < 0.85:
            self.out.append(Op("L"))
        else:
            self.out.append(Op("R", self._present_or_any()))

    def _postorder(self) -> None:
        self.out.append(Op("P"))

    def _augmented(self) -> None:
        self._augment("A", "B")

    def _augment2010(self) -> None:
        self._augment("a", "b")

    def _augment(self, insert: str, erase: str) -> None:
        """An augmented insert or erase, then often `v`: the harness checks the values only
        while nothing but augmented ops changed the tree, so the check must come soon."""
        if self.rng.random() < 0.55:
            self._insert_with(insert)
        else:
            self._erase_with(erase)
        if self.rng.random() < 0.5 and self._room() >= 1:
            self.out.append(VERIFY)

    def _search(self) -> None:
        rng, model = self.rng, self.model
        pick = rng.random()
        if pick < 0.3:  # rb_add: a new key, or a duplicate of a present one
            key = self._present_or_any()
            if key not in model.index:
                model.add(key)
            else:
                self.dup_keys.append(key)
            self.out.append(Op("+", key))
        elif pick < 0.45:
            key = self._present_or_any()
            if key not in model.index:
                model.add(key)
            self.out.append(Op("&", key))
        else:  # half the lookups aim at a key with duplicates, where first and next-match matter
            dups = self.dup_keys
            key = dups[rng.randrange(len(dups))] if dups and rng.random() < 0.5 else self._present_or_any()
            self.out.append(Op(rng.choice("?[]"), key))

    def _rcu(self) -> None:
        self.out.append(Op("u", self._present_or_any()))


_ERASE_OF = str.maketrans("IAa", "EBb")
_INSERT_OF = str.maketrans("EBb", "IAa")


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


def shrink(ops: Sequence[Op], still_fails: Predicate) -> list[Op]:
    """A small failing witness: shortest prefix, then the last reset segment, ddmin, keys, ddmin.

    The result always fails; ValueError if `ops` does not.
    """
    test = _Cached(still_fails)
    current = shortest_failing_prefix(ops, test)
    resets = [i for i, op in enumerate(current) if op.code == "x"]
    if resets and test(current[resets[-1] + 1 :]):
        current = current[resets[-1] + 1 :]
    current = ddmin(current, test)
    keyed = shrink_keys(current, test)
    if keyed != current:
        current = ddmin(keyed, test)
    return current


__all__ = [
    "ACTIONS",
    "Batch",
    "CODES",
    "GROUPS",
    "GROUP_CODES",
    "Mix",
    "Op",
    "PROFILES",
    "Profile",
    "check_keyspace",
    "check_n_ops",
    "check_seed",
    "ddmin",
    "decode",
    "decode_batch",
    "encode",
    "from_json",
    "generate",
    "needed_keyspace",
    "shortest_failing_prefix",
    "shrink",
    "shrink_keys",
    "to_json",
]
