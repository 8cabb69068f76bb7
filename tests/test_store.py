import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest

from harness.compute.store import Store, content_key

FIELDS = {"model": "m", "weights": "abc", "explainer": "ig", "params": {"n_steps": 50}, "image": "i1"}


def test_roundtrip_and_counters(tmp_path):
    store = Store(tmp_path)
    assert store.get("explanation", FIELDS) is None
    store.put("explanation", FIELDS, {"attribution": np.arange(6.0).reshape(2, 3)}, {"seconds": 0.5})
    entry = store.get("explanation", FIELDS)
    np.testing.assert_array_equal(entry.arrays["attribution"], np.arange(6.0).reshape(2, 3))
    assert entry.meta == {"seconds": 0.5} and entry.fields == FIELDS
    assert (store.hits, store.misses, store.writes) == (1, 1, 1)
    assert not list(tmp_path.rglob("*.tmp")), "temporary files must not be left behind"


@pytest.mark.parametrize("change", [{"weights": "abd"}, {"params": {"n_steps": 51}}, {"image": "i2"}])
def test_any_field_changes_the_key(change):
    assert content_key("explanation", FIELDS) != content_key("explanation", {**FIELDS, **change})


def test_key_ignores_dict_order():
    assert content_key("k", {"a": 1, "b": {"x": 1, "y": 2}}) == content_key("k", {"b": {"y": 2, "x": 1}, "a": 1})


def test_corrupt_entry_is_a_miss_with_warning(tmp_path):
    store = Store(tmp_path)
    store.put("explanation", FIELDS, {"a": np.ones(3)})
    path = next(tmp_path.rglob("*.npz"))
    path.write_bytes(path.read_bytes()[:20])
    with pytest.warns(UserWarning, match="unreadable"):
        assert store.get("explanation", FIELDS) is None


def _writer(root: str, worker: int, n: int) -> None:
    store = Store(root)
    for i in range(n):
        store.put(
            "explanation",
            {**FIELDS, "image": f"i{i % 5}"},
            {"a": np.full(1000, i % 5, dtype=np.float32)},
            {"worker": worker},
        )


def test_concurrent_writers_never_leave_partial_entries(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 40)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = Store(tmp_path)
    for i in range(5):
        entry = store.get("explanation", {**FIELDS, "image": f"i{i}"})
        assert entry is not None and np.all(entry.arrays["a"] == i)
    assert len(list(Store(tmp_path).entries("explanation"))) == 5
    assert not list(Path(tmp_path).rglob("*.tmp"))
