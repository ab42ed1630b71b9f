"""Adversarial autoencoder (Makhzani et al., 2016), deterministic encoder, prior N(0, I).

One jitted step runs the paper's three phases in order, each with its own optimizer state:

1. reconstruction: encoder and decoder on the reconstruction loss (``loss`` field, per image
   summed over pixels, batch mean; see ``genjax.losses.likelihood.reconstruction_loss``);
2. regularisation, discriminator: codes drawn from the prior ``N(0, I)`` are "real", the
   (updated) encoder's codes of the batch are "fake";
   ``genjax.families.gan.objective.d_loss_from_logits``;
3. regularisation, generator: the encoder is updated to fool the (updated) discriminator,
   ``genjax.losses.adversarial.g_loss_non_saturating``.

The GAN losses come from :mod:`genjax.losses.adversarial`, shared with the GAN family.
``sample`` decodes
``z ~ N(0, I)``: once the aggregate posterior matches the prior, those codes decode to digits.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from genjax.core.collectives import batch_random
from genjax.core.objective import Capabilities
from genjax.core.state import TrainState, apply_updates
from genjax.losses.adversarial import d_loss_from_logits, g_loss_non_saturating
from genjax.losses.likelihood import (
    RECONSTRUCTION_LOSSES,
    output_images,
    reconstruction_loss,
)


@dataclasses.dataclass(frozen=True)
class AAE:
    """An adversarial autoencoder objective (see the module docstring).

    Attributes:
      encoder: ``images -> codes (B, latent_dim)``.
      decoder: ``codes -> (B, H, W, C)`` logits (bce) or images (mse).
      discriminator: ``codes -> logits (B,)``.
      latent_dim: width of the codes and of the prior.
      ae_optimizer: optax transformation of the reconstruction phase (encoder + decoder).
      d_optimizer: optax transformation of the discriminator.
      g_optimizer: optax transformation of the encoder's adversarial (generator) phase.
      loss: reconstruction loss, ``"bce"`` or ``"mse"``.
      data_key: the batch field holding images.

    Under ``jax.pmap`` the step averages gradients over the devices and draws the prior codes
    as on one device (``genjax.core.collectives``).
    """

    encoder: nn.Module
    decoder: nn.Module
    discriminator: nn.Module
    latent_dim: int
    ae_optimizer: optax.GradientTransformation
    d_optimizer: optax.GradientTransformation
    g_optimizer: optax.GradientTransformation
    loss: str = "bce"
    capabilities: ClassVar[Capabilities] = Capabilities(reconstruct=True, latents=True,
                                                        encode=True)
    data_key: str = "image"

    def __post_init__(self):
        if self.loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of "
                             f"{list(RECONSTRUCTION_LOSSES)}")

    # -- pieces ----------------------------------------------------------------------------
    def encode(self, encoder_params, images: jax.Array) -> jax.Array:
        """Codes ``(B, latent_dim)``."""
        return self.encoder.apply({"params": encoder_params}, images)

    def decode(self, decoder_params, codes: jax.Array) -> jax.Array:
        """Decoder output (logits for bce, images for mse)."""
        return self.decoder.apply({"params": decoder_params}, codes)

    def discriminate(self, d_params, codes: jax.Array) -> jax.Array:
        """Logits ``(B,)`` that the codes came from the prior."""
        return self.discriminator.apply({"params": d_params}, codes)

    def prior_codes(self, key: jax.Array, n: int) -> jax.Array:
        """``n`` codes from ``N(0, I)`` (this device's rows of the global draw under pmap)."""
        return batch_random(jax.random.normal, key, (n, self.latent_dim))

    def reconstruction_update(self, params, opt_state, images):
        """Phase 1: returns ``(params, opt_state, loss)`` after one encoder+decoder update."""
        ae = {"encoder": params["encoder"], "decoder": params["decoder"]}

        def loss_fn(ae):
            return reconstruction_loss(self.loss, self.decode(ae["decoder"],
                                                              self.encode(ae["encoder"], images)),
                                       images)

        loss, grads = jax.value_and_grad(loss_fn)(ae)
        ae, ae_opt = apply_updates(self.ae_optimizer, grads, opt_state["autoencoder"], ae)
        return {**params, **ae}, {**opt_state, "autoencoder": ae_opt}, loss

    def discriminator_update(self, params, opt_state, images, key):
        """Phase 2: returns ``(params, opt_state, loss, real_logits, fake_logits)``."""
        real = self.prior_codes(key, images.shape[0])
        fake = jax.lax.stop_gradient(self.encode(params["encoder"], images))

        def loss_fn(dp):
            real_logits, fake_logits = self.discriminate(dp, real), self.discriminate(dp, fake)
            return d_loss_from_logits(real_logits, fake_logits), (real_logits, fake_logits)

        (loss, (real_logits, fake_logits)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params["discriminator"])
        dp, d_opt = apply_updates(self.d_optimizer, grads, opt_state["discriminator"],
                                  params["discriminator"])
        return ({**params, "discriminator": dp}, {**opt_state, "discriminator": d_opt}, loss,
                real_logits, fake_logits)

    def generator_update(self, params, opt_state, images):
        """Phase 3: returns ``(params, opt_state, loss)`` after one adversarial encoder update."""

        def loss_fn(ep):
            return g_loss_non_saturating(
                self.discriminate(params["discriminator"], self.encode(ep, images)))

        loss, grads = jax.value_and_grad(loss_fn)(params["encoder"])
        ep, g_opt = apply_updates(self.g_optimizer, grads, opt_state["generator"],
                                  params["encoder"])
        return {**params, "encoder": ep}, {**opt_state, "generator": g_opt}, loss

    # -- Objective protocol ----------------------------------------------------------------
    def init(self, key: jax.Array, batch: dict[str, jax.Array]) -> TrainState:
        """Initialises the three networks and the three optimizer states."""
        images = jnp.asarray(batch[self.data_key])
        ke, kd, kc = jax.random.split(key, 3)
        codes = jnp.zeros((1, self.latent_dim))
        params = {
            "encoder": self.encoder.init(ke, images)["params"],
            "decoder": self.decoder.init(kd, codes)["params"],
            "discriminator": self.discriminator.init(kc, codes)["params"],
        }
        out = jax.eval_shape(self.encode, params["encoder"], images[:1])
        if out.shape[-1] != self.latent_dim:
            raise ValueError(f"the encoder gives {out.shape[-1]} outputs; latent_dim is "
                             f"{self.latent_dim}")
        opt_state = {
            "autoencoder": self.ae_optimizer.init(
                {"encoder": params["encoder"], "decoder": params["decoder"]}),
            "discriminator": self.d_optimizer.init(params["discriminator"]),
            "generator": self.g_optimizer.init(params["encoder"]),
        }
        return TrainState.create(params, opt_state)

    def train_step(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """Reconstruction, discriminator and generator updates, in that order.

        Returns:
          ``(state, metrics)``: ``recon_loss``, ``d_loss``, ``g_loss`` and D's mean
          probabilities on prior (``d_real``) and encoded (``d_fake``) codes.
        """
        images = batch[self.data_key]
        params, opt_state, recon = self.reconstruction_update(state.params, state.opt_state,
                                                              images)
        params, opt_state, d_loss, real_logits, fake_logits = self.discriminator_update(
            params, opt_state, images, key)
        params, opt_state, g_loss = self.generator_update(params, opt_state, images)
        metrics = {"recon_loss": recon, "d_loss": d_loss, "g_loss": g_loss,
                   "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
                   "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits))}
        return state.replace(params=params, opt_state=opt_state), metrics

    def sample(self, state: TrainState, key: jax.Array, num: int) -> jax.Array:
        """Decodes ``z ~ N(0, I)`` to images in [-1, 1] (Bernoulli means for bce)."""
        return self.decode_latents(state, self.prior_latents(state, key, num))

    def prior_latents(self, state: TrainState, key: jax.Array, num: int) -> jax.Array:
        """The codes ``z ~ N(0, I)``, ``(num, latent_dim)``, that ``sample`` decodes."""
        return jax.random.normal(key, (num, self.latent_dim))

    def decode_latents(self, state: TrainState, z: jax.Array) -> jax.Array:
        """Images in [-1, 1] of codes ``z (N, latent_dim)`` (Bernoulli means for bce)."""
        return output_images(self.loss, self.decode(state.params["decoder"], z))

    def encode_latents(self, state: TrainState, batch: dict[str, jax.Array],
                       key: jax.Array) -> jax.Array:
        """The encoder's codes ``(B, latent_dim)`` of the batch's images (deterministic)."""
        return self.encode(state.params["encoder"], batch[self.data_key])

    def reconstruct(self, state: TrainState, batch: dict[str, jax.Array],
                    key: jax.Array) -> jax.Array:
        """``decoder(encoder(x))`` as images in [-1, 1]."""
        return self.decode_latents(state, self.encode_latents(state, batch, key))

    def eval_metrics(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """Held-out reconstruction loss, and D's loss on test codes against prior codes."""
        images = batch[self.data_key]
        codes = self.encode(state.params["encoder"], images)
        recon = reconstruction_loss(self.loss, self.decode(state.params["decoder"], codes),
                                    images)
        real = self.prior_codes(key, images.shape[0])
        dp = state.params["discriminator"]
        return {"recon_loss": recon,
                "d_loss": d_loss_from_logits(self.discriminate(dp, real),
                                             self.discriminate(dp, codes))}
