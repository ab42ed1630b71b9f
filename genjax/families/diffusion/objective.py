"""The diffusion objective: denoising training, EMA, guided compiled samplers, the bpd bound."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from genjax.core.collectives import device_key
from genjax.core.objective import LABEL, Capabilities, SampleOption
from genjax.core.state import (
    TrainState,
    apply_updates,
    check_fractions,
    ema_update,
    warmed_up_decay,
)
from genjax.families.diffusion import bound as likelihood
from genjax.families.diffusion.losses import (
    check_prediction,
    diffusion_loss,
    eps_to_x0,
    to_x0_eps,
)
from genjax.families.diffusion.samplers import (
    DDPM_VARIANCES,
    ddim_sample,
    ddpm_sample,
    dpm_solver_pp_sample,
)
from genjax.families.diffusion.schedules import (
    TIMESTEP_SAMPLING,
    NoiseSchedule,
    lognormal_timestep_probs,
)
from genjax.nn.guidance import batch_labels, drop_labels, guided

Array = jax.Array

SAMPLERS = ("ddim", "ddpm", "dpm++")


@dataclasses.dataclass(frozen=True)
class Diffusion:
    """A Gaussian diffusion model (DDPM training, DDPM/DDIM/DPM-Solver++ sampling) over any
    denoiser.

    The denoiser is a linen module ``model(x_t, t, label=None, train=False) -> output`` shaped
    like ``x_t`` (:class:`genjax.nn.unet.UNet` for images,
    :class:`genjax.nn.mlp_denoiser.MLPDenoiser` for points); its output is the ``prediction``
    parameterisation. Sampling and evaluation use the EMA of the parameters.

    Classifier-free guidance (``num_classes`` set): in training each label is replaced by the
    null label ``num_classes`` with probability ``label_dropout``; at sampling
    ``eps = eps_null + guidance (eps_label - eps_null)`` (``guidance=1``: plain conditional,
    one network pass; ``0``: unconditional; ``> 1``: guided).

    Attributes:
      model: the denoiser module.
      schedule: the noise schedule (T and the betas).
      optimizer: optax transformation.
      data_shape: the per-example shape it generates, e.g. ``(28, 28, 1)`` or ``(2,)``.
      prediction: ``"eps"``, ``"x0"`` or ``"v"``.
      min_snr_gamma: gamma of min-SNR loss weighting, or None (plain MSE).
      timestep_sampling: how training draws timesteps: ``"uniform"`` (DDPM's), or
        ``"lognormal"``: EDM's ``ln sigma_t ~ N(p_mean, p_std^2)`` on the schedule's
        timesteps (:func:`~genjax.families.diffusion.schedules.lognormal_timestep_probs`;
        ``sigma_t = sqrt((1 - abar_t) / abar_t)``), for training the small noise levels
        more; the held-out loss draws them the same way.
      p_mean, p_std: the ``"lognormal"`` distribution's mean and std of ``ln sigma_t``.
      ema_decay: EMA decay of the parameters; the effective decay at step ``s`` is
        ``min(ema_decay, (1 + s) / (10 + s))`` so short runs are not dominated by the init.
      num_classes: classes of a class-conditional model, or None.
      label_dropout: probability of training on the null label (conditional models).
      sampler: default sampler, ``"ddim"``, ``"ddpm"`` or ``"dpm++"`` (DPM-Solver++(2M),
        log-SNR-uniform timesteps).
      sample_steps: default number of DDIM / DPM-Solver++ steps (DDPM always takes all T).
      ddim_eta: DDIM's eta.
      ddpm_variance: ``"small"`` (posterior variance) or ``"large"`` (beta_t); also the fixed
        reverse variance of the likelihood bound.
      guidance: default guidance scale (conditional models).
      clip_denoised: clip ``x0_hat`` to [-1, 1] when sampling and in the bound (images).
      decoder: the bound's ``L_0``: ``"discretized"`` (images, bits/dim) or ``"gaussian"``
        (continuous data, nats per example).
      bound_timesteps: how many ``t >= 1`` terms ``test_metrics`` evaluates (0: all T-1, the
        exact bound; fewer: evenly spaced, weighted, for CPU budgets).
      data_key: the batch field holding the data (``"image"`` or ``"point"``).
      label_key: the batch field holding class labels.

    Under ``jax.pmap`` the step averages gradients over the devices and draws timesteps,
    noise and label dropout as on one device (see ``genjax.core.collectives``).
    """

    model: nn.Module
    schedule: NoiseSchedule
    optimizer: optax.GradientTransformation
    data_shape: tuple[int, ...]
    prediction: str = "eps"
    min_snr_gamma: float | None = None
    timestep_sampling: str = "uniform"
    p_mean: float = -1.2
    p_std: float = 1.2
    ema_decay: float = 0.9999
    num_classes: int | None = None
    label_dropout: float = 0.1
    sampler: str = "ddim"
    sample_steps: int = 50
    ddim_eta: float = 0.0
    ddpm_variance: str = "small"
    guidance: float = 1.0
    clip_denoised: bool = True
    decoder: str = "discretized"
    bound_timesteps: int = 0
    capabilities: ClassVar[Capabilities] = Capabilities(test_metrics=True, sample_options=(
        LABEL,
        SampleOption("sampler", str, f"sampling algorithm: {' or '.join(SAMPLERS)}"),
        SampleOption("steps", int, "number of sampling steps = network evaluations (ddim, "
                                   "dpm++: at most T; ddpm: all T)"),
        SampleOption("guidance", float, "classifier-free guidance scale (conditional models)"),
    ))
    data_key: str = "image"
    label_key: str = "label"

    def __post_init__(self):
        check_prediction(self.prediction)
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {SAMPLERS}")
        if self.timestep_sampling not in TIMESTEP_SAMPLING:
            raise ValueError(f"unknown timestep_sampling {self.timestep_sampling!r}; choose one "
                             f"of {TIMESTEP_SAMPLING}")
        self._timestep_probs()  # refuses a lognormal p_std <= 0 here, not at the first step
        if self.ddpm_variance not in DDPM_VARIANCES:
            raise ValueError(f"unknown ddpm_variance {self.ddpm_variance!r}; choose one of "
                             f"{DDPM_VARIANCES}")
        if self.decoder not in likelihood.DECODERS:
            raise ValueError(f"unknown decoder {self.decoder!r}; choose one of "
                             f"{likelihood.DECODERS}")
        if not 1 <= self.sample_steps <= self.schedule.num_timesteps:
            raise ValueError(f"sample_steps must be in [1, {self.schedule.num_timesteps}] (the "
                             f"schedule's T), got {self.sample_steps}")
        check_fractions(ema_decay=self.ema_decay, label_dropout=self.label_dropout)

    # -- helpers -------------------------------------------------------------------------
    @property
    def conditional(self) -> bool:
        return self.num_classes is not None

    @property
    def _clip(self) -> tuple[float, float] | None:
        return (-1.0, 1.0) if self.clip_denoised else None

    def _labels(self, batch, n: int) -> Array | None:
        if not self.conditional:
            return None
        return batch_labels(batch, self.label_key, n, "diffusion")

    def denoiser(self, params, label: Array | None = None,
                 guidance: float = 1.0) -> Callable[[Array, Array], tuple[Array, Array]]:
        """``denoise(x_t, t) -> (x0_hat, eps_hat)`` of the model, with classifier-free guidance.

        Args:
          params: the parameters (usually the EMA).
          label: labels ``(B,)`` (conditional models) or None (null label).
          guidance: guidance scale; 1 runs the conditional prediction alone.

        Returns:
          The denoiser the samplers and the bound take.
        """

        def apply(x, t, lab):
            out = self.model.apply({"params": params}, x, t, lab, train=False)
            return to_x0_eps(self.schedule, self.prediction, x, t, out)

        def denoise(x, t):
            if label is None or guidance == 1.0:
                return apply(x, t, label)
            eps = guided(lambda *a: apply(*a)[1], x, t, label, self.num_classes, guidance)
            return eps_to_x0(self.schedule, x, t, eps), eps

        return denoise

    # -- Objective protocol --------------------------------------------------------------
    def init(self, key: Array, batch) -> TrainState:
        """Parameters, optimizer state and the EMA copy, shaped from an example batch."""
        x = jnp.asarray(batch[self.data_key])
        n = x.shape[0]
        t = jnp.zeros((n,), jnp.int32)
        kp, kd = jax.random.split(key)
        params = self.model.init({"params": kp, "dropout": kd}, x, t, self._labels(batch, n),
                                 train=False)["params"]
        return TrainState.create(params, self.optimizer.init(params), {}, ema_params=params)

    def train_step(self, state: TrainState, batch, key: Array):
        """One denoising-loss step and the EMA update.

        Returns:
          ``(state, {"loss": ...})``.
        """
        x0 = batch[self.data_key]
        n = x0.shape[0]
        k_loss, k_drop, k_label = jax.random.split(key, 3)
        label = self._labels(batch, n)
        if label is not None and self.label_dropout > 0:
            label = drop_labels(k_label, label, self.label_dropout, self.num_classes)
        k_drop = device_key(k_drop)  # dropout masks differ per device (not per example)

        def loss_fn(params):
            def model_fn(xt, t):
                return self.model.apply({"params": params}, xt, t, label, train=True,
                                        rngs={"dropout": k_drop})

            loss, _ = diffusion_loss(model_fn, self.schedule, x0, k_loss, self.prediction,
                                     self.min_snr_gamma, self._timestep_probs())
            return loss

        loss, grads = jax.value_and_grad(loss_fn)(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        ema = ema_update(state.ema_params, params, warmed_up_decay(self.ema_decay, state.step))
        return state.replace(params=params, opt_state=opt_state, ema_params=ema), {"loss": loss}

    def sample(self, state: TrainState, key: Array, num: int, label: int | None = None,
               sampler: str | None = None, steps: int | None = None,
               guidance: float | None = None) -> Array:
        """``num`` samples from the EMA parameters.

        Args:
          state: the trained state.
          key: randomness (start noise and sampler noise).
          num: number of samples.
          label: class to sample (conditional models); None cycles through the classes
            (sample ``i`` gets class ``i % num_classes``).
          sampler: ``"ddim"``, ``"ddpm"`` or ``"dpm++"`` (DPM-Solver++(2M)); None: the
            objective's default.
          steps: DDIM / DPM-Solver++ steps in ``[1, T]``; None: ``sample_steps``. DDPM takes
            all T steps (it refuses another number: use DDIM or DPM-Solver++ for fewer).
          guidance: classifier-free guidance scale; None: the objective's default.

        Returns:
          Images ``(num, H, W, C)`` in [-1, 1] or points ``(num, D)``.
        """
        sampler, steps, guidance = self._check_options(label, sampler, steps, guidance)
        labels = None
        if self.conditional:
            labels = (jnp.full((num,), label, jnp.int32) if label is not None
                      else jnp.arange(num, dtype=jnp.int32) % self.num_classes)
        shape = (num, *self.data_shape)
        k_start, k_run = jax.random.split(key)
        x_T = jax.random.normal(k_start, shape, jnp.float32)
        denoise = self.denoiser(state.ema_params, labels, guidance)
        if sampler == "ddpm":
            return ddpm_sample(denoise, self.schedule, x_T, k_run, self.ddpm_variance, self._clip)
        if sampler == "dpm++":
            return dpm_solver_pp_sample(denoise, self.schedule, x_T, steps, self._clip)
        return ddim_sample(denoise, self.schedule, x_T, k_run, steps, self.ddim_eta, self._clip)

    def _check_options(self, label, sampler, steps, guidance) -> tuple[str, int, float]:
        """Resolves the sample options to ``(sampler, steps, guidance)``.

        Raises:
          ValueError: an option this model cannot take, with the fix (the CLI
            prints it as one line).
        """

        sampler = self.sampler if sampler is None else sampler
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
        T = self.schedule.num_timesteps
        if sampler == "ddpm" and steps not in (None, T):
            raise ValueError(f"the ddpm sampler takes all T={T} steps; use --sampler ddim or dpm++ "
                              f"for {steps} steps")
        steps = T if sampler == "ddpm" else (self.sample_steps if steps is None else int(steps))
        if not 1 <= steps <= T:
            raise ValueError(f"--steps must be in [1, {T}] (the model's T), got {steps}")
        if not self.conditional and (label is not None or guidance not in (None, 1.0)):
            raise ValueError("this diffusion model is unconditional: it takes no --label or "
                              "--guidance (train a class-conditional config, e.g. "
                              "ddpm_mnist_cond)")
        if label is not None and not 0 <= label < self.num_classes:
            raise ValueError(f"label must be in [0, {self.num_classes}), got {label}")
        return sampler, steps, self.guidance if guidance is None else float(guidance)

    def eval_metrics(self, state: TrainState, batch, key: Array):
        """The denoising loss of the EMA parameters on a held-out batch (no label dropout)."""
        x0 = batch[self.data_key]
        label = self._labels(batch, x0.shape[0])

        def model_fn(xt, t):
            return self.model.apply({"params": state.ema_params}, xt, t, label, train=False)

        loss, _ = diffusion_loss(model_fn, self.schedule, x0, key, self.prediction,
                                 self.min_snr_gamma, self._timestep_probs())
        return {"loss": loss}

    def _timestep_probs(self) -> np.ndarray | None:
        """The training distribution of timesteps (None: uniform)."""
        if self.timestep_sampling == "uniform":
            return None
        return lognormal_timestep_probs(self.schedule, self.p_mean, self.p_std)

    def test_metrics(self, state: TrainState, batch, key: Array):
        """The variational bound of the EMA model on a held-out batch (batch means).

        Returns:
          For ``decoder="discretized"`` (images): ``bpd`` (bits/dim) and its parts
          ``bpd_prior``, ``bpd_decoder``, ``bpd_terms``; for ``"gaussian"`` (points): ``nll``
          (nats per example, a bound on -log p(x) of the continuous density) and its parts.
          Class-conditional models bound -log p(x | y) with the batch's labels.
        """
        x0 = batch[self.data_key]
        label = self._labels(batch, x0.shape[0])
        out = likelihood.variational_bound(
            self.denoiser(state.ema_params, label), self.schedule, x0, key, self.ddpm_variance,
            self.decoder, self._clip, self.bound_timesteps)
        name = "bpd" if self.decoder == "discretized" else "nll"
        parts = {"": "total", "_prior": "prior", "_decoder": "decoder", "_terms": "terms"}
        return {f"{name}{suffix}": jnp.mean(out[part]) for suffix, part in parts.items()}

