"""The stage cache: round trips, survives tampering by rebuilding, and is keyed on content."""

from archeo.cache import Cache, digest


def test_round_trip_and_miss(tmp_path):
    cache = Cache(tmp_path)
    assert cache.get("k", digest("a")) is None
    cache.put("k", digest("a"), {"x": [1, 2]})
    assert cache.get("k", digest("a")) == {"x": [1, 2]}


def test_corrupted_entry_is_detected_removed_and_reported(tmp_path):
    cache = Cache(tmp_path)
    key = digest("b")
    cache.put("k", key, "value")
    (entry,) = list(tmp_path.rglob("*.pkl"))
    entry.write_bytes(entry.read_bytes()[:-3] + b"xyz")
    assert cache.get("k", key) is None
    assert not entry.exists()
    assert cache.rebuilt == [f"k/{key[:12]}"]


def test_digest_depends_on_every_part_and_nesting():
    assert digest("a", "b") != digest("ab")
    assert digest(["a", "b"]) != digest("a", "b")
    assert digest("a", 1) == digest("a", 1)


def test_no_root_means_no_cache():
    cache = Cache(None)
    cache.put("k", "x", 1)
    assert cache.get("k", "x") is None


def test_an_unwritable_cache_costs_speed_not_the_run(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = Cache(blocker)
    cache.put("k", "x", 1)  # no exception
    assert cache.get("k", "x") is None
    assert len(cache.notes) == 1 and "not writable" in cache.notes[0]
