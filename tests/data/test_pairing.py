"""data.pairing: Sobel edge maps against scipy (float64), deterministic inpainting holes, and
paired batches that resume exactly and match what `genjax eval` reads."""

import numpy as np
import pytest
import scipy.ndimage

from genjax.app.evaluate import iterate_split
from genjax.data import ArraySource, Batches, DatasetError
from genjax.data.pairing import (
    EDGE_SCALE,
    HOLE_VALUE,
    Pairing,
    edge_maps,
    hole_corners,
    hole_masks,
    sobel_magnitude,
)
from genjax.data.pipeline import images_to_float


def test_sobel_magnitude_matches_scipy_in_float64():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(3, 7, 9, 2))
    ours = sobel_magnitude(images)
    assert ours.dtype == np.float64 and ours.shape == images.shape
    for b in range(3):
        for c in range(2):
            x = images[b, :, :, c]
            ref = np.hypot(scipy.ndimage.sobel(x, axis=0), scipy.ndimage.sobel(x, axis=1))
            np.testing.assert_allclose(ours[b, :, :, c], ref, rtol=1e-12, atol=1e-12)


def test_edge_maps_are_scaled_sobel_of_the_unit_image():
    rng = np.random.default_rng(1)
    images = rng.uniform(-1, 1, size=(2, 8, 8, 1)).astype(np.float32)
    unit = (images.astype(np.float64) + 1) / 2
    ref = np.hypot(scipy.ndimage.sobel(unit[0, ..., 0], axis=0),
                   scipy.ndimage.sobel(unit[0, ..., 0], axis=1))
    expected = 2 * np.minimum(ref / EDGE_SCALE, 1) - 1
    np.testing.assert_allclose(edge_maps(images)[0, ..., 0], expected, atol=1e-6)
    flat = np.full((1, 8, 8, 1), 0.3, np.float32)  # no edges anywhere
    np.testing.assert_array_equal(edge_maps(flat), -1.0)
    step = -np.ones((1, 8, 8, 1), np.float32)  # a unit step 0 -> 1 reads as a full edge
    step[:, :, 4:] = 1.0
    assert edge_maps(step)[0, 3, 3, 0] == pytest.approx(1.0)


def test_holes_are_squares_inside_the_central_band_and_pure_functions_of_their_inputs():
    rows = np.arange(200)
    corners = hole_corners(3, 0, rows, (32, 32), 12)
    margin = (32 - 12) // 4
    assert corners.min() >= margin and corners.max() <= 32 - 12 - margin
    assert len({tuple(c) for c in corners}) > 50  # spread out, not one position
    masks = hole_masks(3, 0, rows, (32, 32), 12)
    assert masks.shape == (200, 32, 32, 1) and (masks.sum(axis=(1, 2, 3)) == 144).all()
    for i in (0, 57, 199):
        top, left = corners[i]
        assert masks[i, top:top + 12, left:left + 12].all()
    np.testing.assert_array_equal(hole_corners(3, 0, rows[[57, 3]], (32, 32), 12),
                                  corners[[57, 3]])  # per row, whatever the batch
    assert (hole_corners(3, 1, rows, (32, 32), 12) != corners).any()  # a new epoch, new holes
    assert (hole_corners(4, 0, rows, (32, 32), 12) != corners).any()  # a new seed, too


def test_inpaint_source_is_the_image_with_its_hole_filled():
    rng = np.random.default_rng(2)
    image = rng.uniform(-1, 1, size=(4, 16, 16, 1)).astype(np.float32)
    rows = np.array([5, 9, 11, 40])
    out = Pairing("inpaint", seed=7, hole=6)({"image": image, "label": np.zeros(4)}, rows, 2)
    mask = hole_masks(7, 2, rows, (16, 16), 6)
    np.testing.assert_array_equal(out["source"][mask], HOLE_VALUE)
    np.testing.assert_array_equal(out["source"][~mask], image[~mask])
    np.testing.assert_array_equal(out["image"], image)
    assert set(out) == {"image", "label", "source"}


def test_bad_pairings_say_what_to_change():
    with pytest.raises(DatasetError, match="unknown pairing 'sketch'.*edges, inpaint"):
        Pairing("sketch")
    with pytest.raises(DatasetError, match="smaller data.mask_size"):
        Pairing("inpaint", hole=20)({"image": np.zeros((1, 16, 16, 1))}, np.arange(1))
    with pytest.raises(DatasetError, match="needs .B, H, W, C. images"):
        Pairing("edges", field="point")({"point": np.zeros((2, 2))}, np.arange(2))


def _digits(n=40, size=12):
    rng = np.random.default_rng(5)
    return ArraySource({"image": rng.integers(0, 256, (n, size, size, 1), dtype=np.uint8),
                        "label": np.arange(n) % 10})


def test_paired_batches_resume_exactly_and_match_genjax_eval():
    source, pairing = _digits(), Pairing("inpaint", seed=1, hole=5)
    make = lambda: Batches(source, 8, seed=1, transform=images_to_float(16), pairing=pairing)
    straight = [b for _, b in make().iterate(0, stop=12)]
    resumed = [b for _, b in make().iterate(7, stop=12)]  # a fresh pipeline, from step 7
    for a, b in zip(straight[7:], resumed, strict=True):
        for key in ("image", "source", "label"):
            np.testing.assert_array_equal(a[key], b[key])
    assert (straight[0]["source"] != straight[5]["source"]).any()  # epoch 1: new holes
    held_out = Batches(source, 8, seed=1, shuffle=False, transform=images_to_float(16),
                       pairing=pairing)
    for i, batch in enumerate(iterate_split(source, 8, images_to_float(16), pairing)):
        np.testing.assert_array_equal(batch["source"], held_out.batch(i)["source"])
