"""GAN losses against closed forms, and the article's bugs proven absent."""

import jax
import jax.numpy as jnp
import numpy as np
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
    grad = jax.grad(lambda l: G.g_loss_non_saturating(l))(jnp.array([-200.0]))
    assert np.isfinite(grad).all() and grad[0] < 0  # strong push where D rejects the fake


def test_unknown_g_loss_is_refused():
    with pytest.raises(ValueError, match="non_saturating"):
        tiny_gan().__class__(**{**tiny_gan().__dict__, "g_loss": "wasserstein"})


def test_discriminator_step_lowers_its_own_loss():
    gan = tiny_gan(lr=1e-2)
    batch = {"point": ring_points(64)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    key = jax.random.PRNGKey(1)
    fake = gan.sample(state, key, 64)

    def d_loss(dp):
        variables = lambda: {"params": dp, **state.model_state["discriminator"]}  # noqa: E731
        real_l = gan.discriminator.apply(variables(), batch["point"], train=False)
        fake_l = gan.discriminator.apply(variables(), fake, train=False)
        return G.d_loss_from_logits(real_l, fake_l)

    before = d_loss(state.params["discriminator"])
    grads = jax.grad(d_loss)(state.params["discriminator"])
    stepped = jax.tree.map(lambda p, g: p - 0.05 * g, state.params["discriminator"], grads)
    assert d_loss(stepped) < before
    new_state, metrics = jax.jit(gan.train_step)(state, batch, key)
    assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert int(new_state.step) == 0  # the step counter is the loop's business


def test_ema_params_track_generator():
    gan = tiny_gan(ema_decay=0.5)
    batch = {"point": ring_points(32)}
    state = gan.init(jax.random.PRNGKey(0), batch)
    new, _ = jax.jit(gan.train_step)(state, batch, jax.random.PRNGKey(1))
    expected = jax.tree.map(lambda e, p: 0.5 * e + 0.5 * p, state.params["generator"],
                            new.params["generator"])
    jax.tree.map(np.testing.assert_allclose, new.ema_params, expected)
