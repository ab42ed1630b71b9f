"""Adversarial losses and discriminator penalties, shared by every family with a critic.

The GAN family (:mod:`genjax.families.gan`) and the adversarial autoencoder
(:mod:`genjax.families.autoencoders.aae`) both import them from here. Losses take
discriminator outputs (logits), never probabilities, so they stay finite where a sigmoid
saturates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

# -- adversarial losses ------------------------------------------------------------------------


def d_loss_from_logits(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """The discriminator's cross-entropy: ``-log D(x) - log(1 - D(G(z)))``, batch mean.

    With ``D = sigmoid(l)``: ``-log D = softplus(-l)`` and ``-log(1 - D) = softplus(l)``.

    Args:
      real_logits: D's logits on real data, (B,).
      fake_logits: D's logits on generated data, (B,).

    Returns:
      Scalar loss (sum of the real and fake terms, each a batch mean, as in the article).
    """
    return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def label_smoothing_term(real_logits: jax.Array, smoothing: float) -> jax.Array:
    """What one-sided label smoothing (Salimans et al. 2016) adds to D's cross-entropy.

    With the real target ``1 - s`` instead of 1, D's loss on a real logit ``l`` is
    ``-(1 - s) log sigmoid(l) - s log(1 - sigmoid(l)) = softplus(-l) + s l`` (as
    ``softplus(l) - softplus(-l) = l``), so the smoothed loss is :func:`d_loss_from_logits`
    plus ``s * mean(l)``: D gains nothing from pushing real logits beyond ``log((1 - s) / s)``.

    Args:
      real_logits: D's logits on real data, (B,).
      smoothing: ``s`` in ``[0, 1)``; fakes keep the target 0 (one-sided).

    Returns:
      The scalar to add to D's loss.
    """
    return smoothing * jnp.mean(real_logits)


def g_loss_non_saturating(fake_logits: jax.Array) -> jax.Array:
    """``-log D(G(z))``, batch mean: strong gradients while D rejects the fakes."""
    return jnp.mean(jax.nn.softplus(-fake_logits))


def g_loss_minimax(fake_logits: jax.Array) -> jax.Array:
    """``log(1 - D(G(z)))``, batch mean: the original minimax objective (the article's formula).

    Its gradient vanishes while D confidently rejects the fakes; prefer non-saturating.
    """
    return -jnp.mean(jax.nn.softplus(fake_logits))


def d_loss_hinge(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """Hinge loss of D (SNGAN, BigGAN): ``E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]``."""
    return jnp.mean(jax.nn.relu(1.0 - real_logits)) + jnp.mean(jax.nn.relu(1.0 + fake_logits))


def g_loss_hinge(fake_logits: jax.Array) -> jax.Array:
    """Hinge loss of G: ``-E[D(G(z))]``."""
    return -jnp.mean(fake_logits)


def d_loss_least_squares(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """LSGAN's D loss with targets 1 (real) and 0 (fake): ``E[(D(x)-1)^2]/2 + E[D(G(z))^2]/2``."""
    return 0.5 * jnp.mean((real_logits - 1.0) ** 2) + 0.5 * jnp.mean(fake_logits ** 2)


def g_loss_least_squares(fake_logits: jax.Array) -> jax.Array:
    """LSGAN's G loss: ``E[(D(G(z)) - 1)^2] / 2``."""
    return 0.5 * jnp.mean((fake_logits - 1.0) ** 2)


