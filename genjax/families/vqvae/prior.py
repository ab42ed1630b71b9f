"""The VQ-VAE's second stage: an autoregressive prior over its code grids, and sampling.

Training: each batch of images is encoded to code grids by the frozen VQ-VAE inside the step
(nearest codes of the encoder outputs), flattened in raster order (49 codes for a 7x7 grid)
and the prior (:class:`genjax.families.vqvae.prior_network.CodePrior`: the shared
:class:`genjax.nn.transformer.Transformer`) is trained by maximum likelihood (cross-entropy
per code, in nats).

Where the frozen VQ-VAE lives: the builder loads the VQ-VAE run's latest checkpoint and
``init`` copies its parameters and quantiser state into this run's
``TrainState.model_state["vqvae"]`` (``{"params": ..., "model_state": ...}``). They are
never updated, and they are saved in every checkpoint of the prior run, so ``genjax sample
PRIOR_DIR`` decodes with exactly the VQ-VAE the prior was trained on, even if the VQ-VAE run
trains further later. The VQ-VAE run folder is still read at build time for its config (the
architecture).

Sampling: codes are drawn one position at a time in one ``lax.scan`` over the Transformer's
key/value cache (position t from its logits / temperature, key ``fold_in(key, t)``), then
decoded by the frozen VQ-VAE to images in [-1, 1].
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import optax

from genjax.core.objective import Capabilities, SampleOption
from genjax.core.state import TrainState, apply_updates
from genjax.families.vqvae.objective import VQVAE
from genjax.families.vqvae.prior_network import CodePrior
from genjax.nn.decoding import generate

PyTree = Any


class HeldTree:
    """A pytree of arrays held by reference: equal and hashed by identity.

    An objective is a frozen dataclass, hashed and compared by its fields (``jax.jit`` caches
    on them); arrays are neither hashable nor comparable by ``==``, so the trained VQ-VAE's
    arrays travel in this holder. Two objectives holding different trees never compare equal.

    Attributes:
      tree: the held pytree.
    """

    def __init__(self, tree: PyTree):
        self.tree = tree


def code_nll(logits: jax.Array, codes: jax.Array) -> jax.Array:
    """Mean cross-entropy (nats per code) of int ``codes (B, T)`` under ``logits (B, T, K)``."""
    logp = jax.nn.log_softmax(logits, -1)
    return -jnp.mean(jnp.take_along_axis(logp, codes[..., None], axis=-1))


@dataclasses.dataclass(frozen=True)
class VQVAEPrior:
    """An autoregressive prior over the code grids of a frozen, trained VQ-VAE.

    Attributes:
      vqvae: the trained VQ-VAE's objective (its modules and codebook variant).
      prior: the code model; its ``length`` is the number of grid positions.
      optimizer: optax transformation for the prior.
      frozen: ``HeldTree({"params": ..., "model_state": ...})`` of the trained VQ-VAE,
        copied into the state by ``init`` (checkpoints then carry it).
      data_key: the batch field with the images.

    Under ``jax.pmap`` the step averages gradients over the devices
    (``genjax.core.state.apply_updates``).
    """

    vqvae: VQVAE
    prior: CodePrior
    optimizer: optax.GradientTransformation
    frozen: HeldTree
    capabilities: ClassVar[Capabilities] = Capabilities(test_metrics=True, sample_options=(
        SampleOption("temperature", float, "softmax temperature of the code prior (default 1)"),))
    data_key: str = "image"

    def grid_codes(self, state: TrainState, images: jax.Array) -> jax.Array:
        """Flattened code grids ``(B, T)`` of images, with the state's frozen VQ-VAE."""
        vq = state.model_state["vqvae"]
        codes = self.vqvae.codes(vq["params"], vq["model_state"], images)
        return codes.reshape(codes.shape[0], -1)

    def init(self, key: jax.Array, batch: dict[str, jax.Array]) -> TrainState:
        """Prior parameters, and a copy of the frozen VQ-VAE in ``model_state["vqvae"]``."""
        images = jnp.asarray(batch[self.data_key])
        vq = jax.tree.map(jnp.asarray, self.frozen.tree)
        grid = jax.eval_shape(
            lambda v: self.vqvae.codes(v["params"], v["model_state"], images), vq)
        length = math.prod(grid.shape[1:])
        if length != self.prior.length:
            raise ValueError(f"the VQ-VAE's code grid {grid.shape[1:]} has {length} positions "
                             f"but the prior models {self.prior.length}")
        params = self.prior.init(key, jnp.zeros((images.shape[0], length), jnp.int32))["params"]
        return TrainState.create(params, self.optimizer.init(params), {"vqvae": vq})

    def train_step(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """One maximum-likelihood step on the batch's code grids.

        Returns:
          ``(state, metrics)``: ``nll`` (nats per code) and ``bits_per_image``
          (``nll * T / ln 2``, the code grid's description length).
        """
        codes = self.grid_codes(state, batch[self.data_key])

        def loss_fn(params):
            return code_nll(self.prior.apply({"params": params}, codes), codes)

        nll, grads = jax.value_and_grad(loss_fn)(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        return state.replace(params=params, opt_state=opt_state), self._nll_metrics(nll)

    def _nll_metrics(self, nll: jax.Array) -> dict[str, jax.Array]:
        return {"nll": nll, "bits_per_image": nll * self.prior.length / math.log(2.0)}

    def test_metrics(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """Held-out ``nll`` (nats per code) and ``bits_per_image`` of the test code grids."""
        codes = self.grid_codes(state, batch[self.data_key])
        return self._nll_metrics(code_nll(self.prior.apply({"params": state.params}, codes),
                                          codes))

    def eval_metrics(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """The same numbers as :meth:`test_metrics`."""
        return self.test_metrics(state, batch, key)

    def sample_codes(self, params: PyTree, key: jax.Array, num: int,
                     temperature: float = 1.0) -> jax.Array:
        """``num`` code sequences ``(num, T)`` drawn position by position in one ``lax.scan``
        over the prior's cached ``decode`` (:func:`genjax.nn.decoding.generate`).

        Args:
          params: the prior's parameters.
          key: PRNG key; position t uses ``fold_in(key, t)``.
          num: number of sequences.
          temperature: logits are divided by it (1: the model's distribution).

        Returns:
          int32 codes.
        """
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        # the start token, then T positions decoded with the key/value cache in one scan
        prompt = jnp.full((num, self.prior.length + 1), self.prior.start_token, jnp.int32)
        out = generate(self.prior, params, prompt, jnp.asarray(1), key,
                       jnp.asarray(temperature, jnp.float32), jnp.asarray(0), jnp.asarray(1.0))
        return out[:, 1:]

    def sample(self, state: TrainState, key: jax.Array, num: int,
               temperature: float = 1.0) -> jax.Array:
        """``num`` new images in [-1, 1]: prior samples of code grids, decoded by the VQ-VAE."""
        codes = self.sample_codes(state.params, key, num, temperature)
        side = math.isqrt(self.prior.length)
        vq = state.model_state["vqvae"]
        return self.vqvae.decode(vq["params"], vq["model_state"], codes.reshape(num, side, side))
