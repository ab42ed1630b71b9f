"""VQ-VAE (van den Oord et al., 2017): an autoencoder through a learned discrete codebook.

The encoder maps an image to a grid of vectors (7x7 for 28x28 digits), each replaced by its
nearest codebook entry (:mod:`genjax.nn.quantizer`); the decoder reconstructs the image from
the quantised grid, gradients reaching the encoder by the straight-through estimator.

Loss (per step, every term a mean, as in Sonnet's VQ-VAE example):
``mean((decoder(e) - x)^2)`` over pixels of images in [-1, 1], plus ``beta * mean((z -
sg[e])^2)`` (commitment, beta 0.25) over grid positions and code dimensions, plus, for the
``plain`` variant, the codebook loss ``mean((sg[z] - e)^2)``. The ``ema`` variant learns the
codebook by exponential moving averages instead (decay 0.99, Laplace smoothing), kept with the
per-code unused-step counters in ``TrainState.model_state["quantizer"]`` and updated
functionally in the step; ``restarts`` re-seeds codes unused for ``restart_after`` steps.

Metrics every step: ``loss``, ``recon_loss`` (the MSE term above, [-1, 1] scale),
``commitment``, ``codebook_loss`` (only monitored by ``ema``), ``recon_mse`` and ``psnr``
(on the [0, 1] pixel scale, reconstructions clipped to the image range:
``recon_mse = mean(((clip(x^) - x) / 2)^2)``,
``psnr = mean over images of 10 log10(1 / mse_image)``), ``perplexity`` (exp of the entropy of
the batch's code histogram, at most K), ``usage`` (share of the K codes used in the batch) and,
with restarts, ``restarts`` (codes re-seeded this step).

A VQ-VAE alone has no distribution over code grids, so it does not sample: its learned prior
is the second stage (:mod:`genjax.families.vqvae.prior`, config ``vqvae_prior_mnist``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from genjax.core.objective import Capabilities
from genjax.core.state import TrainState, apply_updates, check_fractions
from genjax.nn import quantizer as vq

PyTree = Any

PSNR_MIN_MSE = 1e-10  # a perfect reconstruction scores 100 dB


def image_quality(images: jax.Array, recon: jax.Array) -> dict[str, jax.Array]:
    """Reconstruction MSE and PSNR on the [0, 1] pixel scale.

    Args:
      images: ``(B, H, W, C)`` in [-1, 1].
      recon: reconstructions of the same shape (clipped to [-1, 1] here).

    Returns:
      ``{"recon_mse": mean squared error per pixel, "psnr": mean over images of
      10 log10(1 / mse_image)}``, both with pixels mapped to [0, 1] (``(x + 1) / 2``).
    """
    err = ((jnp.clip(recon, -1.0, 1.0) - images) / 2.0) ** 2
    per_image = jnp.mean(err.reshape(err.shape[0], -1), -1)
    psnr = -10.0 * jnp.log10(jnp.maximum(per_image, PSNR_MIN_MSE))
    return {"recon_mse": jnp.mean(per_image), "psnr": jnp.mean(psnr)}


@dataclasses.dataclass(frozen=True)
class VQVAE:
    """The VQ-VAE objective over an encoder/decoder pair of linen modules.

    Attributes:
      encoder: images ``(B, S, S, C)`` -> ``(B, s, s, D)``; D = ``encoder.code_dim``.
      decoder: ``(B, s, s, D)`` -> images.
      num_codes: K, the codebook size.
      optimizer: optax transformation for the networks (and the plain codebook).
      variant: ``"plain"`` (codebook loss) or ``"ema"`` (moving-average codebook).
      beta: commitment weight.
      ema_decay: decay of the codebook statistics (``ema`` only).
      ema_epsilon: Laplace smoothing of the cluster sizes (``ema`` only).
      restarts: re-seed dead codes from the batch's encoder outputs (``ema`` only).
      restart_after: consecutive unused steps after which a code is dead.
      data_key: the batch field with the images.

    Under ``jax.pmap`` the step averages gradients over the devices and totals code counts
    and EMA sums over them (``genjax.core.collectives``, ``genjax.nn.quantizer``).
    """

    encoder: nn.Module
    decoder: nn.Module
    num_codes: int
    optimizer: optax.GradientTransformation
    variant: str = vq.EMA
    beta: float = 0.25
    ema_decay: float = 0.99
    ema_epsilon: float = 1e-5
    restarts: bool = True
    restart_after: int = 100
    capabilities: ClassVar[Capabilities] = Capabilities(
        sample=False, reconstruct=True, test_metrics=True,
        cannot_sample="a VQ-VAE run cannot sample on its own (it has no distribution over "
        "code grids); train its prior stage: genjax train vqvae_prior_mnist --workdir "
        "PRIOR_DIR --config.model.vqvae_dir=THIS_RUN_DIR, then genjax sample PRIOR_DIR")
    data_key: str = "image"

    def __post_init__(self):
        if self.variant not in vq.VARIANTS:
            raise ValueError(f"unknown VQ-VAE variant {self.variant!r}; choose one of "
                             f"{', '.join(vq.VARIANTS)}")
        if self.restarts and self.variant != vq.EMA:
            raise ValueError("dead-code restarts need the 'ema' variant (a plain codebook is a "
                             "parameter of the optimizer); set restarts=False or variant='ema'")
        if self.num_codes < 2:
            raise ValueError(f"num_codes must be >= 2, got {self.num_codes}")
        check_fractions(ema_decay=self.ema_decay)
        if self.restart_after < 1:
            raise ValueError(f"restart_after must be >= 1, got {self.restart_after}")

    # -- pieces shared with the prior stage -------------------------------------------------
    def codebook(self, params: PyTree, model_state: PyTree) -> jax.Array:
        """The ``(K, D)`` codebook: a parameter (plain) or the EMA statistics' (ema)."""
        if self.variant == vq.PLAIN:
            return params["codebook"]
        return model_state["quantizer"]["codebook"]

    def encode(self, params: PyTree, images: jax.Array) -> jax.Array:
        """Continuous encoder outputs ``(B, s, s, D)``."""
        return self.encoder.apply({"params": params["encoder"]}, images)

    def codes(self, params: PyTree, model_state: PyTree, images: jax.Array) -> jax.Array:
        """The code grid of each image: int32 ``(B, s, s)``."""
        return vq.nearest_codes(self.encode(params, images), self.codebook(params, model_state))

    def decode(self, params: PyTree, model_state: PyTree, codes: jax.Array) -> jax.Array:
        """Images ``(B, S, S, C)`` in [-1, 1] (clipped) from int code grids ``(B, s, s)``."""
        z = vq.lookup(self.codebook(params, model_state), codes)
        return jnp.clip(self.decoder.apply({"params": params["decoder"]}, z), -1.0, 1.0)

    # -- Objective protocol -----------------------------------------------------------------
    def init(self, key: jax.Array, batch: dict[str, jax.Array]) -> TrainState:
        """Networks, codebook and quantiser statistics from an example batch."""
        images = jnp.asarray(batch[self.data_key])
        ke, kd, kc = jax.random.split(key, 3)
        enc = self.encoder.init(ke, images)["params"]
        grid = jax.eval_shape(lambda p: self.encoder.apply({"params": p}, images), enc)
        dec = self.decoder.init(kd, jnp.zeros(grid.shape, grid.dtype))["params"]
        codebook = vq.init_codebook(kc, self.num_codes, grid.shape[-1])
        params = {"encoder": enc, "decoder": dec}
        quantizer = {"unused": jnp.zeros((self.num_codes,), jnp.int32)}
        if self.variant == vq.PLAIN:
            params["codebook"] = codebook
        else:
            quantizer.update(vq.init_ema_state(codebook))
        return TrainState.create(params, self.optimizer.init(params), {"quantizer": quantizer})

    def train_step(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """One gradient step, then the EMA codebook update and dead-code restarts.

        Returns:
          ``(state, metrics)``; see the module docstring for the metrics.
        """
        images = batch[self.data_key]
        stats = state.model_state["quantizer"]

        def loss_fn(params):
            z = self.encode(params, images)
            codebook = self.codebook(params, state.model_state)
            indices = vq.nearest_codes(z, codebook)
            quantized = vq.lookup(codebook, indices)
            recon = self.decoder.apply({"params": params["decoder"]},
                                       vq.straight_through(z, quantized))
            recon_loss = jnp.mean((recon - images) ** 2)
            commitment = vq.commitment_loss(z, quantized)
            cb_loss = vq.codebook_loss(z, quantized)
            loss = recon_loss + self.beta * commitment
            if self.variant == vq.PLAIN:
                loss = loss + cb_loss
            aux = {"z": z, "indices": indices, "recon": recon, "recon_loss": recon_loss,
                   "commitment": commitment, "codebook_loss": cb_loss}
            return loss, aux

        (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        counts = vq.code_counts(aux["indices"], self.num_codes)
        stats = {**stats, "unused": vq.update_unused(stats["unused"], counts)}
        metrics = {"loss": loss, "recon_loss": aux["recon_loss"],
                   "commitment": aux["commitment"], "codebook_loss": aux["codebook_loss"],
                   "perplexity": vq.perplexity(counts), "usage": vq.usage(counts),
                   **image_quality(images, aux["recon"])}
        if self.variant == vq.EMA:
            stats = vq.codebook_ema_update(stats, aux["z"], aux["indices"], self.ema_decay,
                                  self.ema_epsilon)
            if self.restarts:
                stats, unused, restarted = vq.restart_dead_codes(
                    stats, stats["unused"], aux["z"], key, self.restart_after)
                stats = {**stats, "unused": unused}
                metrics["restarts"] = restarted.astype(jnp.float32)
        new_state = state.replace(params=params, opt_state=opt_state,
                                  model_state={**state.model_state, "quantizer": stats})
        return new_state, metrics

    def reconstruct(self, state: TrainState, batch: dict[str, jax.Array],
                    key: jax.Array) -> jax.Array:
        """Images through the quantised bottleneck, in [-1, 1]."""
        return self.decode(state.params, state.model_state,
                           self.codes(state.params, state.model_state, batch[self.data_key]))

    def test_metrics(self, state: TrainState, batch: dict[str, jax.Array],
                     key: jax.Array) -> dict[str, jax.Array]:
        """Per-batch ``recon_mse``, ``psnr`` ([0, 1] scale), ``perplexity`` and ``usage``.

        Usage and perplexity here are those of one batch (``genjax eval`` averages batches);
        ``benchmarks/vqvae_codebook.py`` measures them over the whole test split.
        """
        images = batch[self.data_key]
        codes = self.codes(state.params, state.model_state, images)
        counts = vq.code_counts(codes, self.num_codes)
        recon = self.decode(state.params, state.model_state, codes)
        return {**image_quality(images, recon), "perplexity": vq.perplexity(counts),
                "usage": vq.usage(counts)}

    def eval_metrics(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """The same numbers as :meth:`test_metrics` on a held-out batch."""
        return self.test_metrics(state, batch, key)
