"""Denoising autoencoder (Vincent et al., 2008) with a Markov-chain sampler (Bengio et al., 2013).

Training: corrupt a clean image ``x`` in [-1, 1] into ``x~ = C(x)`` and reconstruct ``x``
from ``x~``. The corruption ``C`` (typed fields, either or both):

* masking noise (``mask_prob``): each pixel independently, with probability ``mask_prob``,
  is set to the background value -1 (intensity 0, Vincent et al.'s "masking noise");
* additive Gaussian noise (``noise_std``): ``+ N(0, noise_std^2)`` per pixel, on the [-1, 1]
  scale, applied after masking; the result is NOT clipped.

Loss (``loss`` field, per image summed over pixels, then batch mean): ``"bce"``, the binary
cross-entropy between the decoder's logits and the clean intensities ``(x + 1) / 2``, or
``"mse"``, the squared error between the decoder's output and ``x``.

Sampling. A DAE is not a generative model by itself; it learns a reconstruction distribution
``P(x | x~)``. Bengio et al. (2013, "Generalized denoising auto-encoders as generative
models") show that the Markov chain ``x_t -> x~_t ~ C(x_t) -> x_{t+1} ~ P(x | x~_t)`` has
the data distribution as its stationary distribution (asymptotically, for a consistent
estimator). ``sample`` runs that chain: it starts from uniform noise in [-1, 1], runs
``steps`` transitions (corrupt with the training corruption, then draw from the reconstruction
distribution: a per-pixel Bernoulli draw for ``"bce"``; for ``"mse"`` the decoder's mean,
the reconstruction distribution's scale being unknown), and returns the MEAN of the last
reconstruction distribution (Bernoulli means, or the clipped output), so grids are not
speckled. Short chains from noise give blurry, partly mixed digits: this is the honest
generative use of a DAE, not a sampler of the quality of a VAE or a GAN.

Reconstruction grids (``reconstruct``): the loop's top row shows the CLEAN inputs; the bottom
row shows the DAE's output for a corrupted copy of each input (corruption drawn from the key),
i.e. what it denoises; the corrupted copies themselves are not shown.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from genjax.core.collectives import batch_random
from genjax.core.objective import Capabilities, SampleOption
from genjax.core.state import TrainState, apply_updates
from genjax.losses.likelihood import (
    RECONSTRUCTION_LOSSES,
    from_unit,
    output_images,
    reconstruction_loss,
)

BACKGROUND = -1.0  # the value a masked pixel takes


def corrupt(key: jax.Array, images: jax.Array, noise_std: float, mask_prob: float
            ) -> jax.Array:
    """Masking noise, then additive Gaussian noise (see the module docstring).

    Under pmap the draws are those a single device makes for the global batch
    (``genjax.core.collectives.batch_random``).

    Args:
      key: the corruption's randomness.
      images: ``(B, H, W, C)`` clean images in [-1, 1].
      noise_std: standard deviation of the additive noise (0: none).
      mask_prob: probability that a pixel is set to -1 (0: none).

    Returns:
      The corrupted images, same shape (not clipped).
    """
    km, kn = jax.random.split(key)
    x = images
    if mask_prob > 0:
        u = batch_random(jax.random.uniform, km, images.shape)
        x = jnp.where(u < mask_prob, BACKGROUND, x)
    if noise_std > 0:
        x = x + noise_std * batch_random(jax.random.normal, kn, images.shape)
    return x


@dataclasses.dataclass(frozen=True)
class DAE:
    """A denoising autoencoder objective (see the module docstring).

    Attributes:
      encoder: ``images -> codes (B, latent_dim)``.
      decoder: ``codes -> (B, H, W, C)`` logits (bce) or images (mse).
      latent_dim: width of the codes.
      optimizer: optax transformation for both networks.
      loss: ``"bce"`` or ``"mse"``.
      noise_std: additive Gaussian noise std on the [-1, 1] scale.
      mask_prob: probability of masking each pixel to -1.
      sample_steps: default length of the sampling chain (``genjax sample --steps``).
      data_key: the batch field holding images.
    """

    encoder: nn.Module
    decoder: nn.Module
    latent_dim: int
    optimizer: optax.GradientTransformation
    loss: str = "bce"
    noise_std: float = 0.5
    mask_prob: float = 0.25
    sample_steps: int = 30
    capabilities: ClassVar[Capabilities] = Capabilities(reconstruct=True, sample_options=(
        SampleOption("steps", int, "Markov-chain length (default model.sample_steps)"),))
    data_key: str = "image"

    def __post_init__(self):
        if self.loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of "
                             f"{list(RECONSTRUCTION_LOSSES)}")
        if self.noise_std < 0 or not 0 <= self.mask_prob < 1:
            raise ValueError(f"need noise_std >= 0 and 0 <= mask_prob < 1; got noise_std="
                             f"{self.noise_std}, mask_prob={self.mask_prob}")
        if self.noise_std == 0 and self.mask_prob == 0:
            raise ValueError("a denoising autoencoder needs a corruption: set noise_std > 0 "
                             "and/or mask_prob > 0")
        if self.sample_steps < 1:
            raise ValueError(f"sample_steps must be >= 1, got {self.sample_steps}")

    def corrupt(self, key: jax.Array, images: jax.Array):
        """This DAE's corruption ``C`` (see :func:`corrupt`)."""
        return corrupt(key, images, self.noise_std, self.mask_prob)

    def apply(self, params, images: jax.Array) -> jax.Array:
        """Decoder output (logits or images) for (corrupted) inputs."""
        code = self.encoder.apply({"params": params["encoder"]}, images)
        return self.decoder.apply({"params": params["decoder"]}, code)

    # -- Objective protocol ----------------------------------------------------------------
    def init(self, key: jax.Array, batch: dict[str, jax.Array]) -> TrainState:
        """Initialises encoder and decoder from an example batch."""
        images = jnp.asarray(batch[self.data_key])
        ke, kd = jax.random.split(key)
        params = {
            "encoder": self.encoder.init(ke, images)["params"],
            "decoder": self.decoder.init(kd, jnp.zeros((1, self.latent_dim)))["params"],
        }
        return TrainState.create(params, self.optimizer.init(params))

    def train_step(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """One step on the reconstruction loss of the clean batch from a corrupted copy."""
        clean = batch[self.data_key]
        noisy = self.corrupt(key, clean)

        def loss_fn(params):
            return reconstruction_loss(self.loss, self.apply(params, noisy), clean)

        loss, grads = jax.value_and_grad(loss_fn)(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        return state.replace(params=params, opt_state=opt_state), {"loss": loss}

    def sample(self, state: TrainState, key: jax.Array, num: int,
               steps: int | None = None) -> jax.Array:
        """Images from the generalized-DAE Markov chain started at uniform noise.

        Args:
          state: the trained state.
          key: the chain's randomness.
          num: number of chains (images).
          steps: chain length (default ``sample_steps``).

        Returns:
          ``(num, H, W, C)`` in [-1, 1]: the mean of the last reconstruction distribution.
        """
        steps = self.sample_steps if steps is None else int(steps)
        if steps < 1:
            raise ValueError(f"the DAE sampler needs steps >= 1, got {steps}")
        k0, kc = jax.random.split(key)
        shape = self._image_shape(state, num)
        x0 = jax.random.uniform(k0, shape, minval=-1.0, maxval=1.0)

        def transition(x, k):
            kx, kd = jax.random.split(k)
            out = self.apply(state.params, self.corrupt(kx, x))
            if self.loss == "bce":
                nxt = from_unit(jax.random.bernoulli(kd, jax.nn.sigmoid(out)).astype(x.dtype))
            else:
                nxt = out
            return nxt, out

        _, outs = jax.lax.scan(transition, x0, jax.random.split(kc, steps))
        return output_images(self.loss, outs[-1])

    def _image_shape(self, state: TrainState, num: int) -> tuple[int, ...]:
        """``(num, H, W, C)`` of the decoder's output, found without running it."""
        out = jax.eval_shape(lambda: self.decoder.apply({"params": state.params["decoder"]},
                                                        jnp.zeros((1, self.latent_dim))))
        return (num,) + out.shape[1:]

    def reconstruct(self, state: TrainState, batch: dict[str, jax.Array],
                    key: jax.Array) -> jax.Array:
        """The denoised output for a corrupted copy (drawn from ``key``) of each input."""
        noisy = self.corrupt(key, batch[self.data_key])
        return output_images(self.loss, self.apply(state.params, noisy))

    def eval_metrics(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """Held-out loss from corrupted inputs (``loss``) and from clean ones (``clean_loss``)."""
        clean = batch[self.data_key]
        noisy = self.corrupt(key, clean)
        return {"loss": reconstruction_loss(self.loss, self.apply(state.params, noisy), clean),
                "clean_loss": reconstruction_loss(self.loss, self.apply(state.params, clean),
                                                  clean)}
