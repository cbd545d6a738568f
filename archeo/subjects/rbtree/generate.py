"""Generating the rbtree's operation sequences: deterministic from a seed, aimed at what matters.

Generation is deterministic from a seed (`random.Random(seed)`, no global state), so a
finding can be reproduced from `(seed, n_ops, mix, profile, groups)` alone. The generator keeps
its own sorted-set model of the present keys, so it can aim at present or absent keys and walk
iterator chains over the keys actually there; profiles say how big trees get and how often
they are dumped (`d`) and verified (`v`).
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace

from archeo.ops import Op, check_keyspace, check_n_ops, check_seed

from .vocabulary import GROUPS

DUMP, VERIFY, RESET, FIRST, LAST = (Op.parse(c) for c in "dvx<>")  # the shared instances


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
