"""2D mode coverage on constructed samples with known answers."""

import numpy as np
import pytest

from genjax.data.toy2d import mixture, sample_mixture
from genjax.metrics import mode_coverage


def test_true_samples_cover_every_mode():
    means, std = mixture("toy2d_grid")
    pts, _ = sample_mixture("toy2d_grid", 2500, seed=0)
    res = mode_coverage(pts, means, std)
    assert res.modes == 25 and res.num_modes == 25
    assert res.high_quality > 0.98  # P(|N(0, I2)| < 3) = 1 - exp(-4.5) = 0.989
    assert res.reverse_kl < 0.02


def test_constructed_samples_known_answer():
    means, std = mixture("toy2d_ring")
    # 30 points on mode 0 (exactly), 10 on mode 3 at 2.9 std, 20 far from every mode,
    # and 5 at 3.1 std from mode 5 (not high quality).
    offset = np.array([0.0, 1.0])
    pts = np.concatenate([
        np.repeat(means[:1], 30, 0),
        np.repeat(means[3:4] + 2.9 * std * offset, 10, 0),
        np.zeros((20, 2)),
        np.repeat(means[5:6] + 3.1 * std * offset, 5, 0),
    ])
    res = mode_coverage(pts, means, std)
    assert res.modes == 2
    assert res.high_quality == pytest.approx(40 / 65)
    p = np.array([30, 10]) / 40
    assert res.reverse_kl == pytest.approx(np.sum(p * np.log(8 * p)), rel=1e-12)
    assert res.counts.tolist() == [30, 0, 0, 10, 0, 0, 0, 0]


def test_even_spread_over_c_modes_gives_log_m_over_c():
    means, std = mixture("toy2d_grid")
    pts = np.repeat(means[:5], 4, 0)  # 5 of 25 modes, 4 samples each
    res = mode_coverage(pts, means, std)
    assert res.modes == 5 and res.high_quality == 1.0
    assert res.reverse_kl == pytest.approx(np.log(25 / 5))


def test_no_high_quality_sample():
    means, std = mixture("toy2d_ring")
    res = mode_coverage(np.full((10, 2), 5.0), means, std)
    assert res.modes == 0 and res.high_quality == 0.0 and np.isnan(res.reverse_kl)
    assert res.as_dict()["counts"] == [0] * 8
