"""A supervised classifier trained with the same loop as every generative family.

It is the domain feature network of the evaluation suite (class coverage, domain FID) and
the proof that the loop does not know what it trains.
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
from genjax.families.classifier.network import cross_entropy


@dataclasses.dataclass(frozen=True)
class Classifier:
    """Softmax classification of ``batch[data_key]`` into ``batch[label_key]``.

    Attributes:
      module: a linen module ``(x, train, dropout_uniforms) -> logits`` with fields
        ``dropout`` (rate) and ``features`` (width of the dropped layer), as
        ``genjax.families.classifier.network.DigitClassifier``.
      optimizer: the optax transformation.
      data_key: input field.
      label_key: integer label field.

    Under ``jax.pmap`` the step averages gradients over the devices and draws dropout as on
    one device (see ``genjax.core.collectives``).
    """

    module: nn.Module
    optimizer: optax.GradientTransformation
    capabilities: ClassVar[Capabilities] = Capabilities(
        sample=False, cannot_sample="a classifier is not generative; it has no samples")
    data_key: str = "image"
    label_key: str = "label"

    def init(self, key: jax.Array, batch) -> TrainState:
        """Parameters and optimizer state from an example batch."""
        params = self.module.init(key, jnp.asarray(batch[self.data_key]), train=False)["params"]
        return TrainState.create(params, self.optimizer.init(params))

    def train_step(self, state: TrainState, batch, key: jax.Array):
        """One cross-entropy step; metrics: loss and batch accuracy.

        Dropout's uniforms are drawn for the global batch and sliced per device
        (``batch_random``), so a pmapped step equals the single-device one.
        """
        x = batch[self.data_key]
        uniforms = None
        if getattr(self.module, "dropout", 0) > 0:
            uniforms = batch_random(jax.random.uniform, key,
                                    (x.shape[0], self.module.features))

        def loss_fn(params):
            logits = self.module.apply({"params": params}, x, train=True,
                                       dropout_uniforms=uniforms)
            return cross_entropy(logits, batch[self.label_key]), logits

        (loss, logits), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        return state.replace(params=params, opt_state=opt_state), {
            "loss": loss, "accuracy": _accuracy(logits, batch[self.label_key])}

    def eval_metrics(self, state: TrainState, batch, key: jax.Array):
        """Loss and accuracy on a held-out batch (no dropout)."""
        logits = self.module.apply({"params": state.params}, batch[self.data_key], train=False)
        return {"loss": cross_entropy(logits, batch[self.label_key]),
                "accuracy": _accuracy(logits, batch[self.label_key])}

    def predict(self, params, images: jax.Array) -> jax.Array:
        """Class probabilities (B, classes)."""
        return jax.nn.softmax(self.module.apply({"params": params}, images, train=False))


def _accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    return jnp.mean((jnp.argmax(logits, -1) == labels).astype(jnp.float32))
