"""Small convolutional classifiers for digit images and spoken digits (the domain feature
networks)."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genjax.modalities.audio import FRAME, HOP, MEL_BANDS, mel_filterbank

#: Log-mel energies below this floor (natural log of power) are clipped: ~-92 dB under a
#: full-scale frame's power, below eSpeak's noise floor.
LOG_MEL_FLOOR = 1e-6


class DigitClassifier(nn.Module):
    """Conv(32)-Conv(32)-pool-Conv(64)-Conv(64)-pool-Dense(features)-Dense(classes), ReLU.

    ``__call__`` returns float32 logits; ``features`` returns the penultimate activations used
    for domain FID/KID.

    Dropout takes its randomness as an argument (``dropout_uniforms``), not from a flax rng
    stream, so the objective can draw it for the global batch (``genjax.core.collectives.
    batch_random``) and a pmapped step drops the same units as one device would.

    Attributes:
      num_classes: number of output classes.
      features: width of the penultimate (feature) layer.
      dropout: dropout rate before the last layer (training only).
      dtype: computation dtype of the layers (parameters stay float32; logits are float32).
    """

    num_classes: int = 10
    features: int = 128
    dropout: float = 0.3
    dtype: Any = jnp.float32

    def setup(self):
        self.convs = [nn.Conv(c, (3, 3), padding="SAME", dtype=self.dtype)
                      for c in (32, 32, 64, 64)]
        self.hidden = nn.Dense(self.features, dtype=self.dtype)
        self.head = nn.Dense(self.num_classes, dtype=self.dtype)

    def _embed(self, x: jax.Array) -> jax.Array:
        for i, conv in enumerate(self.convs):
            x = nn.relu(conv(x))
            if i % 2 == 1:
                x = nn.max_pool(x, (2, 2), (2, 2))
        return nn.relu(self.hidden(x.reshape((x.shape[0], -1))))

    def embed(self, x: jax.Array) -> jax.Array:
        """Penultimate features, (B, features), float32."""
        return self._embed(x).astype(jnp.float32)

    def __call__(self, x: jax.Array, train: bool = False,
                 dropout_uniforms: jax.Array | None = None) -> jax.Array:
        """Logits for images in [-1, 1].

        Args:
          x: images (B, H, W, C).
          train: apply dropout.
          dropout_uniforms: in training with ``dropout > 0``, U[0, 1) values (B, features);
            a unit is kept where its value is >= ``dropout`` (then scaled by 1/(1-dropout)).

        Returns:
          float32 logits (B, num_classes).
        """
        h = self._embed(x)
        if train and self.dropout > 0:
            if dropout_uniforms is None or dropout_uniforms.shape != h.shape:
                raise ValueError(
                    f"training with dropout needs dropout_uniforms of shape {h.shape} "
                    "(U[0, 1) per unit); Classifier.train_step draws them")
            keep = dropout_uniforms >= self.dropout
            h = jnp.where(keep, h / (1.0 - self.dropout), jnp.zeros((), h.dtype)).astype(h.dtype)
        return self.head(h).astype(jnp.float32)


def log_mel_frames(clips: jax.Array, bands: int = MEL_BANDS) -> jax.Array:
    """Log-mel power spectrograms ``(B, frames, bands)`` of clips ``(B, T)``: Hann frames of
    ``FRAME`` samples every ``HOP`` (``genjax.modalities.audio.log_mel``'s, in float32 JAX),
    HTK mel bands, natural log floored at ``LOG_MEL_FLOOR``."""
    clips = clips.astype(jnp.float32)
    frames = 1 + (clips.shape[1] - FRAME) // HOP
    index = np.arange(FRAME)[None, :] + HOP * np.arange(frames)[:, None]
    windowed = clips[:, index] * jnp.asarray(np.hanning(FRAME), jnp.float32)
    power = jnp.square(jnp.abs(jnp.fft.rfft(windowed, axis=-1)))
    mel = power @ jnp.asarray(mel_filterbank(bands).T, jnp.float32)
    return jnp.log(jnp.maximum(mel, LOG_MEL_FLOOR))


class SpokenDigitClassifier(DigitClassifier):
    """``DigitClassifier``'s conv net on a clip's log-mel spectrogram (frames x bands as an
    image), standardised per clip (zero mean, unit variance over the whole spectrogram: the
    level of a clip does not change its class; silence maps to zeros).

    Input: clips ``(B, T)`` in [-1, 1] (16 kHz, T >= ``FRAME``); the fields are
    ``DigitClassifier``'s.
    """

    def _embed(self, x: jax.Array) -> jax.Array:
        if x.ndim != 2 or x.shape[1] < FRAME:
            raise ValueError(f"the spoken-digit classifier takes clips (B, T >= {FRAME}), got "
                             f"shape {x.shape}")
        spec = log_mel_frames(x)
        mean = jnp.mean(spec, axis=(1, 2), keepdims=True)
        std = jnp.std(spec, axis=(1, 2), keepdims=True)
        spec = (spec - mean) / jnp.maximum(std, 1e-3)
        return super()._embed(spec[..., None].astype(self.dtype))


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy for integer labels (computed in float32)."""
    logp = jax.nn.log_softmax(logits.astype(jnp.float32))
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None].astype(jnp.int32), axis=1))
