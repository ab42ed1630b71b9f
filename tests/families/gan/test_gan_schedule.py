"""The GAN family's learning-rate schedule (``optim.lr_schedule``) through its build."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.config import ConfigError, apply_overrides, load_config


def _build(overrides):
    from genjax.app.experiment import build_objective
    from genjax.data import dataset_spec, default_data_dir

    config = load_config("gan_toy2d")
    apply_overrides(config, overrides)
    return build_objective(config, dataset_spec("toy2d_ring", default_data_dir()))


def _learning_rates(optimizer, updates):
    """The learning rate of each update: Adam's step on a constant gradient of ones is
    exactly ``-lr * 1 / (1 + eps)`` (bias-corrected moments are both 1)."""
    params = {"w": jnp.zeros(())}
    state = optimizer.init(params)
    rates = []
    for _ in range(updates):
        step, state = optimizer.update({"w": jnp.ones(())}, state, params)
        rates.append(-float(step["w"]) * (1 + 1e-8))
    return np.array(rates)


def _cosine(peak, warmup, total, floor):
    """Warm-up then cosine decay, written out in float64."""
    out = []
    for t in range(total):
        if t < warmup:
            out.append(peak * t / warmup)
        else:
            frac = (t - warmup) / (total - warmup)
            out.append(peak * floor + (peak - peak * floor) * 0.5 * (1 + math.cos(math.pi * frac)))
    return np.array(out)


def test_cosine_schedule_of_both_networks_over_their_updates():
    """G decays over train.steps, D over train.steps * n_critic (D's updates)."""
    gan = _build(["train.steps=8", "gan.n_critic=2", "optim.lr_schedule=cosine",
                  "optim.warmup_steps=2", "optim.min_lr_ratio=0.1", "optim.g_lr=1e-3",
                  "optim.d_lr=2e-3"])
    np.testing.assert_allclose(_learning_rates(gan.g_optimizer, 8), _cosine(1e-3, 2, 8, 0.1),
                               rtol=5e-5, atol=1e-10)
    np.testing.assert_allclose(_learning_rates(gan.d_optimizer, 16), _cosine(2e-3, 2, 16, 0.1),
                               rtol=5e-5, atol=1e-10)


def test_a_warmup_longer_than_the_run_is_cut_to_half_of_it():
    gan = _build(["train.steps=6", "optim.lr_schedule=cosine", "optim.warmup_steps=100",
                  "optim.g_lr=1e-3"])
    np.testing.assert_allclose(_learning_rates(gan.g_optimizer, 6), _cosine(1e-3, 3, 6, 0.0),
                               rtol=5e-5, atol=1e-10)


def test_constant_schedule_is_the_peak_rate():
    gan = _build(["optim.lr_schedule=constant", "optim.g_lr=3e-4"])
    np.testing.assert_allclose(_learning_rates(gan.g_optimizer, 3), [3e-4] * 3, rtol=5e-5)


@pytest.mark.parametrize("overrides, expected", [
    (["optim.lr_schedule=linear"], "unknown optim.lr_schedule 'linear'"),
    (["optim.lr_schedule=cosine", "optim.warmup_steps=-1"], "warmup_steps must be >= 0"),
    (["optim.lr_schedule=cosine", "optim.min_lr_ratio=2.0"], "min_lr_ratio must be in [0, 1]"),
])
def test_bad_schedules_are_refused(overrides, expected):
    with pytest.raises(ConfigError) as err:
        _build(overrides)
    assert expected in str(err.value)


def test_the_step_follows_the_schedule():
    """The warm-up's first update has rate 0: a real train step leaves G and D unchanged; the
    next one (rate = peak) moves both."""
    from tests.helpers import ring_points, tree_equal

    gan = _build(["train.steps=3", "optim.lr_schedule=cosine", "optim.warmup_steps=1",
                  "model.g_hidden=(8, 8)", "model.d_hidden=(8,)"])
    batch = {"point": ring_points(16)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    step = jax.jit(gan.train_step)
    first, _ = step(state, batch, jax.random.PRNGKey(1))
    assert tree_equal(first.params, state.params)
    second, _ = step(first, batch, jax.random.PRNGKey(2))
    for net in ("generator", "discriminator"):
        assert not tree_equal(second.params[net], first.params[net]), net
