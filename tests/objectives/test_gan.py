"""GAN losses against closed forms, and the article's bugs proven absent."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.objectives import gan as G
from tests.helpers import ring_points, tiny_gan


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


LOGITS_REAL = np.array([2.0, -1.0, 0.5, 30.0], np.float32)
LOGITS_FAKE = np.array([-3.0, 0.2, 1.5, -30.0], np.float32)


def test_losses_match_probability_formulas():
    dr, df = _sigmoid(LOGITS_REAL), _sigmoid(LOGITS_FAKE)
    np.testing.assert_allclose(G.d_loss_from_logits(LOGITS_REAL, LOGITS_FAKE),
                               -np.mean(np.log(dr)) - np.mean(np.log1p(-df)), rtol=1e-5)
    np.testing.assert_allclose(G.g_loss_non_saturating(LOGITS_FAKE), -np.mean(np.log(df)),
                               rtol=1e-5)
    np.testing.assert_allclose(G.g_loss_minimax(LOGITS_FAKE), np.mean(np.log1p(-df)), rtol=1e-5)


def test_losses_stay_finite_where_sigmoid_saturates():
    big = jnp.array([200.0, -200.0])
    for value in (G.d_loss_from_logits(big, -big), G.g_loss_non_saturating(big),
                  G.g_loss_minimax(big)):
        assert np.isfinite(value)
    grad = jax.grad(G.g_loss_non_saturating)(jnp.array([-200.0]))
    assert np.isfinite(grad).all() and grad[0] < 0  # strong push where D rejects the fake


def test_unknown_g_loss_is_refused():
    with pytest.raises(ValueError, match="non_saturating"):
        tiny_gan().__class__(**{**tiny_gan().__dict__, "g_loss": "wasserstein"})


def test_discriminator_step_lowers_its_own_loss():
    """The D update inside train_step descends D's loss on the batch it saw."""
    gan = tiny_gan(lr=1e-3)
    batch = {"point": ring_points(64)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    key = jax.random.PRNGKey(1)
    new_state, metrics = jax.jit(gan.train_step)(state, batch, key)
    assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert int(new_state.step) == 0  # the step counter is the loop's business
    # the fake batch the D update used: G in train mode on the first half of the key split
    z = jax.random.normal(jax.random.split(key)[0], (64, gan.latent_dim))
    g_vars = {"params": state.params["generator"], **state.model_state["generator"]}
    fake, _ = gan.generator.apply(g_vars, z, train=True, mutable=["batch_stats"])

    def d_loss(dp):
        d_vars = {"params": dp, **state.model_state["discriminator"]}
        real_l, _ = gan.discriminator.apply(d_vars, batch["point"], train=True,
                                            mutable=["batch_stats"])
        fake_l, _ = gan.discriminator.apply(d_vars, fake, train=True, mutable=["batch_stats"])
        return G.d_loss_from_logits(real_l, fake_l)

    before = d_loss(state.params["discriminator"])
    np.testing.assert_allclose(before, metrics["d_loss"], rtol=1e-5)
    assert d_loss(new_state.params["discriminator"]) < before


def test_dcgan_discriminator_loss_depends_on_the_real_batch():
    """The article fed noise to D as 'real' data; ours must read the real batch."""
    from genjax.nn.dcgan import Discriminator, Generator

    gan = G.GAN(Generator(features=(16, 8, 4), channels=1), Discriminator(features=(4, 8, 16)),
                latent_dim=8, g_optimizer=optax.adam(2e-4, b1=0.5),
                d_optimizer=optax.adam(2e-4, b1=0.5))
    rng = np.random.default_rng(0)
    digits = {"image": rng.uniform(-1, 1, (8, 32, 32, 1)).astype(np.float32)}
    blank = {"image": -np.ones((8, 32, 32, 1), np.float32)}
    state = gan.init(jax.random.PRNGKey(0), digits)
    step = jax.jit(gan.train_step)
    key = jax.random.PRNGKey(3)
    (_, m1), (_, m2) = step(state, digits, key), step(state, blank, key)
    assert abs(float(m1["d_loss"]) - float(m2["d_loss"])) > 1e-4
    assert float(m1["d_real"]) != float(m2["d_real"])


def test_ema_params_track_generator():
    gan = tiny_gan(ema_decay=0.5)
    batch = {"point": ring_points(32)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    new, _ = jax.jit(gan.train_step)(state, batch, jax.random.PRNGKey(1))
    expected = jax.tree.map(lambda e, p: 0.5 * e + 0.5 * p, state.params["generator"],
                            new.params["generator"])
    jax.tree.map(np.testing.assert_allclose, new.ema_params, expected)
