"""Batches (determinism, epochs, resume, sharding, prefetch) and transforms."""

import numpy as np
import pytest

from genjax.data import Batches, DatasetError
from genjax.data.pipeline import (
    ArraySource,
    compose,
    images_to_float,
    pad_images,
    points_to_float,
)


class ListSource:
    """A plain in-memory source: records with a unique "id" and an image."""

    def __init__(self, n):
        self.records = [
            {"id": np.int64(i), "image": np.full((2, 2, 1), i % 256, np.uint8)} for i in range(n)
        ]

    def __len__(self):
        return len(self.records)

    def __getitem__(self, i):
        return self.records[i]


class GetItemsSource(ListSource):
    def __init__(self, n):
        super().__init__(n)
        self.calls = 0

    def __getitems__(self, indices):
        self.calls += 1
        return [self.records[i] for i in indices]


def ids(batches, indices):
    return [batches.batch(i)["id"] for i in indices]


def test_same_seed_same_batches_different_seed_different():
    source = ListSource(100)
    a, b, c = (Batches(source, 10, seed=s) for s in (1, 1, 2))
    for i in range(25):
        np.testing.assert_array_equal(a.batch(i)["id"], b.batch(i)["id"])
    assert any(not np.array_equal(a.batch(i)["id"], c.batch(i)["id"]) for i in range(10))


def test_documented_order():
    batches = Batches(ListSource(50), 8, seed=7)
    order = np.random.default_rng([7, 3]).permutation(50)
    index = 3 * batches.steps_per_epoch + 2
    np.testing.assert_array_equal(batches.batch(index)["id"], order[16:24])


def test_every_example_once_per_epoch():
    batches = Batches(ListSource(96), 12, seed=0)
    assert batches.steps_per_epoch == 8
    epochs = []
    for epoch in range(3):
        seen = np.concatenate(ids(batches, range(epoch * 8, (epoch + 1) * 8)))
        np.testing.assert_array_equal(np.sort(seen), np.arange(96))
        epochs.append(seen)
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled each epoch


def test_remainder_is_dropped():
    batches = Batches(ListSource(100), 7, seed=0)
    assert batches.steps_per_epoch == 14
    seen = np.concatenate(ids(batches, range(14)))
    assert len(seen) == len(set(seen.tolist())) == 98


def test_no_shuffle_is_source_order():
    batches = Batches(ListSource(20), 5, seed=0, shuffle=False)
    np.testing.assert_array_equal(batches.batch(5)["id"], [5, 6, 7, 8, 9])


def test_resume_from_fresh_object_equals_iteration():
    source = ListSource(64)
    run = [(i, b["id"]) for i, b in Batches(source, 8, seed=3).iterate(0, stop=30)]
    assert [i for i, _ in run] == list(range(30))
    fresh = Batches(source, 8, seed=3)
    for i, want in run:
        np.testing.assert_array_equal(fresh.batch(i)["id"], want)
    resumed = Batches(source, 8, seed=3).iterate(start=17)
    for i, want in run[17:]:
        j, got = next(resumed)
        assert j == i
        np.testing.assert_array_equal(got["id"], want)


