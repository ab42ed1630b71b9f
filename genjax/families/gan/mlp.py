"""The MLP generator and maxout discriminator of the 2D mode-collapse protocol (PacGAN).

* :class:`MLPGenerator`: ``z (B, latent)`` -> [Dense -> BatchNorm -> ReLU] x 4 (width 400)
  -> Dense(2).
* :class:`MaxoutDiscriminator`: ``x (B, d)`` -> [maxout of 5 pieces, width 200] x 3 ->
  Dense(1) logits ``(B,)``. The input width ``d`` is inferred, so PacGAN's packed inputs
  ``(B / m, 2 m)`` need no change.

Spectral normalisation (``spectral_norm=True``) wraps each dense layer of D in flax's
``nn.SpectralNorm``: its power-iteration vector ``u`` (and estimate ``sigma``) live in the
``batch_stats`` collection, i.e. in ``TrainState.model_state``. One power iteration runs per
call; in train mode the new ``u`` and ``sigma`` are returned as collection updates (the GAN
carries them forward), in eval mode they are read, never written.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.core.collectives import data_axis

Array = jax.Array


def dense(features: int, spectral_norm: bool, name: str | None = None, use_bias: bool = True):
    """A dense layer, spectrally normalised when asked; call it as ``layer(x, train)``."""
    layer = nn.Dense(features, use_bias=use_bias, name=name)
    if not spectral_norm:
        return lambda x, train: layer(x)
    sn = nn.SpectralNorm(layer, name=None if name is None else f"sn_{name}")
    return lambda x, train: sn(x, update_stats=train)


class MLPGenerator(nn.Module):
    """Dense layers with BatchNorm and ReLU, then a linear output.

    Attributes:
      hidden: widths of the hidden layers (the protocol: 4 x 400).
      out: output dimension (2 for points).

    Under ``jax.pmap`` over the data axis the BatchNorm statistics are those of the global
    batch (``genjax.core.collectives.data_axis``).
    """

    hidden: tuple[int, ...] = (400, 400, 400, 400)
    out: int = 2

    @nn.compact
    def __call__(self, z: Array, train: bool) -> Array:
        """Maps latents ``(B, latent)`` to points ``(B, out)``."""
        x = z
        for width in self.hidden:
            x = nn.Dense(width, use_bias=False)(x)  # BatchNorm's offset replaces the bias
            x = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                             axis_name=data_axis())(x)
            x = nn.relu(x)
        return nn.Dense(self.out)(x)


class MaxoutDiscriminator(nn.Module):
    """Maxout layers (Goodfellow et al., 2013) then a linear logit.

    Attributes:
      hidden: widths of the maxout layers (the protocol: 3 x 200).
      pieces: affine pieces each maxout unit takes the maximum of (the protocol: 5).
      spectral_norm: spectrally normalise every dense layer (``u`` in ``batch_stats``).
    """

    hidden: tuple[int, ...] = (200, 200, 200)
    pieces: int = 5
    spectral_norm: bool = False

    @nn.compact
    def __call__(self, x: Array, train: bool) -> Array:
        """Scores inputs ``(B, d)`` (``d = 2 m`` when packed); returns float32 logits ``(B,)``."""
        h = x.reshape(x.shape[0], -1)
        for i, width in enumerate(self.hidden):
            h = dense(width * self.pieces, self.spectral_norm, name=f"maxout{i}")(h, train)
            h = jnp.max(h.reshape(h.shape[0], width, self.pieces), axis=-1)
        h = dense(1, self.spectral_norm, name="logit")(h, train)
        return h[:, 0].astype(jnp.float32)
