"""Adversarial AE: each phase moves only its own networks and lowers its own loss."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.families.autoencoders import aae as aae_module
from genjax.families.autoencoders.aae import AAE
from genjax.families.autoencoders.networks import Decoder, Encoder, LatentDiscriminator
from genjax.families.gan import objective as gan
from genjax.families.gan.objective import d_loss_from_logits, g_loss_non_saturating
from tests.helpers import tree_equal

LATENT = 3


@pytest.fixture(scope="module")
def setup():
    aae = AAE(encoder=Encoder(LATENT, features=(4,), hidden=16),
              decoder=Decoder(image_size=8, channels=1, features=(4,), hidden=16),
              discriminator=LatentDiscriminator(features=(16,)), latent_dim=LATENT,
              ae_optimizer=optax.adam(1e-3), d_optimizer=optax.adam(1e-3),
              g_optimizer=optax.adam(1e-3))
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(-1, 1, (16, 8, 8, 1)), jnp.float32)
    state = jax.jit(aae.init)(jax.random.PRNGKey(0), {"image": x})
    return aae, state, x


def test_the_gan_losses_are_reused_not_copied():
    assert aae_module.d_loss_from_logits is gan.d_loss_from_logits
    assert aae_module.g_loss_non_saturating is gan.g_loss_non_saturating


def test_one_discriminator_update_lowers_its_loss_on_the_same_codes(setup):
    aae, state, x = setup
    key = jax.random.PRNGKey(3)
    real = aae.prior_codes(key, x.shape[0])
    fake = jax.jit(aae.encode)(state.params["encoder"], x)

    @jax.jit
    def d_loss_of(dp):
        return d_loss_from_logits(aae.discriminate(dp, real), aae.discriminate(dp, fake))

    def d_loss(params):
        return float(d_loss_of(params["discriminator"]))

    params, _, loss, _, _ = jax.jit(aae.discriminator_update)(state.params, state.opt_state,
                                                              x, key)
    np.testing.assert_allclose(float(loss), d_loss(state.params), rtol=1e-5)
    assert d_loss(params) < d_loss(state.params)
    for name in ("encoder", "decoder"):
        assert tree_equal(params[name], state.params[name])


def test_generator_update_moves_only_the_encoder_and_fools_d_more(setup):
    aae, state, x = setup

    @jax.jit
    def g_loss_of(params):
        codes = aae.encode(params["encoder"], x)
        return g_loss_non_saturating(aae.discriminate(params["discriminator"], codes))

    def g_loss(params):
        return float(g_loss_of(params))

    params, _, loss = jax.jit(aae.generator_update)(state.params, state.opt_state, x)
    np.testing.assert_allclose(float(loss), g_loss(state.params), rtol=1e-5)
    assert g_loss(params) < g_loss(state.params)
    for name in ("decoder", "discriminator"):
        assert tree_equal(params[name], state.params[name])
    assert not tree_equal(params["encoder"], state.params["encoder"])


def test_train_step_runs_the_three_phases(setup):
    aae, state, x = setup
    step = jax.jit(aae.train_step)
    new, m = step(state, {"image": x}, jax.random.PRNGKey(0))
    assert set(m) == {"recon_loss", "d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(float(v)) for v in m.values())
    for name in ("autoencoder", "discriminator", "generator"):  # every optimizer advanced
        assert not tree_equal(new.opt_state[name], state.opt_state[name])
    recon = [float(m["recon_loss"])]
    for i in range(20):
        new, m = step(new, {"image": x}, jax.random.PRNGKey(i + 1))
        recon.append(float(m["recon_loss"]))
    assert recon[-1] < recon[0]
    s, r = jax.jit(lambda key: (aae.sample(new, key, 4),
                                aae.reconstruct(new, {"image": x[:2]}, key)))(
        jax.random.PRNGKey(0))
    s, r = np.asarray(s), np.asarray(r)
    assert s.shape == (4, 8, 8, 1) and r.shape == (2, 8, 8, 1)
    assert -1 <= s.min() and s.max() <= 1


def test_unknown_loss_is_refused(setup):
    aae, _, _ = setup
    import dataclasses

    with pytest.raises(ValueError, match="unknown loss 'huber'"):
        dataclasses.replace(aae, loss="huber")