def d_loss_wasserstein(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """The critic's Wasserstein loss: ``E[D(G(z))] - E[D(x)]`` (pair it with a penalty)."""
    return jnp.mean(fake_logits) - jnp.mean(real_logits)


def g_loss_wasserstein(fake_logits: jax.Array) -> jax.Array:
    """The generator's Wasserstein loss: ``-E[D(G(z))]``."""
    return -jnp.mean(fake_logits)


class GANLoss(NamedTuple):
    """A named pair of losses; both are minimised (D's by D, G's by G).

    Attributes:
      d: ``d(real_logits, fake_logits) -> scalar``.
      g: ``g(fake_logits) -> scalar``.
      probabilistic: D's outputs are logits of a probability (sigmoid-cross-entropy losses).
    """

    d: Callable[[jax.Array, jax.Array], jax.Array]
    g: Callable[[jax.Array], jax.Array]
    probabilistic: bool

    def critic_metrics(self, real_logits: jax.Array, fake_logits: jax.Array
                       ) -> dict[str, jax.Array]:
        """What D says of a batch, for the logs: ``d_real`` / ``d_fake`` (mean probability
        of "real") for a probabilistic loss, else ``d_real_score`` / ``d_fake_score`` (mean
        raw scores)."""
        if self.probabilistic:
            return {"d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
                    "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits))}
        return {"d_real_score": jnp.mean(real_logits), "d_fake_score": jnp.mean(fake_logits)}


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss(d_loss_from_logits, g_loss_minimax, True),
    "non_saturating": GANLoss(d_loss_from_logits, g_loss_non_saturating, True),
    "hinge": GANLoss(d_loss_hinge, g_loss_hinge, False),
    "least_squares": GANLoss(d_loss_least_squares, g_loss_least_squares, False),
    "wasserstein": GANLoss(d_loss_wasserstein, g_loss_wasserstein, False),
}

#: Generator losses by name (kept for callers of the first GAN objective).
G_LOSSES: dict[str, Callable[[jax.Array], jax.Array]] = {k: v.g for k, v in LOSSES.items()}


# -- regularisers ------------------------------------------------------------------------------


def _sum_over_non_batch(x: jax.Array) -> jax.Array:
    return jnp.sum(x, axis=tuple(range(1, x.ndim)))


def gradient_penalty(critic: Callable[[jax.Array], jax.Array], real: jax.Array,
                     fake: jax.Array, weights: jax.Array, target: float = 1.0) -> jax.Array:
    """WGAN-GP's penalty ``E[(||grad_x D(x_hat)||_2 - target)^2]``, x_hat between real and fake.

    ``x_hat_i = w_i real_i + (1 - w_i) fake_i`` with ONE weight per sample, and the norm of
    each sample's gradient taken over ALL its non-batch dimensions (pixels and channels).

    Args:
      critic: ``x (B, ...) -> (B,)`` outputs; each output must depend on its own row only
        (true without batch-coupled layers such as BatchNorm in train mode).
      real: real inputs of D, (B, ...).
      fake: generated inputs of D, same shape.
      weights: interpolation weights ``(B,)`` in [0, 1], usually U(0, 1).
      target: the norm the penalty pulls towards (1 in WGAN-GP).

    Returns:
      Scalar penalty (batch mean), without its lambda.
    """
    w = weights.reshape((-1,) + (1,) * (real.ndim - 1)).astype(real.dtype)
    x_hat = w * real + (1.0 - w) * fake
    grads = jax.grad(lambda x: jnp.sum(critic(x)))(x_hat)
    # the tiny constant keeps the norm's derivative finite at a zero gradient
    norms = jnp.sqrt(_sum_over_non_batch(grads.astype(jnp.float32) ** 2) + 1e-12)
    return jnp.mean((norms - target) ** 2)


def r1_penalty(critic: Callable[[jax.Array], jax.Array], real: jax.Array) -> jax.Array:
    """R1 (Mescheder et al., 2018): ``E[||grad_x D(x)||^2]`` on real data.

    The GAN adds ``r1_weight / 2`` times this, i.e. gamma/2 as in the paper.

    Args:
      critic: ``x (B, ...) -> (B,)`` outputs, row-wise independent (see gradient_penalty).
      real: real inputs of D, (B, ...).

    Returns:
      Scalar penalty (batch mean of each sample's squared gradient norm), without gamma.
    """
    grads = jax.grad(lambda x: jnp.sum(critic(x)))(real)
    return jnp.mean(_sum_over_non_batch(grads.astype(jnp.float32) ** 2))