@pytest.mark.parametrize("shard_count", [2, 4])
def test_shards_concatenate_to_global_batch(shard_count):
    source = ListSource(100)
    full = Batches(source, 16, seed=5)
    shards = [
        Batches(source, 16, seed=5, shard_index=s, shard_count=shard_count)
        for s in range(shard_count)
    ]
    assert all(s.local_batch_size == 16 // shard_count for s in shards)
    for i in [0, 1, 5, 6, 13, 40]:  # several epochs
        parts = [s.batch(i)["id"] for s in shards]
        np.testing.assert_array_equal(np.concatenate(parts), full.batch(i)["id"])


def test_array_source_gives_the_same_batches():
    records = ListSource(40)
    arrays = ArraySource(
        {"id": np.arange(40), "image": np.stack([r["image"] for r in records.records])}
    )
    assert len(arrays) == 40 and arrays[7]["id"] == 7
    a, b = Batches(records, 8, seed=2), Batches(arrays, 8, seed=2)
    for i in range(12):
        for key in ("id", "image"):
            np.testing.assert_array_equal(a.batch(i)[key], b.batch(i)[key])
    with pytest.raises(DatasetError, match="common length"):
        ArraySource({"a": np.zeros(3), "b": np.zeros(4)})


def test_prefetch_keeps_order_and_stops_cleanly():
    source = GetItemsSource(64)
    batches = Batches(source, 8, seed=1)
    plain = [(i, b["id"]) for i, b in batches.iterate(3, stop=40)]
    fetched = [(i, b["id"]) for i, b in batches.iterate(3, stop=40, prefetch=3)]
    assert [i for i, _ in fetched] == [i for i, _ in plain]
    for (_, a), (_, b) in zip(plain, fetched, strict=True):
        np.testing.assert_array_equal(a, b)
    assert source.calls > 0  # __getitems__ used
    # Leaving an endless prefetching iterator early must not hang.
    endless = batches.iterate(0, prefetch=2)
    next(endless)
    endless.close()


def test_prefetch_reraises_errors():
    def broken(batch):
        raise RuntimeError("boom")

    batches = Batches(ListSource(16), 4, seed=0, transform=broken)
    with pytest.raises(RuntimeError, match="boom"):
        next(batches.iterate(0, prefetch=2))


@pytest.mark.parametrize(
    ("n", "batch_size", "kwargs", "match"),
    [
        (0, 4, {}, "0 examples, fewer than one batch"),
        (3, 4, {}, "3 examples, fewer than one batch of 4"),
        (10, 0, {}, "batch_size must be at least 1"),
        (10, 6, {"shard_count": 4}, "not divisible by shard_count"),
        (10, 4, {"shard_count": 2, "shard_index": 2}, "shard_index"),
    ],
)
def test_batches_errors(n, batch_size, kwargs, match):
    with pytest.raises(DatasetError, match=match):
        Batches(ListSource(n), batch_size, seed=0, **kwargs)


def test_images_to_float_range_and_labels():
    batch = {
        "image": np.array([0, 127, 128, 255], np.uint8).reshape(1, 2, 2, 1),
        "label": np.array([3], np.int64),
    }
    out = images_to_float()(batch)
    assert out["image"].dtype == np.float32 and out["label"].dtype == np.int32
    want = [-1.0, 127 / 127.5 - 1, 128 / 127.5 - 1, 1.0]
    np.testing.assert_allclose(out["image"].ravel(), want, rtol=1e-5, atol=1e-6)
    assert batch["image"].dtype == np.uint8  # input untouched


def test_padding_mnist_to_32():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28, 1), dtype=np.uint8)
    out = images_to_float(pad_to=32)({"image": images})["image"]
    assert out.shape == (3, 32, 32, 1)
    np.testing.assert_array_equal(out[:, 2:30, 2:30], images / np.float32(127.5) - 1)
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert (out[:, border] == -1).all()


def test_padding_odd_and_single_example_and_too_large():
    out = pad_images(np.zeros((8, 8, 1), np.float32), 11, value=-1.0)
    assert out.shape == (11, 11, 1)
    assert (out[1:9, 1:9] == 0).all() and out.sum() == -(121 - 64)
    with pytest.raises(DatasetError, match="larger than the requested size 28"):
        images_to_float(pad_to=28)({"image": np.zeros((1, 32, 32, 3), np.uint8)})


def test_points_and_compose():
    batch = {"point": np.ones((4, 2), np.float64), "label": np.arange(4)}
    out = points_to_float()(batch)
    assert out["point"].dtype == np.float32 and out["label"].dtype == np.int32
    image_batch = {"image": np.zeros((2, 8, 8, 1), np.uint8)}
    flip = lambda b: {**b, "image": -b["image"]}
    assert compose(images_to_float(), flip)(image_batch)["image"].max() == 1.0
