"""Reading prepared TFDS datasets, and the errors for names genjax cannot serve."""

import json
import pathlib
import time

import numpy as np
import pytest
import tfds_tiny_builder as tiny

from genjax.data import DatasetError, dataset_spec, default_data_dir, load_arrays, load_source
from genjax.data.tfds import FieldView


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    """The tiny datasets, prepared in array_record like `tfds build` would."""
    path = tmp_path_factory.mktemp("tfds_prepared")
    tiny.prepare(tiny.GenjaxTinyImages, path)
    tiny.prepare(tiny.GenjaxTinyUnregistered, path)
    return path


@pytest.mark.parametrize("name", ["genjax_tiny_images", "genjax_tiny_unregistered"])
def test_reads_prepared_tfds_dataset(tiny_dir, name):
    source = load_source(name, "train", tiny_dir)
    assert len(source) == tiny.NUM_TRAIN
    assert isinstance(source, FieldView)  # "extra" dropped
    record = source[4]
    assert set(record) == {"image", "label"}
    np.testing.assert_array_equal(record["image"], tiny.example(4)["image"])
    assert record["label"] == 4 % 3
    records = source.__getitems__([2, 0])
    np.testing.assert_array_equal(records[0]["image"], tiny.example(2)["image"])

    test = load_arrays(name, "test", tiny_dir)
    assert test["image"].shape == (tiny.NUM_TEST, *tiny.SHAPE)
    want = [tiny.example(tiny.NUM_TRAIN + i)["label"] for i in range(tiny.NUM_TEST)]
    np.testing.assert_array_equal(test["label"], want)


def test_spec_of_prepared_tfds_dataset(tiny_dir):
    spec = dataset_spec("genjax_tiny_images", tiny_dir)
    assert spec.modality == "image"
    assert spec.shape == tiny.SHAPE
    assert spec.num_classes == 3
    assert spec.splits == {"train": tiny.NUM_TRAIN, "test": tiny.NUM_TEST}


def test_tfds_slices_pass_through(tiny_dir):
    assert len(load_source("genjax_tiny_images", "train[:5]", tiny_dir)) == 5


@pytest.mark.parametrize("name", ["mnist", "cifar10", "celeb_a"])
def test_unprepared_tfds_dataset_fails_fast_with_the_fix(tmp_path, name):
    start = time.monotonic()
    with pytest.raises(DatasetError) as info:
        load_source(name, "train", tmp_path)
    assert time.monotonic() - start < 5  # no download attempt
    message = str(info.value)
    assert f"'{name}' is not prepared in {tmp_path}" in message
    assert f"tfds build {name} --data_dir {tmp_path}" in message
    assert "--config.data.data_dir" in message
    assert "mnist_subset, digits, toy2d_ring, toy2d_grid" in message
    with pytest.raises(DatasetError, match="not prepared"):
        dataset_spec(name, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("mnist_subsett", "mnist_subset"), ("digitz", "digits"), ("cifar_10", "cifar10")],
)
def test_unknown_name_suggests_close_match(tmp_path, name, suggestion):
    with pytest.raises(DatasetError) as info:
        load_source(name, "train", tmp_path)
    message = str(info.value)
    assert f"Unknown dataset '{name}'" in message
    assert f"'{suggestion}'" in message
    assert "mnist_subset, digits, toy2d_ring, toy2d_grid" in message


def test_unknown_name_without_match(tmp_path):
    with pytest.raises(DatasetError, match="Unknown dataset 'zzqqxx'") as info:
        dataset_spec("zzqqxx", tmp_path)
    assert "Did you mean" not in str(info.value)


def test_tfrecord_prepared_dataset_asks_for_array_record(tmp_path):
    # Data prepared by a plain `tfds build` (tfrecord) has no random access.
    # Writing tfrecord needs TensorFlow, so relabel an array_record build.
    tiny.prepare(tiny.GenjaxTinyUnregistered, tmp_path)
    info_path = tmp_path / "genjax_tiny_unregistered" / "1.0.0" / "dataset_info.json"
    info = json.loads(info_path.read_text())
    info["fileFormat"] = "tfrecord"
    info_path.write_text(json.dumps(info))
    with pytest.raises(DatasetError, match="--file_format=array_record"):
        load_source("genjax_tiny_unregistered", "train", tmp_path)


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GENJAX_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path
    with pytest.raises(DatasetError, match=f"not prepared in {tmp_path}"):
        load_source("mnist", "train")
    monkeypatch.delenv("GENJAX_DATA_DIR")
    assert default_data_dir() == pathlib.Path.home() / ".cache" / "genjax" / "datasets"


def test_prepared_tfds_text_dataset_reads_as_token_windows(tmp_path):
    """A TFDS text dataset (as tiny_shakespeare / lm1b) goes through the same loader."""
    from genjax.modalities import modality_of

    tiny.prepare(tiny.GenjaxTinyText, tmp_path)
    spec = dataset_spec("genjax_tiny_text", tmp_path)
    assert spec.modality == "text" and spec.splits == {"train": 1, "test": 1}
    modality = modality_of(spec)
    for split, train in (("train", True), ("test", False)):
        windows = modality.examples(load_source("genjax_tiny_text", split, tmp_path), spec,
                                    8, train=train)
        data = tiny.TEXTS[split].encode()
        first = windows.take(np.array([len(windows) - 1]))["text"][0]
        stride = 1 if train else 8
        start = (len(windows) - 1) * stride
        assert bytes(first.astype(np.uint8)) == data[start:start + 9]
