"""Fast (feed-forward) style transfer: a network trained with the perceptual loss.

Johnson, Alahi and Fei-Fei, "Perceptual losses for real-time style transfer and
super-resolution" (2016): for a batch ``x`` of content pictures, the network's output
``y = T(x)`` is scored by a frozen VGG-19 (:class:`genjax.nn.vgg.VGG19Features`) as in
``genjax style``:

    loss = content_weight * sum_l mse(phi_l(y), phi_l(x))            (content layers)
         + style_weight * sum_l mean((gram(phi_l(y)) - G_l)^2)        (style layers)
         + tv_weight * tv(y)

with ``G_l`` the Gram matrices of the one style picture (computed once, at build time) and
the terms of :mod:`genjax.losses.perceptual` on images mapped to [0, 1]. The frozen VGG-19
variables and the style Gram matrices are constants of the compiled step (not part of the
state: checkpoints hold only the transformer network and Adam's state).

The objective cannot sample (it is not generative); ``reconstruct`` stylises a batch, so the
training loop's ``samples/recon_step_*.png`` grids show test pictures above their stylised
versions, and ``genjax eval`` reports the held-out loss terms (``test_loss``, ...).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from genjax.core.objective import Capabilities
from genjax.core.state import TrainState, apply_updates
from genjax.losses.perceptual import content_loss, style_loss, total_variation


class Frozen:
    """A pytree of constants an objective closes over (frozen VGG-19 weights, Gram matrices).

    Compared and hashed by identity, so two objectives with different constants never share
    a compiled step.
    """

    def __init__(self, tree: Any):
        self.tree = tree


@dataclasses.dataclass(frozen=True)
class FastStyle:
    """Trains ``module`` (images in [-1, 1] -> stylised images in [-1, 1]) with the
    perceptual loss.

    Attributes:
      module: the transformer network (``genjax.families.fast_style.network.TransformerNet``).
      vgg: the loss network, returning at least ``content_layers`` and ``style_layers``.
      frozen: ``Frozen({"vgg": VGG variables, "grams": layer -> (1, C, C)})``.
      optimizer: the optax transformation.
      content_layers, style_layers: VGG-19 layer names.
      content_weight, style_weight, tv_weight: the loss weights.
      data_key: the image field of a batch.
    """

    module: nn.Module
    vgg: nn.Module
    frozen: Frozen
    optimizer: optax.GradientTransformation
    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    content_weight: float = 1.0
    style_weight: float = 1e6
    tv_weight: float = 10.0
    data_key: str = "image"
    capabilities: ClassVar[Capabilities] = Capabilities(
        sample=False, reconstruct=True,
        cannot_sample="a fast style-transfer network is not generative: it stylises given "
                      "pictures (the run's samples/recon_step_*.png grids show test pictures "
                      "above their stylised versions; genjax.load(RUN).reconstruct(images) "
                      "stylises (N, H, W, 3) images in [-1, 1])")

    def init(self, key: jax.Array, batch) -> TrainState:
        """The transformer's parameters and Adam's state from an example batch."""
        params = self.module.init(key, jnp.asarray(batch[self.data_key]))["params"]
        return TrainState.create(params, self.optimizer.init(params))

    def stylise(self, params, images: jax.Array) -> jax.Array:
        """The network's output for (B, H, W, 3) images in [-1, 1]."""
        return self.module.apply({"params": params}, images)

    def terms(self, params, images: jax.Array) -> dict[str, jax.Array]:
        """``loss`` and its ``content``, ``style`` and ``tv`` terms on a batch."""
        x01 = (images + 1.0) / 2.0
        y01 = (self.stylise(params, images) + 1.0) / 2.0
        constants = self.frozen.tree
        target = jax.lax.stop_gradient(self.vgg.apply(constants["vgg"], x01))
        features = self.vgg.apply(constants["vgg"], y01)
        content = sum((content_loss(features[n], target[n]) for n in self.content_layers),
                      jnp.zeros((), jnp.float32))
        style = style_loss(features, {n: constants["grams"][n] for n in self.style_layers})
        tv = total_variation(y01)
        loss = self.content_weight * content + self.style_weight * style + self.tv_weight * tv
        return {"loss": loss, "content": content, "style": style, "tv": tv}

    def train_step(self, state: TrainState, batch, key: jax.Array):
        """One Adam step on the perceptual loss; metrics: the loss terms."""
        del key  # deterministic
        images = batch[self.data_key]

        def loss_fn(params):
            terms = self.terms(params, images)
            return terms["loss"], terms

        (_, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        return state.replace(params=params, opt_state=opt_state), terms

    def eval_metrics(self, state: TrainState, batch, key: jax.Array):
        """The loss terms on a held-out batch."""
        del key
        return self.terms(state.params, batch[self.data_key])

    def reconstruct(self, state: TrainState, batch, key: jax.Array) -> jax.Array:
        """The stylised batch, images in [-1, 1]."""
        del key
        return self.stylise(state.params, batch[self.data_key])
