"""GANs: a generator and a discriminator trained by alternating updates in one jitted step.

The step owns both updates (two optax states in one TrainState); the loop never knows.
Everything a GAN recipe varies is a typed field of :class:`GAN`:

* ``loss``: the adversarial loss pair, by name (:data:`LOSSES`): ``minimax`` (the article's
  formula), ``non_saturating``, ``hinge``, ``least_squares``, ``wasserstein``.
* ``gp_weight`` (WGAN-GP's lambda) and ``r1_weight`` (R1's gamma): penalties on D, composable
  with any loss (:func:`gradient_penalty`, :func:`r1_penalty`).
* ``label_smoothing``: one-sided label smoothing of D's real targets (probabilistic losses).
* ``n_critic``: D updates per G update (see ``train_step`` for which data each one sees).
* ``ema_decay``: an EMA of G's weights, used by ``sample`` and ``eval_metrics``.
* ``standing_stats``: sample with G's BatchNorm statistics computed on the fly from fresh
  latents (BigGAN's "standing statistics") instead of the running averages.
* ``freeze_g_stats_at``: from that step on G's BatchNorm layers run in eval mode in training
  too, on the running averages they had then (frozen BatchNorm).
* ``augment``: DiffAugment policies applied to every D input, real and fake
  (:mod:`genjax.families.gan.diffaugment`).
* ``pack``: PacGAN's packing degree m: D judges m samples at once (:func:`pack`).
* ``instance_noise``: Gaussian noise added to every D input, real and fake, its std annealed
  linearly to 0 over ``instance_noise_steps`` (:func:`instance_noise_std`).

Spectral normalisation is a property of the discriminator module (its power-iteration
vectors live in ``model_state``, see :mod:`genjax.families.gan.mlp`); conditioning on labels is
:class:`ConditionalGAN`; progressive growing is :class:`ProgressiveGAN`.

Losses take discriminator outputs (logits), never probabilities, so they stay finite where
a sigmoid saturates.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from genjax.core.collectives import batch_random
from genjax.core.objective import LABEL, Capabilities
from genjax.core.state import TrainState, apply_updates, ema_update, warmed_up_decay
from genjax.families.gan.diffaugment import diff_augment, validate_policy
from genjax.losses.adversarial import (  # noqa: F401 - the GAN's loss vocabulary
    G_LOSSES,
    LOSSES,
    GANLoss,
    d_loss_from_logits,
    d_loss_hinge,
    d_loss_least_squares,
    d_loss_wasserstein,
    g_loss_hinge,
    g_loss_least_squares,
    g_loss_minimax,
    g_loss_non_saturating,
    g_loss_wasserstein,
    gradient_penalty,
    label_smoothing_term,
    r1_penalty,
)


def instance_noise_std(step: jax.Array, start: float, steps: int) -> jax.Array:
    """The instance-noise std at ``step``: ``start`` at step 0, falling linearly to 0 at
    ``steps`` and 0 after."""
    frac = jnp.clip(1.0 - jnp.asarray(step, jnp.float32) / steps, 0.0, 1.0)
    return start * frac


# -- PacGAN packing ----------------------------------------------------------------------------


def pack(x: jax.Array, m: int) -> jax.Array:
    """PacGAN packing: ``m`` consecutive samples become one D input, concatenated on the last
    (feature / channel) axis.

    Args:
      x: samples ``(B, ..., C)``; points ``(B, 2)`` or images ``(B, H, W, C)``.
      m: packing degree; must divide ``B``.

    Returns:
      ``(B // m, ..., m * C)``; row ``j`` holds samples ``j*m .. j*m + m - 1`` in order.

    Raises:
      ValueError: if ``m`` does not divide the batch.
    """
    if m == 1:
        return x
    b = x.shape[0]
    if b % m:
        raise ValueError(f"PacGAN packing m={m} needs a batch divisible by {m}, got {b}; "
                         f"set train.batch_size to a multiple of {m}")
    grouped = x.reshape((b // m, m) + x.shape[1:])  # (B/m, m, ..., C)
    grouped = jnp.moveaxis(grouped, 1, -2)  # (B/m, ..., m, C)
    return grouped.reshape(grouped.shape[:-2] + (m * x.shape[-1],))


# -- the objective -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GAN:
    """A GAN objective over any generator/discriminator pair of linen modules.

    The generator maps ``z: (B, latent_dim)`` to data, the discriminator maps data to
    outputs ``(B,)``; both take ``train: bool`` and may keep collections (BatchNorm
    statistics, spectral-norm vectors) that the step carries in ``state.model_state``.

    Attributes:
      generator: the generator module.
      discriminator: the discriminator module (its input has ``pack`` times the channels).
      latent_dim: size of z ~ N(0, I).
      g_optimizer: optax transformation for the generator.
      d_optimizer: optax transformation for the discriminator.
      loss: adversarial loss name, one of :data:`LOSSES`.
      gp_weight: WGAN-GP lambda (0: off).
      r1_weight: R1 gamma; the penalty added is ``gamma / 2 * E||grad D(x)||^2`` (0: off).
      label_smoothing: real target ``1 - s`` in D's cross-entropy (0: off; ``minimax`` and
        ``non_saturating`` only): ``genjax.losses.adversarial.label_smoothing_term``.
      n_critic: D updates per G update.
      ema_decay: if set, keep an EMA of the generator's parameters and sample from it
        (decay warmed up: ``genjax.core.state.warmed_up_decay``).
      augment: DiffAugment policies (``"color"``, ``"translation"``, ``"cutout"``) for D.
      pack: PacGAN packing degree (1: off).
      instance_noise: std of the Gaussian noise added to every D input, real and fake, at
        step 0 (instance noise, Sonderby et al. 2017; Arjovsky & Bottou 2017); it falls
        linearly to 0 at ``instance_noise_steps`` (:func:`instance_noise_std`). Both
        distributions blurred by the same noise overlap, so D's gradient reaches every
        sample early on; as the noise shrinks G's mass is pulled onto ever finer detail
        (0: off). In data units, after augmentation and before packing.
      instance_noise_steps: the step at which the noise reaches 0 (> 0 when it is on).
      standing_stats: if > 0, ``sample`` (and ``eval_metrics``) run G's BatchNorm layers in
        eval mode on "standing statistics" (BigGAN) of the weights being sampled, not on the
        running averages: the batch statistics of this many fresh latents, taken in batches
        of ``standing_batch`` (as in training) and averaged. The running averages belong to
        the raw G, taken on training batches while it moved; an EMA of G never had its own
        (``benchmarks/RESULTS.md``, issue 16: on the 2D ring this doubles the share of sharp
        samples). For generators whose collections are BatchNorm statistics.
      standing_batch: the batch size of those statistics (0: all ``standing_stats`` latents in
        one batch); set it to the training batch size.
      freeze_g_stats_at: from this step on, G's BatchNorm layers run in eval mode in the
        training step too, on the running averages they had at that step, which then stay
        fixed (0: never). D then judges G's outputs without the batch-statistic noise that
        moves every sample of a batch together (on the 2D ring it keeps samples ~5 std off
        their modes; ``benchmarks/RESULTS.md``, issue 16), and ``sample`` uses the
        statistics G trained with. For generators whose collections are BatchNorm statistics.
      data_key: the batch field holding real data (``"image"`` or ``"point"``).

    Under ``jax.pmap`` (``genjax.core.parallel.make_pmap_step``) the step averages gradients
    over the devices and draws its randomness as on one device, through
    ``genjax.core.collectives``; modules with BatchNorm read the same axis themselves.
    """

    generator: nn.Module
    discriminator: nn.Module
    latent_dim: int
    g_optimizer: optax.GradientTransformation
    d_optimizer: optax.GradientTransformation
    loss: str = "non_saturating"
    gp_weight: float = 0.0
    r1_weight: float = 0.0
    label_smoothing: float = 0.0
    n_critic: int = 1
    ema_decay: float | None = None
    augment: tuple[str, ...] = ()
    pack: int = 1
    instance_noise: float = 0.0
    instance_noise_steps: int = 0
    standing_stats: int = 0
    standing_batch: int = 0
    freeze_g_stats_at: int = 0
    capabilities: ClassVar[Capabilities] = Capabilities(latents=True)
    data_key: str = "image"

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"unknown GAN loss {self.loss!r}; choose one of {sorted(LOSSES)}")
        if self.n_critic < 1:
            raise ValueError(f"n_critic must be >= 1, got {self.n_critic}")
        if self.pack < 1:
            raise ValueError(f"pack must be >= 1, got {self.pack}")
        if self.gp_weight < 0 or self.r1_weight < 0:
            raise ValueError("gp_weight and r1_weight must be >= 0")
        if self.standing_stats < 0 or self.standing_batch < 0:
            raise ValueError(f"standing_stats and standing_batch must be >= 0 (0: running "
                             f"averages / one batch), got {self.standing_stats}, "
                             f"{self.standing_batch}")
        if self.freeze_g_stats_at < 0:
            raise ValueError(f"freeze_g_stats_at must be >= 0 (0: never), got "
                             f"{self.freeze_g_stats_at}")
        if self.instance_noise < 0 or (self.instance_noise and self.instance_noise_steps < 1):
            raise ValueError(f"instance_noise must be >= 0 (0: off) and, when on, annealed "
                             f"over instance_noise_steps >= 1; got {self.instance_noise}, "
                             f"{self.instance_noise_steps}")
        if self.standing_batch and self.standing_stats % self.standing_batch:
            raise ValueError(f"standing_stats ({self.standing_stats}) must be a multiple of "
                             f"standing_batch ({self.standing_batch})")
        validate_policy(self.augment)
        if not 0.0 <= self.label_smoothing < 0.5:
            raise ValueError(f"label_smoothing must be in [0, 0.5) (the real target is "
                             f"1 - label_smoothing), got {self.label_smoothing}")
        if self.label_smoothing and not LOSSES[self.loss].probabilistic:
            raise ValueError(f"label_smoothing smooths a cross-entropy target; the {self.loss!r} "
                             "loss has none: use loss 'non_saturating' or 'minimax', or set "
                             "label_smoothing to 0")

    # -- hooks for subclasses ------------------------------------------------------------------
    def _real_labels(self, batch: dict[str, jax.Array]) -> jax.Array | None:
        """Labels that condition the networks on real data (None: unconditional)."""
        return None

    def _random_labels(self, key: jax.Array, n: int) -> jax.Array | None:
        """Labels for the generator's fresh samples in its own update (None: unconditional)."""
        return None

    # -- helpers -------------------------------------------------------------------------------
    def _latents(self, key: jax.Array, n: int) -> jax.Array:
        return batch_random(jax.random.normal, key, (n, self.latent_dim))

    def _apply(self, module: nn.Module, params, model_state, x, train: bool, **kwargs):
        """Runs a module (keyword inputs that are None are left out); in train mode it also
        returns the module's updated collections (BatchNorm statistics, spectral-norm ``u``)."""
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        variables = {"params": params, **model_state}
        if train and model_state:
            out, new_state = module.apply(variables, x, train=True, mutable=list(model_state),
                                          **kwargs)
            return out, dict(new_state)
        return module.apply(variables, x, train=train, **kwargs), model_state

    def _run_generator(self, params, model_state, z, step, labels, extra):
        """G in training: BatchNorm on batch statistics (updating the running averages), or
        from ``freeze_g_stats_at`` on in eval mode on the frozen averages."""
        def batch_mode(p):
            return self._apply(self.generator, p, model_state, z, True, labels=labels, **extra)

        if not self.freeze_g_stats_at or not model_state:
            return batch_mode(params)

        def frozen(p):
            return self._apply(self.generator, p, model_state, z, False, labels=labels,
                               **extra)

        return jax.lax.cond(step < self.freeze_g_stats_at, batch_mode, frozen, params)

    def _d_input(self, x: jax.Array, key: jax.Array, step: jax.Array) -> jax.Array:
        """What D sees of a batch at ``step``: DiffAugmented, plus instance noise (fresh draws
        per call), then packed."""
        if self.augment:
            x = diff_augment(x, key, self.augment)
        if self.instance_noise:
            std = instance_noise_std(step, self.instance_noise, self.instance_noise_steps)
            noise = batch_random(jax.random.normal, jax.random.fold_in(key, 1), x.shape)
            x = x + std.astype(x.dtype) * noise.astype(x.dtype)
        return pack(x, self.pack)

    def _g_params(self, state: TrainState):
        return state.ema_params if self.ema_decay is not None else state.params["generator"]

    # -- Objective protocol --------------------------------------------------------------------
    def init(self, key: jax.Array, batch: dict[str, jax.Array], **module_kwargs) -> TrainState:
        """Initialises both networks from an example batch."""
        real = jnp.asarray(batch[self.data_key])
        labels = self._real_labels(batch)
        kg, kd, kz = jax.random.split(key, 3)
        z = self._latents(kz, real.shape[0])
        lab = {} if labels is None else {"labels": labels}
        g_vars = dict(self.generator.init(kg, z, train=False, **lab, **module_kwargs))
        d_in = pack(real, self.pack)
        d_vars = dict(self.discriminator.init(kd, d_in, train=False, **lab, **module_kwargs))
        params = {"generator": g_vars.pop("params"), "discriminator": d_vars.pop("params")}
        opt_state = {
            "generator": self.g_optimizer.init(params["generator"]),
            "discriminator": self.d_optimizer.init(params["discriminator"]),
        }
        model_state = {"generator": g_vars, "discriminator": d_vars}
        ema = params["generator"] if self.ema_decay is not None else None
        return TrainState.create(params, opt_state, model_state, ema)

    def train_step(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """``n_critic`` D updates, then one G update.

        Every D update reuses this step's real batch (the loop gives one batch per step) with
        fresh latents, fresh augmentations and fresh penalty weights. Randomness:
        ``keys = split(key, n_critic + 1)``; D update i uses ``split(keys[i], 4)`` as (latents,
        real augmentation, fake augmentation, interpolation weights); the G update uses
        ``split(keys[-1], 3)`` as (latents, labels, augmentation); instance noise draws from
        ``fold_in(augmentation key, 1)``. Penalty passes run D in
        train mode but do not move its collections.

        Returns:
          ``(state, metrics)``: d_loss (adversarial part), g_loss, gp / r1 when on, and D's
          mean probability (``d_real``, ``d_fake``) for probabilistic losses or mean output
          (``d_real_score``, ``d_fake_score``) otherwise.
        """
        return self._train_step(state, batch, key, {})

    def _train_step(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array,
                    extra: dict[str, Any]):
        """``train_step`` with extra keyword inputs for both networks (e.g. growth level)."""
        loss = LOSSES[self.loss]
        real = batch[self.data_key]
        n = real.shape[0]
        labels = self._real_labels(batch)
        gp, dp = state.params["generator"], state.params["discriminator"]
        gs, ds = state.model_state["generator"], state.model_state["discriminator"]
        d_opt = state.opt_state["discriminator"]
        keys = jax.random.split(key, self.n_critic + 1)

        def run_d(dp, ds, x, train=True):
            return self._apply(self.discriminator, dp, ds, x, train, labels=labels, **extra)

        for i in range(self.n_critic):
            kz, kar, kaf, kw = jax.random.split(keys[i], 4)
            # fakes for D share the real batch's labels (pairs for the gradient penalty)
            fake, gs = self._run_generator(gp, gs, self._latents(kz, n), state.step, labels,
                                           extra)
            fake = jax.lax.stop_gradient(fake)
            real_in = self._d_input(real, kar, state.step)
            fake_in = self._d_input(fake, kaf, state.step)

            def d_objective(dp, ds=ds, real_in=real_in, fake_in=fake_in, kw=kw):
                real_logits, ds1 = run_d(dp, ds, real_in)
                fake_logits, ds2 = run_d(dp, ds1, fake_in)
                adv = loss.d(real_logits, fake_logits)
                if self.label_smoothing:
                    adv = adv + label_smoothing_term(real_logits, self.label_smoothing)
                total, terms = adv, {}

                def critic(x):
                    return run_d(dp, ds, x)[0]

                if self.gp_weight:
                    w = batch_random(jax.random.uniform, kw, (real_in.shape[0],))
                    terms["gp"] = gradient_penalty(critic, real_in, fake_in, w)
                    total = total + self.gp_weight * terms["gp"]
                if self.r1_weight:
                    terms["r1"] = r1_penalty(critic, real_in)
                    total = total + 0.5 * self.r1_weight * terms["r1"]
                return total, (ds2, adv, terms, real_logits, fake_logits)

            (_, (ds, d_loss, terms, real_logits, fake_logits)), d_grads = jax.value_and_grad(
                d_objective, has_aux=True)(dp)
            dp, d_opt = apply_updates(self.d_optimizer, d_grads, d_opt, dp)

        # Generator: fresh noise (and labels), through the updated discriminator.
        kz, kl, ka = jax.random.split(keys[-1], 3)
        z = self._latents(kz, n)
        g_labels = self._random_labels(kl, n)

        def g_objective(gp):
            fake, gs1 = self._run_generator(gp, gs, z, state.step, g_labels, extra)
            d_in = self._d_input(fake, ka, state.step)
            logits, ds1 = self._apply(self.discriminator, dp, ds, d_in, True,
                                      labels=g_labels, **extra)
            return loss.g(logits), (gs1, ds1)

        (g_loss, (gs, ds)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(gp)
        gp, g_opt = apply_updates(self.g_optimizer, g_grads, state.opt_state["generator"], gp)

        ema = state.ema_params
        if self.ema_decay is not None:
            ema = ema_update(ema, gp, warmed_up_decay(self.ema_decay, state.step))
        new_state = state.replace(
            params={"generator": gp, "discriminator": dp},
            opt_state={"generator": g_opt, "discriminator": d_opt},
            model_state={"generator": gs, "discriminator": ds},
            ema_params=ema,
        )
        metrics = {"d_loss": d_loss, "g_loss": g_loss, **terms}
        metrics.update(loss.critic_metrics(real_logits, fake_logits))
        return new_state, metrics

    def sample(self, state: TrainState, key: jax.Array, num: int) -> jax.Array:
        """``num`` float32 samples from the generator (its EMA when kept), in eval mode."""
        return self._sample(state, key, num, None, {})

    def prior_latents(self, state: TrainState, key: jax.Array, num: int) -> jax.Array:
        """The ``z ~ N(0, I)``, ``(num, latent_dim)``, that ``sample`` feeds the generator."""
        return self._latents(key, num)

    def decode_latents(self, state: TrainState, z: jax.Array) -> jax.Array:
        """The generator's float32 outputs for latents ``z (N, latent_dim)`` (eval mode)."""
        return self._decode(state, z, None, {})

    def _sample(self, state: TrainState, key: jax.Array, num: int, labels, extra):
        return self._decode(state, self._latents(key, num), labels, extra,
                            jax.random.fold_in(key, 1))

    def _decode(self, state: TrainState, z: jax.Array, labels, extra,
                standing_key: jax.Array | None = None):
        """G's float32 outputs for latents ``z`` in eval mode: BatchNorm on the running
        averages, or with ``standing_stats`` on the statistics of that many fresh latents
        drawn with ``standing_key`` (default a fixed key, so ``decode_latents`` is a function
        of ``z``; ``sample`` draws them from its own key)."""
        params, model_state = self._g_params(state), state.model_state["generator"]
        if self.standing_stats and model_state:
            key = jax.random.PRNGKey(0) if standing_key is None else standing_key
            model_state = self._standing_state(params, model_state, key, labels, extra)
        out, _ = self._apply(self.generator, params, model_state, z, False, labels=labels,
                             **extra)
        return out.astype(jnp.float32)

    def _standing_state(self, params, model_state, key, labels, extra):
        """G's BatchNorm statistics for ``params``: the mean over batches of
        ``standing_batch`` fresh latents (labels repeated) of each batch's statistics.

        A train-mode call returns ``m * old + (1 - m) * stat`` for the momentum ``m``; called
        from old = 0 and old = 1 it gives both ``(1 - m) * stat`` and ``m``, so no module's
        momentum needs knowing.
        """
        size = self.standing_batch or self.standing_stats
        z = self._latents(key, self.standing_stats).reshape(-1, size, self.latent_dim)
        if labels is not None:
            labels = jnp.resize(labels, (self.standing_stats,)).reshape(-1, size)

        def batch_stats(zb, lb):
            def run(fill):
                start = jax.tree.map(lambda v: jnp.full_like(v, fill), model_state)
                return self._apply(self.generator, params, start, zb, True, labels=lb,
                                   **extra)[1]
            from_zero, from_one = run(0.0), run(1.0)
            return jax.tree.map(lambda a, b: a / (1.0 - (b - a)), from_zero, from_one)

        per_batch = jax.vmap(batch_stats)(z, labels)
        return jax.tree.map(lambda v: jnp.mean(v, axis=0), per_batch)

    def eval_metrics(self, state: TrainState, batch: dict[str, jax.Array], key: jax.Array):
        """D's held-out losses: how well D separates test data from fresh samples."""
        return self._eval_metrics(state, batch, key, {})

    def _eval_metrics(self, state, batch, key, extra):
        loss = LOSSES[self.loss]
        real = batch[self.data_key]
        labels = self._real_labels(batch)
        fake = self._sample(state, key, real.shape[0], labels, extra)
        dp, ds = state.params["discriminator"], state.model_state["discriminator"]
        real_logits, _ = self._apply(self.discriminator, dp, ds, pack(real, self.pack), False,
                                     labels=labels, **extra)
        fake_logits, _ = self._apply(self.discriminator, dp, ds, pack(fake, self.pack), False,
                                     labels=labels, **extra)
        return {"d_loss": loss.d(real_logits, fake_logits), "g_loss": loss.g(fake_logits)}


@dataclasses.dataclass(frozen=True)
class ConditionalGAN(GAN):
    """A class-conditional GAN: both networks take ``labels=`` (int32, (B,)).

    D's updates condition real and fake on the real batch's labels (``batch["label"]``);
    G's update draws labels uniformly. With a projection discriminator
    (``genjax.families.gan.dcgan.Discriminator(num_classes=...)``) this is the cGAN of Miyato &
    Koyama (2018); with a label embedding in G (``Generator(num_classes=...)``).

    Attributes:
      num_classes: number of classes; labels are ``0 .. num_classes - 1``.
    """

    capabilities: ClassVar[Capabilities] = Capabilities(sample_options=(LABEL,), latents=True)

    num_classes: int = 10

    def __post_init__(self):
        super().__post_init__()
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {self.num_classes}")
        if self.pack != 1:
            raise ValueError("PacGAN packing (pack > 1) and class conditioning do not combine; "
                             "set pack=1 or use an unconditional GAN")

    def _real_labels(self, batch):
        if "label" not in batch:
            raise ValueError("a conditional GAN needs batches with a 'label' field; "
                             "choose a labelled dataset (e.g. mnist_subset)")
        return batch["label"].astype(jnp.int32)

    def _random_labels(self, key, n):
        return batch_random(lambda k, s: jax.random.randint(k, s, 0, self.num_classes), key,
                            (n,))

    def sample(self, state: TrainState, key: jax.Array, num: int,
               label: int | None = None) -> jax.Array:
        """``num`` samples of class ``label``, or of the classes in turn (0, 1, 2, ...).

        Args:
          state: the trained state.
          key: the sampling key.
          num: how many samples.
          label: a class in ``0 .. num_classes - 1`` or None (``i % num_classes`` for sample i,
            so a grid with ``num_classes`` columns shows one class per column).

        Returns:
          Samples from the generator (its EMA when kept).
        """
        return self._sample(state, key, num, self._sample_labels(num, label), {})

    def decode_latents(self, state: TrainState, z: jax.Array,
                       label: int | None = None) -> jax.Array:
        """The generator's outputs for latents ``z (N, latent_dim)``, of class ``label`` (or
        of the classes in turn, as ``sample``)."""
        return self._decode(state, z, self._sample_labels(z.shape[0], label), {})

    def _sample_labels(self, num: int, label: int | None) -> jax.Array:
        if label is None:
            return jnp.arange(num, dtype=jnp.int32) % self.num_classes
        if not 0 <= int(label) < self.num_classes:
            raise ValueError(f"label must be in 0..{self.num_classes - 1}, got {label}")
        return jnp.full((num,), int(label), jnp.int32)


@dataclasses.dataclass(frozen=True)
class GrowthSchedule:
    """When a progressive GAN grows: a pure function of the step.

    Level 0 trains for ``stable_steps``; every further level first fades in over
    ``fade_steps`` (alpha 0 -> 1) and then trains for ``stable_steps``; the top level stays.
    The checkpoint's ``step`` (with these two numbers, which a resumed run may not change)
    fixes the phase exactly, so a run resumed mid-fade continues where it stopped.

    Attributes:
      levels: number of levels (4: 4 -> 8 -> 16 -> 32).
      stable_steps: steps at each level after its fade (and at level 0).
      fade_steps: steps of each fade-in.
    """

    levels: int = 4
    stable_steps: int = 1000
    fade_steps: int = 1000

    def __post_init__(self):
        if self.levels < 1 or self.stable_steps < 1 or self.fade_steps < 1:
            raise ValueError("GrowthSchedule needs levels, stable_steps and fade_steps >= 1")

    def __call__(self, step: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(level int32, alpha float32)`` at ``step`` (traced or concrete)."""
        step = jnp.asarray(step, jnp.int32)
        period = self.stable_steps + self.fade_steps
        after = step - self.stable_steps  # steps since level 0 ended
        level = jnp.where(after < 0, 0, 1 + jnp.maximum(after, 0) // period)
        level = jnp.minimum(level, self.levels - 1).astype(jnp.int32)
        into = after - (level - 1) * period  # steps into this level's fade
        alpha = jnp.where(level == 0, 1.0,
                          jnp.clip(into.astype(jnp.float32) / self.fade_steps, 0.0, 1.0))
        return level, alpha.astype(jnp.float32)

    @property
    def total_growth_steps(self) -> int:
        """Steps until the top level is fully faded in and has had its stable phase."""
        return self.stable_steps + (self.levels - 1) * (self.stable_steps + self.fade_steps)


@dataclasses.dataclass(frozen=True)
class ProgressiveGAN(GAN):
    """A GAN whose networks grow by levels (``genjax.families.gan.progressive``) on ``schedule``.

    One jitted step serves every phase: ``lax.switch`` on the level (computed from
    ``state.step``) picks one of ``levels`` traced branches, each the plain GAN step with
    the networks called at that (static) level and the traced fade weight ``alpha``. Every
    branch takes and returns full-size images and the same state tree, so the loop, the
    checkpoints and sampling never see the growth; on GPU/TPU only the taken branch runs.
    (Compiling one program per phase would recompile at every level change and need the loop
    to know.)
    Real images are faded like the generator's output
    (:func:`genjax.families.gan.progressive.fade_images`).

    On CPU the branches are not a ``lax.switch``: XLA:CPU (jaxlib 0.10) runs convolution
    gradients inside a conditional or loop ~30x slower than at the top level (forward
    convolutions are unaffected; ``benchmarks/cpu_conditional_conv.py``), which made a
    ``progan_mnist`` step ~19x slower than its level's branch alone. There every branch runs
    and ``lax.select_n`` keeps the current level's results (about the cost of all levels
    together, ~2x the top level's). ``select_branches`` overrides the choice.

    Attributes:
      schedule: the growth schedule; its ``levels`` must match the networks.
      select_branches: run every level and select (True) or ``lax.switch`` (False);
        None: select on CPU, switch elsewhere.
    """

    schedule: GrowthSchedule = GrowthSchedule()
    select_branches: bool | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.pack != 1 or self.augment:
            raise ValueError("ProgressiveGAN does not combine with pack or augment here")

    def init(self, key, batch, **module_kwargs):
        """Initialises every level's layers (the top level creates them all)."""
        return super().init(key, batch, level=self.schedule.levels - 1, alpha=1.0)

    def train_step(self, state, batch, key):
        """One GAN step at the level and fade weight of ``state.step``.

        Returns:
          ``(state, metrics)``: the GAN's metrics plus ``level`` and ``alpha``.
        """
        from genjax.families.gan.progressive import fade_images

        level, alpha = self.schedule(state.step)

        def branch(lv):
            def run(state, batch, key, alpha):
                real = fade_images(batch[self.data_key], lv, alpha, self.schedule.levels)
                return self._train_step(state, {**batch, self.data_key: real}, key,
                                        {"level": lv, "alpha": alpha})
            return run

        state, metrics = self._switch(level, [branch(lv) for lv in range(self.schedule.levels)],
                                      state, batch, key, alpha)
        return state, {**metrics, "level": level.astype(jnp.float32), "alpha": alpha}

    def _switch(self, index: jax.Array, branches, *operands):
        """``lax.switch(index, branches, *operands)``, or every branch then ``lax.select_n``
        (see the class docstring)."""
        select = self.select_branches
        if select is None:
            select = jax.default_backend() == "cpu"
        if not select:
            return jax.lax.switch(index, branches, *operands)
        outs = [branch(*operands) for branch in branches]
        return jax.tree.map(lambda *xs: jax.lax.select_n(index, *xs), *outs)

    def _at_level(self, state, fn):
        level, alpha = self.schedule(state.step)
        return self._switch(level, [lambda a, lv=lv: fn({"level": lv, "alpha": a})
                                    for lv in range(self.schedule.levels)], alpha)

    def sample(self, state, key, num):
        """``num`` full-size samples at the current level and fade weight."""
        return self._at_level(state, lambda extra: self._sample(state, key, num, None, extra))

    def decode_latents(self, state, z):
        """Full-size outputs for latents ``z`` at the current level and fade weight."""
        return self._at_level(state, lambda extra: self._decode(state, z, None, extra))

    def eval_metrics(self, state, batch, key):
        """D's held-out losses at the current level (real images faded alike)."""
        from genjax.families.gan.progressive import fade_images

        def run(extra):
            real = fade_images(batch[self.data_key], extra["level"], extra["alpha"],
                               self.schedule.levels)
            return self._eval_metrics(state, {**batch, self.data_key: real}, key, extra)

        return self._at_level(state, run)
