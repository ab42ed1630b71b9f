"""The EDM objective: preconditioned denoiser, log-normal sigmas, weighted loss, Heun sampling."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from genjax.core.collectives import batch_random, device_key
from genjax.core.objective import LABEL, Capabilities, SampleOption
from genjax.core.state import (
    TrainState,
    apply_updates,
    check_fractions,
    ema_update,
    warmed_up_decay,
)
from genjax.families.edm.precond import edm_loss, expand, preconditioning, sample_sigmas
from genjax.families.edm.samplers import (
    SOLVERS,
    check_churn,
    check_schedule,
    edm_sample,
    karras_sigmas,
)
from genjax.nn.guidance import batch_labels, drop_labels, guided

Array = jax.Array


@dataclasses.dataclass(frozen=True)
class EDM:
    """EDM (Karras et al., 2022): a preconditioned denoiser ``D(x; sigma)`` over any network.

    ``D(x; sigma) = c_skip x + c_out F(c_in x, time_scale c_noise, label)``
    (:mod:`genjax.families.edm.precond`), trained on ``ln sigma ~ N(p_mean, p_std^2)`` with
    the weight ``lambda(sigma)``; sampled with Heun's method (or Euler) on the rho-schedule,
    with optional churn (:mod:`genjax.families.edm.samplers`). Sampling and evaluation use the
    EMA of the parameters.

    The raw network ``F`` is a linen module ``model(x, t, label=None, train=False)`` shaped
    like ``x`` (:class:`genjax.nn.unet.UNet` for images,
    :class:`genjax.nn.mlp_denoiser.MLPDenoiser` for points) whose sinusoidal time embedding
    was built for DDPM's timesteps in ``[0, 1000)``: it is given ``time_scale * c_noise``
    (``c_noise = ln(sigma) / 4``, in about [-1.6, 1.1] for sigma in [0.002, 80]).

    Classifier-free guidance (``num_classes`` set): labels are replaced by the null label
    ``num_classes`` with probability ``label_dropout`` in training; at sampling
    ``D = D_null + guidance (D_label - D_null)`` (1: plain conditional, one network pass).

    Attributes:
      model: the raw network F.
      optimizer: optax transformation.
      data_shape: the per-example shape it generates.
      sigma_data: the data's standard deviation (0.5 for images in [-1, 1]).
      p_mean, p_std: the log-normal training distribution of sigma.
      time_scale: the network sees ``time_scale * c_noise``.
      ema_decay: EMA decay; effective ``min(ema_decay, (1 + s) / (10 + s))`` at step ``s``.
      num_classes: classes of a class-conditional model, or None.
      label_dropout: probability of training on the null label (conditional models).
      sampler: default sampler, ``"heun"`` or ``"euler"``.
      sample_steps: default number of steps N (Heun: 2N - 1 network evaluations).
      sigma_min, sigma_max, rho: the sampling schedule.
      s_churn, s_noise, s_min, s_max: default churn (``s_churn = 0``: deterministic).
      guidance: default guidance scale (conditional models).
      clip: clip the final samples to [-1, 1] (images).
      data_key: the batch field holding the data (``"image"`` or ``"point"``).
      label_key: the batch field holding class labels.
    """

    model: nn.Module
    optimizer: optax.GradientTransformation
    data_shape: tuple[int, ...]
    sigma_data: float = 0.5
    p_mean: float = -1.2
    p_std: float = 1.2
    time_scale: float = 250.0
    ema_decay: float = 0.9999
    num_classes: int | None = None
    label_dropout: float = 0.1
    sampler: str = "heun"
    sample_steps: int = 18
    sigma_min: float = 0.002
    sigma_max: float = 80.0
    rho: float = 7.0
    s_churn: float = 0.0
    s_noise: float = 1.0
    s_min: float = 0.0
    s_max: float = 1000.0
    guidance: float = 1.0
    clip: bool = True
    capabilities: ClassVar[Capabilities] = Capabilities(sample_options=(
        LABEL,
        SampleOption("sampler", str, f"sampling algorithm: {' or '.join(SOLVERS)}"),
        SampleOption("steps", int, "number of sampling steps = network evaluations (heun "
                                   "with N steps: 2N - 1)"),
        SampleOption("guidance", float, "classifier-free guidance scale (conditional models)"),
        SampleOption("s_churn", float, "EDM stochastic churn S_churn (0: deterministic ODE)"),
        SampleOption("s_noise", float, "EDM churn noise scale S_noise"),
        SampleOption("s_min", float, "EDM churn only where sigma >= S_min"),
        SampleOption("s_max", float, "EDM churn only where sigma <= S_max"),
    ))
    data_key: str = "image"
    label_key: str = "label"

    def __post_init__(self):
        if not self.sigma_data > 0:
            raise ValueError(f"sigma_data must be > 0, got {self.sigma_data}")
        if not self.p_std > 0:
            raise ValueError(f"p_std must be > 0, got {self.p_std}")
        if not self.time_scale > 0:
            raise ValueError(f"time_scale must be > 0, got {self.time_scale}")
        if self.sampler not in SOLVERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {tuple(SOLVERS)}")
        check_schedule(self.sample_steps, self.sigma_min, self.sigma_max, self.rho)
        check_churn(self.s_churn, self.s_noise, self.s_min, self.s_max)
        check_fractions(ema_decay=self.ema_decay, label_dropout=self.label_dropout)

    # -- helpers -------------------------------------------------------------------------
    @property
    def conditional(self) -> bool:
        return self.num_classes is not None

    def _labels(self, batch, n: int) -> Array | None:
        if not self.conditional:
            return None
        return batch_labels(batch, self.label_key, n, "EDM")

    def _denoise(self, params, x: Array, sigma: Array, label: Array | None, **kw) -> Array:
        """``D(x; sigma)`` for ``sigma (B,)``: the preconditioned network."""
        c_skip, c_out, c_in, c_noise = preconditioning(sigma.astype(jnp.float32),
                                                       self.sigma_data)
        f = self.model.apply({"params": params}, expand(c_in, x) * x, self.time_scale * c_noise,
                             label, **kw)
        return expand(c_skip, x) * x + expand(c_out, x) * f.astype(x.dtype)

    def denoiser(self, params, label: Array | None = None,
                 guidance: float = 1.0) -> Callable[[Array, Array], Array]:
        """``D(x, sigma (B,))`` of the model for the samplers, with classifier-free guidance."""

        def denoise(x, sigma):
            if label is None or guidance == 1.0:
                return self._denoise(params, x, sigma, label, train=False)
            return guided(lambda *a: self._denoise(params, *a, train=False), x, sigma, label,
                          self.num_classes, guidance)

        return denoise

    def _draw(self, key: Array, x: Array) -> tuple[Array, Array]:
        """Per-example noise levels and standard-normal noise."""
        k_sigma, k_noise = jax.random.split(key)
        sigma = sample_sigmas(k_sigma, x.shape[0], self.p_mean, self.p_std)
        noise = batch_random(lambda k, s: jax.random.normal(k, s, jnp.float32), k_noise, x.shape)
        return sigma, noise

    # -- Objective protocol --------------------------------------------------------------
    def init(self, key: Array, batch) -> TrainState:
        """Parameters, optimizer state and the EMA copy, shaped from an example batch."""
        x = jnp.asarray(batch[self.data_key], jnp.float32)
        n = x.shape[0]
        kp, kd = jax.random.split(key)
        params = self.model.init({"params": kp, "dropout": kd}, x, jnp.zeros((n,), jnp.float32),
                                 self._labels(batch, n), train=False)["params"]
        return TrainState.create(params, self.optimizer.init(params), {}, ema_params=params)

    def train_step(self, state: TrainState, batch, key: Array):
        """One EDM-loss step and the EMA update.

        Returns:
          ``(state, {"loss": ...})``.
        """
        y = jnp.asarray(batch[self.data_key], jnp.float32)
        n = y.shape[0]
        k_noise, k_drop, k_label = jax.random.split(key, 3)
        label = self._labels(batch, n)
        if label is not None and self.label_dropout > 0:
            label = drop_labels(k_label, label, self.label_dropout, self.num_classes)
        sigma, noise = self._draw(k_noise, y)
        k_drop = device_key(k_drop)  # dropout masks differ per device (not per example)

        def loss_fn(params):
            def denoise(x, s):
                return self._denoise(params, x, s, label, train=True, rngs={"dropout": k_drop})

            return edm_loss(denoise, y, noise, sigma, self.sigma_data)

        loss, grads = jax.value_and_grad(loss_fn)(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        ema = ema_update(state.ema_params, params, warmed_up_decay(self.ema_decay, state.step))
        return state.replace(params=params, opt_state=opt_state, ema_params=ema), {"loss": loss}

    def eval_metrics(self, state: TrainState, batch, key: Array):
        """The EDM loss of the EMA parameters on a held-out batch (no label dropout)."""
        y = jnp.asarray(batch[self.data_key], jnp.float32)
        label = self._labels(batch, y.shape[0])
        sigma, noise = self._draw(key, y)

        def denoise(x, s):
            return self._denoise(state.ema_params, x, s, label, train=False)

        return {"loss": edm_loss(denoise, y, noise, sigma, self.sigma_data)}

    def sample(self, state: TrainState, key: Array, num: int, label: int | None = None,
               sampler: str | None = None, steps: int | None = None,
               guidance: float | None = None, s_churn: float | None = None,
               s_noise: float | None = None, s_min: float | None = None,
               s_max: float | None = None) -> Array:
        """``num`` samples from the EMA parameters (None options: the objective's defaults).

        Args:
          state: the trained state.
          key: randomness (start noise and churn).
          num: number of samples.
          label: class to sample (conditional models); None cycles through the classes.
          sampler: ``"heun"`` or ``"euler"``.
          steps: the number of steps N of the rho-schedule.
          guidance: classifier-free guidance scale.
          s_churn, s_noise, s_min, s_max: churn (EDM Algorithm 2).

        Returns:
          Images ``(num, H, W, C)`` clipped to [-1, 1] or points ``(num, D)``.
        """
        sampler = self.sampler if sampler is None else sampler
        steps = self.sample_steps if steps is None else int(steps)
        churn = tuple(default if v is None else float(v) for v, default in (
            (s_churn, self.s_churn), (s_noise, self.s_noise), (s_min, self.s_min),
            (s_max, self.s_max)))
        if sampler not in SOLVERS:
            raise ValueError(f"unknown sampler {sampler!r}; choose one of {tuple(SOLVERS)}")
        check_churn(*churn)
        sigmas = karras_sigmas(steps, self.sigma_min, self.sigma_max, self.rho)
        if not self.conditional and (label is not None or guidance not in (None, 1.0)):
            raise ValueError("this EDM model is unconditional: it takes no --label or "
                             "--guidance (train with --config.model.class_conditional=True)")
        if label is not None and not 0 <= label < self.num_classes:
            raise ValueError(f"label must be in [0, {self.num_classes}), got {label}")
        guidance = self.guidance if guidance is None else float(guidance)
        labels = None
        if self.conditional:
            labels = (jnp.full((num,), label, jnp.int32) if label is not None
                      else jnp.arange(num, dtype=jnp.int32) % self.num_classes)
        k_start, k_churn = jax.random.split(key)
        x_T = float(sigmas[0]) * jax.random.normal(k_start, (num, *self.data_shape), jnp.float32)
        x = edm_sample(self.denoiser(state.ema_params, labels, guidance), x_T, sigmas, k_churn,
                       sampler, *churn)
        return jnp.clip(x, -1.0, 1.0) if self.clip else x
