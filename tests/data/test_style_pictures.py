"""The style_pictures dataset and genjax.data.pictures, against scikit-image's own arrays."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from genjax.data import dataset_spec, load_arrays
from genjax.data.pictures import PictureError, fit, read_picture, resize_longer_side

skimage_data = pytest.importorskip("skimage.data")


def test_style_pictures_are_the_documented_crops(tmp_path):
    spec = dataset_spec("style_pictures", tmp_path)
    assert spec.modality == "image" and spec.shape == (64, 64, 3)
    assert spec.splits == {"train": 384, "test": 64} and spec.num_classes == 4
    test = load_arrays("style_pictures", "test", tmp_path)
    assert (test["label"] == 3).all()
    # coffee (400 x 600) shrunk to 256 x 384, crops at default_rng(3)'s positions
    coffee = np.asarray(Image.fromarray(skimage_data.coffee()).resize(
        (384, 256), Image.Resampling.LANCZOS))
    rng = np.random.default_rng(3)
    for crop in test["image"][:5]:
        top, left = int(rng.integers(0, 256 - 63)), int(rng.integers(0, 384 - 63))
        np.testing.assert_array_equal(crop, coffee[top:top + 64, left:left + 64])
    train = load_arrays("style_pictures", "train", tmp_path)
    np.testing.assert_array_equal(np.bincount(train["label"]), [128, 128, 128])


def test_read_picture_and_resizing(tmp_path):
    astronaut = read_picture("astronaut")
    np.testing.assert_array_equal(astronaut, skimage_data.astronaut())
    gravel = read_picture("gravel")
    assert gravel.shape == skimage_data.gravel().shape + (3,)
    np.testing.assert_array_equal(gravel[..., 1], skimage_data.gravel())
    path = tmp_path / "a.png"
    Image.fromarray(astronaut[:100, :50]).save(path)
    np.testing.assert_array_equal(read_picture(str(path)), astronaut[:100, :50])
    assert resize_longer_side(astronaut[:100, :50], 40).shape == (40, 20, 3)
    assert fit(astronaut[:100, :50], 30, 30).shape == (30, 30, 3)
    with pytest.raises(PictureError, match="neither an image file nor a demo picture"):
        read_picture("astronot")
