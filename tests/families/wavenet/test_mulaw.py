"""mu-law companding and quantisation against a float64 NumPy reference."""

import numpy as np

from genjax.families.wavenet.mulaw import LEVELS, mu_law_decode, mu_law_encode, silence


def reference_encode(x, mu=255):
    x = np.clip(np.asarray(x, np.float64), -1, 1)
    y = np.sign(x) * np.log(1 + mu * np.abs(x)) / np.log(1 + mu)  # G.711's curve
    return np.floor((y + 1) / 2 * mu + 0.5).astype(np.int64)


def reference_decode(q, mu=255):
    y = 2 * np.asarray(q, np.float64) / mu - 1
    return np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu


def test_encode_matches_the_float64_reference():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-1.1, 1.1, 20_000), [-1, 0, 1, 1e-6, -1e-6]])
    got = np.asarray(mu_law_encode(x))
    want = reference_encode(x)
    # float32 rounding can move a value lying within ~1e-5 of a level boundary
    y = np.sign(np.clip(x, -1, 1)) * np.log1p(255 * np.abs(np.clip(x, -1, 1))) / np.log(256)
    near = np.abs(((y + 1) / 2 * 255 + 0.5) % 1 - 0.5) > 0.5 - 1e-4
    assert np.array_equal(got[~near], want[~near])
    assert np.all(np.abs(got - want) <= 1) and got.min() == 0 and got.max() == LEVELS - 1
    assert int(mu_law_encode(0.0)) == silence() == 128


def test_decode_matches_the_reference_and_inverts_encode():
    q = np.arange(LEVELS)
    np.testing.assert_allclose(np.asarray(mu_law_decode(q)), reference_decode(q),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(np.asarray(mu_law_encode(mu_law_decode(q))), q)
    assert np.all(np.diff(np.asarray(mu_law_decode(q))) > 0)


def test_round_trip_error_is_within_half_a_level():
    x = np.linspace(-1, 1, 10_001)
    back = np.asarray(mu_law_decode(mu_law_encode(x)), np.float64)
    # the level of x spans [dec(q - 1/2), dec(q + 1/2)] in the companded domain
    q = reference_encode(x)
    lo, hi = reference_decode(q - 0.5), reference_decode(q + 0.5)
    assert np.all((x >= lo - 1e-6) & (x <= hi + 1e-6))
    assert np.all(np.abs(back - x) <= (hi - lo) + 1e-6)
    assert np.abs(back - x).max() < 0.033  # the widest level, at full scale
