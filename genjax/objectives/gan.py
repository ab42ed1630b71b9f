"""GANs: a generator and a discriminator trained by alternating updates in one jitted step.

The step owns both updates (two optax states in one TrainState); the loop never knows.
Losses take discriminator logits, never probabilities, so they stay finite where a
sigmoid saturates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from genjax.core.parallel import batch_random
from genjax.core.state import TrainState, apply_updates, ema_update


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


def g_loss_non_saturating(fake_logits: jax.Array) -> jax.Array:
    """``-log D(G(z))``, batch mean: strong gradients while D rejects the fakes."""
    return jnp.mean(jax.nn.softplus(-fake_logits))


def g_loss_minimax(fake_logits: jax.Array) -> jax.Array:
    """``log(1 - D(G(z)))``, batch mean: the original minimax objective (the article's formula).

    Its gradient vanishes while D confidently rejects the fakes; prefer non-saturating.
    """
    return -jnp.mean(jax.nn.softplus(fake_logits))


G_LOSSES: dict[str, Callable[[jax.Array], jax.Array]] = {
    "non_saturating": g_loss_non_saturating,
    "minimax": g_loss_minimax,
}


@dataclasses.dataclass(frozen=True)
class GAN:
    """A GAN objective over any generator/discriminator pair of linen modules.

    The generator maps ``z: (B, latent_dim)`` to data, the discriminator maps data to
    logits ``(B,)``; both take ``train: bool`` and may keep a ``batch_stats`` collection.

    Attributes:
      generator: the generator module.
      discriminator: the discriminator module.
      latent_dim: size of z ~ N(0, I).
      g_optimizer: optax transformation for the generator.
      d_optimizer: optax transformation for the discriminator.
      g_loss: ``"non_saturating"`` (default) or ``"minimax"``.
      ema_decay: if set, keep an EMA of the generator's parameters and sample from it.
      data_key: the batch field holding real data (``"image"`` or ``"point"``).
      axis_name: the ``jax.pmap`` device axis when the step runs under pmap (gradients
        averaged, latents drawn as on one device; give the modules' BatchNorm the same name).
    """

    generator: nn.Module
    discriminator: nn.Module
    latent_dim: int
    g_optimizer: optax.GradientTransformation
    d_optimizer: optax.GradientTransformation
    g_loss: str = "non_saturating"
    ema_decay: float | None = None
    data_key: str = "image"
    axis_name: str | None = None

    def __post_init__(self):
        if self.g_loss not in G_LOSSES:
            raise ValueError(f"unknown g_loss {self.g_loss!r}; choose one of {sorted(G_LOSSES)}")

    # -- helpers -------------------------------------------------------------------------
    def _latents(self, key: jax.Array, n: int, axis_name: str | None = None) -> jax.Array:
        return batch_random(jax.random.normal, key, (n, self.latent_dim), axis_name)

    def _apply(self, module: nn.Module, params, model_state, x, train: bool):
        """Runs a module; in train mode returns its updated batch statistics too."""
        variables = {"params": params, **model_state}
        if train and model_state:
            out, new_state = module.apply(variables, x, train=True, mutable=list(model_state))
            return out, dict(new_state)
        return module.apply(variables, x, train=train), model_state

    # -- Objective protocol ----------------------------------------------------------------
    def init(self, key: jax.Array, batch: dict[str, jax.Array]) -> TrainState:
        """Initialises both networks from an example batch."""
        real = jnp.asarray(batch[self.data_key])
        kg, kd, kz = jax.random.split(key, 3)
        z = self._latents(kz, real.shape[0])
        g_vars = dict(self.generator.init(kg, z, train=False))
        d_vars = dict(self.discriminator.init(kd, real, train=False))
        params = {"generator": g_vars.pop("params"), "discriminator": d_vars.pop("params")}
        opt_state = {
            "generator": self.g_optimizer.init(params["generator"]),
            "discriminator": self.d_optimizer.init(params["discriminator"]),
        }
        model_state = {"generator": g_vars, "discriminator": d_vars}
        ema = params["generator"] if self.ema_decay is not None else None
        return TrainState.create(params, opt_state, model_state, ema)

    def train_step(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """One D update on real + fake, then one G update on fresh noise.

        Returns:
          ``(state, metrics)`` with d_loss, g_loss, and D's mean probabilities on real and fake.
        """
        real = batch[self.data_key]
        n = real.shape[0]
        kd, kg = jax.random.split(key)
        gp, dp = state.params["generator"], state.params["discriminator"]
        gs, ds = state.model_state["generator"], state.model_state["discriminator"]

        # Discriminator: real and fake in separate passes (separate BatchNorm statistics).
        fake, gs = self._apply(self.generator, gp, gs, self._latents(kd, n, self.axis_name),
                                 train=True)
        fake = jax.lax.stop_gradient(fake)

        def d_objective(dp):
            real_logits, ds1 = self._apply(self.discriminator, dp, ds, real, train=True)
            fake_logits, ds2 = self._apply(self.discriminator, dp, ds1, fake, train=True)
            loss = d_loss_from_logits(real_logits, fake_logits)
            return loss, (ds2, real_logits, fake_logits)

        (d_loss, (ds, real_logits, fake_logits)), d_grads = jax.value_and_grad(
            d_objective, has_aux=True)(dp)
        dp, d_opt = apply_updates(self.d_optimizer, d_grads, state.opt_state["discriminator"], dp,
                                 self.axis_name)

        # Generator: fresh noise, through the updated discriminator.
        z = self._latents(kg, n, self.axis_name)

        def g_objective(gp):
            fake, gs1 = self._apply(self.generator, gp, gs, z, train=True)
            logits, ds1 = self._apply(self.discriminator, dp, ds, fake, train=True)
            return G_LOSSES[self.g_loss](logits), (gs1, ds1)

        (g_loss, (gs, ds)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(gp)
        gp, g_opt = apply_updates(self.g_optimizer, g_grads, state.opt_state["generator"], gp,
                                 self.axis_name)

        ema = state.ema_params
        if self.ema_decay is not None:
            ema = ema_update(ema, gp, self.ema_decay)
        new_state = state.replace(
            params={"generator": gp, "discriminator": dp},
            opt_state={"generator": g_opt, "discriminator": d_opt},
            model_state={"generator": gs, "discriminator": ds},
            ema_params=ema,
        )
        metrics = {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
            "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
        }
        return new_state, metrics

    def sample(self, state: TrainState, key: jax.Array, num: int) -> jax.Array:
        """``num`` float32 samples from the generator (its EMA when kept), in eval mode."""
        params = state.ema_params if self.ema_decay is not None else state.params["generator"]
        out, _ = self._apply(self.generator, params, state.model_state["generator"],
                             self._latents(key, num), train=False)
        return out.astype(jnp.float32)

    def eval_metrics(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """D's held-out losses: how well D separates test data from fresh samples."""
        real = batch[self.data_key]
        fake = self.sample(state, key, real.shape[0])
        dp, ds = state.params["discriminator"], state.model_state["discriminator"]
        real_logits, _ = self._apply(self.discriminator, dp, ds, real, train=False)
        fake_logits, _ = self._apply(self.discriminator, dp, ds, fake, train=False)
        return {
            "d_loss": d_loss_from_logits(real_logits, fake_logits),
            "g_loss": G_LOSSES[self.g_loss](fake_logits),
        }

