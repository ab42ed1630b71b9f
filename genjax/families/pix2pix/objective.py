"""pix2pix: a conditional GAN with an L1 term, translating ``batch["source"]`` into the data.

One jitted step owns both updates (two optax states in one TrainState), as the GAN family's:

1. the generator translates the sources once, ``fake = G(source)`` (train mode: dropout on);
2. D's update: ``d_scale * loss.d(D(source, image), D(source, stop_grad(fake)))``, the
   paper halving D's objective (``d_scale = 0.5``);
3. G's update against the updated D: ``loss.g(D(source, fake)) + l1_weight * mean|fake -
   image|`` (the paper: non-saturating loss, ``l1_weight = 100``), its gradient pulled back
   through the same forward pass (``jax.vjp``), so G runs once per step.

The losses are the GAN family's (:mod:`genjax.losses.adversarial`), applied to the mean over
every patch logit of the PatchGAN.

Translation is deterministic (``reconstruct``: eval mode, no dropout). pix2pix has no
unconditional ``sample``: ``genjax eval`` judges its translations of the test split's
sources instead (``Capabilities.reconstruct_from``). ``test_metrics`` reports L1 and PSNR
of the translations against the targets in [0, 1] pixel units, and those of the sources
themselves (``*_identity``: what returning the input scores; a floor for inpainting).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import optax

from genjax.core.collectives import device_key
from genjax.core.objective import Capabilities
from genjax.core.state import TrainState, apply_updates
from genjax.data.pairing import SOURCE_KEY
from genjax.losses.adversarial import LOSSES
from genjax.metrics.pixels import mean_absolute_error, psnr


def unit(images: jax.Array) -> jax.Array:
    """[-1, 1] images -> [0, 1]."""
    return (jnp.asarray(images, jnp.float32) + 1.0) / 2.0


@dataclasses.dataclass(frozen=True)
class Pix2Pix:
    """Paired image-to-image translation (module docstring).

    Attributes:
      generator: ``G(source, train) -> image``, e.g.
        :class:`genjax.families.pix2pix.networks.UNetGenerator`.
      discriminator: ``D(source, image) -> patch logits (B, ...)``, e.g.
        :class:`genjax.families.pix2pix.networks.PatchDiscriminator`.
      g_optimizer: G's optax transformation.
      d_optimizer: D's optax transformation.
      loss: the adversarial loss pair by name (``genjax.losses.adversarial.LOSSES``).
      l1_weight: the weight of the L1 term in G's loss (the paper's lambda).
      d_scale: the factor on D's loss (the paper: 0.5).
      data_key: the batch key of the targets (the modality's batch key).
    """

    capabilities: ClassVar[Capabilities] = Capabilities(
        sample=False, reconstruct=True, test_metrics=True, reconstruct_from=SOURCE_KEY,
        cannot_sample="pix2pix translates source images and draws nothing unconditionally: "
                      "`genjax eval` judges its translations of the test split's sources, and "
                      "its training grids (samples/recon_step_*.png) show source | output | "
                      "target")

    generator: Any
    discriminator: Any
    g_optimizer: optax.GradientTransformation
    d_optimizer: optax.GradientTransformation
    loss: str = "non_saturating"
    l1_weight: float = 100.0
    d_scale: float = 0.5
    data_key: str = "image"

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.l1_weight < 0 or self.d_scale <= 0:
            raise ValueError(f"l1_weight must be >= 0 and d_scale > 0, got {self.l1_weight} "
                             f"and {self.d_scale}")

    def _pair(self, batch: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
        if SOURCE_KEY not in batch:
            raise ValueError(f"pix2pix trains on paired batches with a {SOURCE_KEY!r} field; "
                             "set --config.data.pairing=edges or inpaint")
        source, image = batch[SOURCE_KEY], batch[self.data_key]
        if source.shape[:3] != image.shape[:3]:
            raise ValueError(f"sources {source.shape} and images {image.shape} differ in size")
        return jnp.asarray(source, jnp.float32), jnp.asarray(image, jnp.float32)

    def init(self, key: jax.Array, batch: dict[str, jax.Array]) -> TrainState:
        source, image = self._pair(batch)
        kg, kd, kdrop = jax.random.split(key, 3)
        gp = self.generator.init({"params": kg, "dropout": kdrop}, source, train=False)["params"]
        dp = self.discriminator.init(kd, source, image)["params"]
        if jax.eval_shape(lambda: self.generator.apply({"params": gp}, source, train=False)
                          ).shape != image.shape:
            raise ValueError(f"the generator makes images of another shape than the targets "
                             f"{image.shape}; give model.channels the data's channels")
        return TrainState.create(
            params={"generator": gp, "discriminator": dp},
            opt_state={"generator": self.g_optimizer.init(gp),
                       "discriminator": self.d_optimizer.init(dp)})

    def _translate(self, gp, source, train: bool, key: jax.Array | None = None) -> jax.Array:
        rngs = {"dropout": device_key(key)} if train else {}
        return self.generator.apply({"params": gp}, source, train=train, rngs=rngs)

    def _logits(self, dp, source, image) -> jax.Array:
        return self.discriminator.apply({"params": dp}, source, image).reshape(-1)

    def train_step(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """D's update, then G's against the updated D (module docstring).

        Returns:
          ``(state, metrics)``: ``d_loss``, ``g_loss`` (the whole G objective), ``g_gan``,
          ``g_l1`` (mean absolute error in [-1, 1] units), ``d_real`` / ``d_fake`` (mean
          probabilities, cross-entropy losses) or ``d_real_score`` / ``d_fake_score``.
        """
        loss = LOSSES[self.loss]
        source, image = self._pair(batch)
        gp, dp = state.params["generator"], state.params["discriminator"]
        fake, pull_back = jax.vjp(lambda p: self._translate(p, source, True, key), gp)

        def d_objective(p):
            real_logits = self._logits(p, source, image)
            fake_logits = self._logits(p, source, jax.lax.stop_gradient(fake))
            return self.d_scale * loss.d(real_logits, fake_logits), (real_logits, fake_logits)

        (d_loss, (real_logits, fake_logits)), d_grads = jax.value_and_grad(
            d_objective, has_aux=True)(dp)
        dp, d_opt = apply_updates(self.d_optimizer, d_grads, state.opt_state["discriminator"],
                                  dp)

        def g_objective(x):
            gan = loss.g(self._logits(dp, source, x))
            l1 = jnp.mean(jnp.abs(x - image))
            return gan + self.l1_weight * l1, (gan, l1)

        (g_loss, (g_gan, g_l1)), fake_grad = jax.value_and_grad(g_objective, has_aux=True)(fake)
        (g_grads,) = pull_back(fake_grad)
        gp, g_opt = apply_updates(self.g_optimizer, g_grads, state.opt_state["generator"], gp)
        new_state = state.replace(
            params={"generator": gp, "discriminator": dp},
            opt_state={"generator": g_opt, "discriminator": d_opt})
        metrics = {"d_loss": d_loss, "g_loss": g_loss, "g_gan": g_gan, "g_l1": g_l1}
        metrics.update(loss.critic_metrics(real_logits, fake_logits))
        return new_state, metrics

    def reconstruct(self, state: TrainState, batch: dict[str, jax.Array],
                    key: jax.Array) -> jax.Array:
        """The translations of ``batch["source"]`` (eval mode: no dropout), float32 in
        [-1, 1]."""
        del key
        if SOURCE_KEY not in batch:
            raise ValueError(f"pix2pix translates batch[{SOURCE_KEY!r}]; this batch has "
                             f"{sorted(batch)} (set --config.data.pairing=edges or inpaint)")
        source = jnp.asarray(batch[SOURCE_KEY], jnp.float32)
        return self._translate(state.params["generator"], source, False).astype(jnp.float32)

    def test_metrics(self, state: TrainState, batch: dict[str, jax.Array],
                     key: jax.Array) -> dict[str, jax.Array]:
        """Batch means of per-image ``l1`` (mean absolute error) and ``psnr`` (dB) of the
        translations against the targets, in [0, 1] pixel units, and ``l1_identity`` /
        ``psnr_identity`` of the sources themselves."""
        source, image = self._pair(batch)
        out, target = unit(self.reconstruct(state, batch, key)), unit(image)
        return {"l1": jnp.mean(mean_absolute_error(out, target)),
                "psnr": jnp.mean(psnr(out, target)),
                "l1_identity": jnp.mean(mean_absolute_error(unit(source), target)),
                "psnr_identity": jnp.mean(psnr(unit(source), target))}

    def eval_metrics(self, state: TrainState, batch: dict[str, jax.Array],
                     key: jax.Array) -> dict[str, jax.Array]:
        """Held-out ``l1`` and ``psnr`` (as ``test_metrics``) and D's loss on the batch."""
        loss = LOSSES[self.loss]
        source, image = self._pair(batch)
        fake = self.reconstruct(state, batch, key)
        dp = state.params["discriminator"]
        d_loss = self.d_scale * loss.d(self._logits(dp, source, image),
                                       self._logits(dp, source, fake))
        return {"l1": jnp.mean(mean_absolute_error(unit(fake), unit(image))),
                "psnr": jnp.mean(psnr(unit(fake), unit(image))), "d_loss": d_loss}
