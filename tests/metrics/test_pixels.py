"""L1 and PSNR of paired images against float64 NumPy formulas."""

import numpy as np
import pytest

from genjax.metrics.pixels import mean_absolute_error, psnr


def test_psnr_and_mae_match_float64_numpy():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, (5, 6, 7, 3)).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1).astype(np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    mse = ((a64 - b64) ** 2).reshape(5, -1).mean(axis=1)
    np.testing.assert_allclose(psnr(a, b), 10 * np.log10(1.0 / mse), rtol=1e-5)
    np.testing.assert_allclose(psnr(2 * a, 2 * b, data_range=2.0), 10 * np.log10(4.0 / (4 * mse)),
                               rtol=1e-5)
    np.testing.assert_allclose(mean_absolute_error(a, b),
                               np.abs(a64 - b64).reshape(5, -1).mean(axis=1), rtol=1e-5)


def test_identical_images_read_100_db_and_shapes_must_match():
    x = np.ones((2, 4, 4, 1), np.float32)
    np.testing.assert_allclose(psnr(x, x), 100.0)
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(x, x[:, :3])
