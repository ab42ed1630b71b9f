"""Consistency training's pieces vs NumPy/SciPy formulas; sampling with the exact consistency
function of Gaussian data; a tiny model; errors."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.stats

from genjax.core.step import make_train_step
from genjax.data.toy2d import mixture, sample_mixture
from genjax.families.consistency import ConsistencyModel, consistency_sample
from genjax.families.consistency.training import (
    curriculum_levels,
    huber_c,
    level_sigmas,
    pair_logits,
    pseudo_huber,
)
from genjax.nn.mlp_denoiser import MLPDenoiser
from genjax.nn.preconditioning import preconditioning

M, SD = 0.3, 0.5  # data ~ N(M, SD^2)


def test_boundary_condition_and_edm_coefficients():
    s = np.array([0.002, 0.01, 0.5, 3.0, 80.0])
    sd, smin = 0.5, 0.002
    c_skip, c_out, c_in, c_noise = (np.asarray(c, np.float64) for c in preconditioning(
        jnp.asarray(s), sd, smin))
    np.testing.assert_allclose(c_skip, sd**2 / ((s - smin) ** 2 + sd**2), rtol=1e-6)
    np.testing.assert_allclose(c_out, (s - smin) * sd / np.sqrt(s**2 + sd**2), rtol=1e-5,
                               atol=1e-9)
    np.testing.assert_allclose(c_in, 1 / np.sqrt(s**2 + sd**2), rtol=1e-6)
    np.testing.assert_allclose(c_noise, np.log(s) / 4, rtol=1e-6)
    assert c_skip[0] == 1.0 and c_out[0] == 0.0  # f(x, sigma_min) = x
    objective = point_model()
    state = objective.init(jax.random.PRNGKey(0), {"point": jnp.ones((4, 2))})
    params = jax.tree.map(lambda p: p + 0.1, state.params)  # a non-zero network output
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 2))
    np.testing.assert_allclose(objective.consistency_fn(params)(x, jnp.full((6,), 0.002)), x,
                               rtol=1e-6)


def test_curriculum_matches_the_papers_formula():
    K, s0, s1 = 400_000, 10, 1280
    k_prime = math.floor(K / (math.log2(math.floor(s1 / s0)) + 1))
    for k in (0, 1, 49_999, 50_000, 123_456, 350_000, 399_999):
        want = min(s0 * 2 ** math.floor(k / k_prime), s1) + 1
        assert int(curriculum_levels(jnp.asarray(k), K, s0, s1)) == want, k
    assert int(curriculum_levels(jnp.asarray(0), K)) == 11
    assert int(curriculum_levels(jnp.asarray(K - 1), K)) == 1281


def test_levels_and_their_log_normal_pair_probabilities():
    n = jnp.asarray(21)
    sig = np.asarray(level_sigmas(n, 41, 0.002, 80.0, 7.0), np.float64)
    i = np.arange(21)
    want = (0.002 ** (1 / 7) + i / 20 * (80 ** (1 / 7) - 0.002 ** (1 / 7))) ** 7
    np.testing.assert_allclose(sig[:21], want, rtol=1e-5)
    assert np.all(sig[21:] == sig[20])
    p = np.exp(np.asarray(pair_logits(jnp.asarray(sig, jnp.float32), n, -1.1, 2.0),
                          np.float64))
    cdf = scipy.stats.norm.cdf(np.log(want), -1.1, 2.0)
    mass = np.diff(cdf)  # erf differences are 2 x the normal's cdf differences
    np.testing.assert_allclose(p[:20] / p[:20].sum(), mass / mass.sum(), rtol=1e-4)
    assert np.all(p[20:] == 0)


def test_pseudo_huber():
    a = np.array([[0.3, -1.0], [2.0, 0.5]], np.float32)
    b = np.zeros_like(a)
    c = huber_c((2,))
    assert c == pytest.approx(0.00054 * math.sqrt(2))
    want = np.sqrt((a.astype(np.float64) ** 2).sum(1) + c * c) - c
    np.testing.assert_allclose(pseudo_huber(jnp.asarray(a), jnp.asarray(b), c), want, rtol=1e-5)


def test_sampling_with_the_exact_consistency_function_recovers_the_data():
    """For y ~ N(M, SD^2), the PF-ODE keeps (x - M) / sqrt(SD^2 + sigma^2), so the exact
    consistency function is f(x, s) = M + (x - M) sqrt(SD^2 + smin^2) / sqrt(SD^2 + s^2)."""
    smin = 0.002

    def f(x, s):
        return M + (x - M) * np.sqrt(SD**2 + smin**2) / jnp.sqrt(SD**2 + s[:, None] ** 2)

    z = jax.random.normal(jax.random.PRNGKey(0), (20_000, 2))
    for sigmas in ((80.0,), (80.0, 0.821), (80.0, 2.0, 0.5)):
        x = np.asarray(consistency_sample(f, z, jax.random.PRNGKey(1), sigmas, smin),
                       np.float64)
        # from N(0, 80^2) rather than N(M, SD^2 + 80^2): the first step's mean is off by
        # M SD / 80; re-noising (steps > 1) removes the bias
        np.testing.assert_allclose(x.mean(0), M, atol=M * SD / 80 + 5 * SD / np.sqrt(20_000))
        np.testing.assert_allclose(x.std(0), SD, rtol=0.03)


def point_model(**kw) -> ConsistencyModel:
    args = dict(model=MLPDenoiser(features=64, num_layers=3, input_features=32),
                optimizer=optax.adam(1e-3), data_shape=(2,), ema_decay=0.99, data_key="point",
                clip=False, sigma_data=0.7, total_steps=600, s1=160, mid_sigmas=(0.3,))
    return ConsistencyModel(**{**args, **kw})


def test_a_tiny_model_learns_the_ring_for_one_and_two_step_sampling():
    """600 iCT steps (curriculum 10 -> 40 intervals, sigma_max 20 for data of std 0.7): far
    from converged (iCT trains for hundreds of thousands of steps), so this checks direction,
    not quality: measured 16-29% of 1-step and 58-60% of 2-step samples within 0.15 of a mode
    (15 std; the modes are 0.77 apart) over 3 training seeds, every mode reached, against
    ~0% for the untrained model."""
    objective = point_model(s1=40, sigma_max=20.0)
    points, _ = sample_mixture("toy2d_ring", 600 * 256, seed=0)
    batches = points.reshape(600, 256, 2)
    state = objective.init(jax.random.PRNGKey(0), {"point": batches[0]})
    means, _ = mixture("toy2d_ring")

    def near(state, steps):
        x = np.asarray(objective.sample(state, jax.random.PRNGKey(2), 1000, steps=steps))
        d = np.linalg.norm(x[:, None] - means[None], axis=-1)
        close = d.min(1) < 0.15
        return close.mean(), len(np.unique(d.argmin(1)[close]))

    untrained = [near(state, s)[0] for s in (1, 2)]
    step = make_train_step(objective, steps_per_call=1)
    levels = []
    for i in range(600):
        state, metrics = step(state, {"point": batches[i]}, jax.random.PRNGKey(1))
        levels.append(int(metrics["levels"]))
    assert levels[0] == 11 and levels[-1] == 41 and np.all(np.diff(levels) >= 0)
    (one, modes1), (two, modes2) = near(state, 1), near(state, 2)
    assert modes1 == modes2 == 8
    assert one > max(0.08, 3 * untrained[0]) and two > max(0.4, 3 * untrained[1]), (
        one, two, untrained)


def test_bad_options():
    objective = point_model()
    state = objective.init(jax.random.PRNGKey(0), {"point": jnp.ones((4, 2))})
    with pytest.raises(ValueError, match=r"--steps must be in \[1, 2\]"):
        objective.sample(state, jax.random.PRNGKey(1), 2, steps=3)
    with pytest.raises(ValueError, match="unconditional"):
        objective.sample(state, jax.random.PRNGKey(1), 2, label=1)
    with pytest.raises(ValueError, match="mid_sigmas must decrease"):
        point_model(mid_sigmas=(0.5, 1.0))
