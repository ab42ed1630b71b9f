"""Modalities: each dataset's model-input transform, found through ``modality_of``."""

import numpy as np
import pytest

from genjax.data import DatasetError, DatasetSpec
from genjax.modalities import modalities, modality_of

POINTS = DatasetSpec("toy2d_ring", "points", (2,), None, {"train": 10})
IMAGES = DatasetSpec("digits", "image", (8, 8, 1), 10, {"train": 10})


def test_each_modality_transforms_its_batches():
    assert modality_of(POINTS) is modalities()["points"]
    assert modality_of(IMAGES) is modalities()["image"]
    batch = {"point": np.ones((4, 2), np.float64), "label": np.arange(4)}
    out = modality_of(POINTS).transform(POINTS, 32)(batch)
    assert out["point"].dtype == np.float32 and out["label"].dtype == np.int32
    image_batch = {"image": np.zeros((2, 8, 8, 1), np.uint8)}
    image = modality_of(IMAGES).transform
    assert image(IMAGES, 16)(image_batch)["image"].shape == (2, 16, 16, 1)
    assert image(IMAGES, None)(image_batch)["image"].shape == (2, 8, 8, 1)


def test_a_dataset_of_an_unknown_modality_is_refused():
    video = DatasetSpec("clips", "video", (16, 64, 64, 3), None, {"train": 10})
    with pytest.raises(DatasetError, match="holds 'video' data, and no modality"):
        modality_of(video)


def test_one_file_per_sample_where_a_sample_has_a_file(tmp_path):
    from genjax.data.text import encode_bytes

    text = modalities()["text"]
    tokens = np.stack([encode_bytes("In the beginning"), encode_bytes("God created  it.")])
    written = text.save_folder(iter([tokens]), 2, tmp_path / "texts")
    assert [p.read_text() for p in written] == ["In the beginning", "God created  it."]
    with pytest.raises(ValueError, match=r"no one-file-per-sample format.*\.npz"):
        modality_of(POINTS).save_folder(iter([np.zeros((2, 2))]), 2, tmp_path / "points")
    assert not (tmp_path / "points").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        text.check_folder_output(tmp_path / "file")
