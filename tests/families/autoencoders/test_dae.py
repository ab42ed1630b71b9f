"""Denoising AE: corruption statistics, training, the Markov-chain sampler, bad settings."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.families.autoencoders.dae import DAE, corrupt
from genjax.families.autoencoders.networks import Decoder, Encoder


def tiny_dae(**kw) -> DAE:
    return DAE(encoder=Encoder(4, features=(4,), hidden=16),
               decoder=Decoder(image_size=8, channels=1, features=(4,), hidden=16),
               latent_dim=4, optimizer=optax.adam(3e-3), **kw)


def test_gaussian_noise_has_zero_mean_and_the_given_std():
    x = jnp.full((400, 8, 8, 1), 0.3)
    diff = np.asarray(corrupt(jax.random.PRNGKey(0), x, noise_std=0.5, mask_prob=0.0)) - 0.3
    n = diff.size
    assert abs(diff.mean()) < 4 * 0.5 / np.sqrt(n)
    # std of the sample std of n normals ~ sigma / sqrt(2n)
    assert abs(diff.std() - 0.5) < 4 * 0.5 / np.sqrt(2 * n)


def test_masking_sets_a_mask_prob_share_of_pixels_to_the_background():
    x = jnp.full((400, 8, 8, 1), 0.3)
    y = np.asarray(corrupt(jax.random.PRNGKey(1), x, noise_std=0.0, mask_prob=0.25))
    masked = y == -1.0
    assert np.all(y[~masked] == np.float32(0.3))  # the others are untouched
    n = y.size
    assert abs(masked.mean() - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)


def test_masking_then_noise():
    x = jnp.full((400, 8, 8, 1), 1.0)
    y = np.asarray(corrupt(jax.random.PRNGKey(2), x, noise_std=0.1, mask_prob=0.5))
    near_bg = np.abs(y + 1.0) < 0.6  # masked pixels sit at -1 + noise, the others at 1 + noise
    assert abs(near_bg.mean() - 0.5) < 4 * np.sqrt(0.25 / y.size)
    assert abs(y[near_bg].mean() + 1.0) < 0.01 and abs(y[~near_bg].std() - 0.1) < 0.01


def test_training_sampling_and_reconstruction():
    dae = tiny_dae()
    rng = np.random.default_rng(0)
    x = jnp.asarray(np.where(rng.uniform(size=(16, 8, 8, 1)) < 0.3, 1.0, -1.0), jnp.float32)
    state = jax.jit(dae.init)(jax.random.PRNGKey(0), {"image": x})
    step = jax.jit(dae.train_step)
    losses = []
    for i in range(40):
        state, m = step(state, {"image": x}, jax.random.PRNGKey(i))
        losses.append(float(m["loss"]))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert "steps" in dae.capabilities.option_names()

    @jax.jit
    def outputs(state, key):
        return (dae.sample(state, key, 5, steps=2),
                dae.reconstruct(state, {"image": x[:3]}, key),
                dae.eval_metrics(state, {"image": x}, key))

    s, r, ev = outputs(state, jax.random.PRNGKey(0))
    assert s.shape == (5, 8, 8, 1) and -1 <= float(s.min()) and float(s.max()) <= 1
    assert r.shape == (3, 8, 8, 1)
    assert float(ev["clean_loss"]) < float(ev["loss"])  # corrupted inputs are harder

@pytest.mark.parametrize("kw, message", [
    (dict(noise_std=0.0, mask_prob=0.0), "needs a corruption"),
    (dict(loss="l1"), "unknown loss 'l1'"),
    (dict(mask_prob=1.0), "mask_prob < 1"),
    (dict(sample_steps=0), "sample_steps must be >= 1"),
])
def test_bad_settings_are_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        tiny_dae(**kw)
