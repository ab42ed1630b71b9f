"""Class shares and KL from uniform against hand-computed values."""

import numpy as np

from genjax.metrics.classes import class_shares, kl_from_uniform


def test_class_shares_count_argmax():
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(class_shares(probs), [0.5, 0.25, 0.25])


def test_kl_from_uniform_closed_forms():
    assert kl_from_uniform(np.full(10, 0.1)) == 0.0
    assert np.isclose(kl_from_uniform(np.eye(10)[3]), np.log(10))  # one class: log K
    p = np.array([0.5, 0.5, 0.0, 0.0])
    assert np.isclose(kl_from_uniform(p), np.log(2))  # half the classes: log 2


def test_reconstruction_grid_puts_inputs_above_reconstructions(tmp_path):
    from PIL import Image

    from genjax.modalities.image import save_reconstructions

    inputs = -np.ones((3, 4, 4, 1), np.float32)
    recon = np.ones((3, 4, 4, 1), np.float32)
    path = save_reconstructions(inputs, recon, tmp_path / "r.png")
    grid = np.asarray(Image.open(path))
    height = grid.shape[0]
    assert grid.shape[1] > grid.shape[0]  # one row of 3 over one row of 3
    assert grid[: height // 2].max() == 0 and grid[height // 2:].max() == 255
