"""A small convolutional classifier for digit images (the domain feature network)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


class DigitClassifier(nn.Module):
    """Conv(32)-Conv(32)-pool-Conv(64)-Conv(64)-pool-Dense(features)-Dense(classes), ReLU.

    ``__call__`` returns logits; ``features`` returns the penultimate activations used for
    domain FID/KID.

    Attributes:
      num_classes: number of output classes.
      features: width of the penultimate (feature) layer.
      dropout: dropout rate before the last layer (training only).
    """

    num_classes: int = 10
    features: int = 128
    dropout: float = 0.3

    def setup(self):
        self.convs = [nn.Conv(c, (3, 3), padding="SAME") for c in (32, 32, 64, 64)]
        self.hidden = nn.Dense(self.features)
        self.head = nn.Dense(self.num_classes)
        self.drop = nn.Dropout(self.dropout)

    def embed(self, x: jax.Array) -> jax.Array:
        """Penultimate features, (B, features)."""
        for i, conv in enumerate(self.convs):
            x = nn.relu(conv(x))
            if i % 2 == 1:
                x = nn.max_pool(x, (2, 2), (2, 2))
        return nn.relu(self.hidden(x.reshape((x.shape[0], -1))))

    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        """Logits (B, num_classes) for images (B, H, W, C) in [-1, 1]."""
        h = self.drop(self.embed(x), deterministic=not train)
        return self.head(h)


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy for integer labels."""
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None].astype(jnp.int32), axis=1))
