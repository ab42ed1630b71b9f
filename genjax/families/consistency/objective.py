"""The consistency-model objective: improved consistency training, 1- and few-step sampling."""

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
    HeldParams,
    TrainState,
    apply_updates,
    check_fractions,
    ema_update,
    warmed_up_decay,
    with_teacher,
)
from genjax.families.consistency.training import (
    curriculum_levels,
    heun_toward,
    huber_c,
    level_sigmas,
    pair_logits,
    pseudo_huber,
)
from genjax.nn.guidance import batch_labels
from genjax.nn.preconditioning import expand, preconditioning

Array = jax.Array


def consistency_sample(f: Callable[[Array, Array], Array], z: Array, key: Array,
                       sigmas: tuple[float, ...], sigma_min: float) -> Array:
    """Multistep consistency sampling (Song et al., 2023, Algorithm 1).

    ``x = sigmas[0] z``, ``y = f(x, sigmas[0])``; then for each later ``s`` in ``sigmas``:
    ``x = y + sqrt(s^2 - sigma_min^2) z_k``, ``y = f(x, s)``. One network evaluation per
    entry of ``sigmas`` (decreasing).

    Args:
      f: the consistency function ``f(x (B, ...), sigma (B,)) -> (B, ...)``.
      z: standard normal ``(B, ...)`` (the start).
      key: randomness of the re-noising steps.
      sigmas: ``(sigma_max, mid_1, ...)``.
      sigma_min: the boundary level.
    """
    n = z.shape[0]
    y = f(sigmas[0] * z, jnp.full((n,), sigmas[0], z.dtype))
    for k, s in enumerate(sigmas[1:]):
        noise = jax.random.normal(jax.random.fold_in(key, k), z.shape, z.dtype)
        x = y + (max(s * s - sigma_min ** 2, 0.0) ** 0.5) * noise
        y = f(x, jnp.full((n,), s, z.dtype))
    return y


@dataclasses.dataclass(frozen=True)
class ConsistencyModel:
    """A consistency model trained by improved consistency training (iCT), over any network.

    ``f(x, sigma) = c_skip x + c_out F(c_in x, time_scale c_noise, label)`` with EDM's
    coefficients shifted so that ``f(x, sigma_min) = x`` (:mod:`genjax.nn.preconditioning`);
    trained by :mod:`genjax.families.consistency.training` (curriculum over ``total_steps``,
    discrete log-normal levels, pseudo-Huber, ``1 / (sigma_{i+1} - sigma_i)`` weight, the
    student as its own stopped-gradient teacher). Sampling (EMA parameters) takes 1 step
    from ``sigma_max`` or more through ``mid_sigmas`` (:func:`consistency_sample`).

    Attributes:
      model: the raw network F (UNet on images, MLP denoiser on points).
      optimizer: optax transformation.
      data_shape: the per-example shape it generates.
      total_steps: K, the training length the curriculum spans.
      sigma_data, sigma_min, sigma_max, rho: the parametrisation and schedule.
      p_mean, p_std: the log-normal over the levels.
      s0, s1: the curriculum's first and last number of intervals.
      time_scale: the network sees ``time_scale * ln(sigma) / 4``.
      ema_decay: EMA decay of the sampling parameters.
      num_classes: classes of a class-conditional model, or None (no guidance).
      sample_steps: default number of sampling steps (1 .. 1 + len(mid_sigmas)).
      mid_sigmas: the decreasing re-noising levels of multistep sampling.
      clip: clip samples to [-1, 1] (images).
      data_key, label_key: the batch fields.
    """

    model: nn.Module
    optimizer: optax.GradientTransformation
    data_shape: tuple[int, ...]
    total_steps: int = 400_000
    sigma_data: float = 0.5
    sigma_min: float = 0.002
    sigma_max: float = 80.0
    rho: float = 7.0
    p_mean: float = -1.1
    p_std: float = 2.0
    s0: int = 10
    s1: int = 1280
    time_scale: float = 250.0
    ema_decay: float = 0.9999
    num_classes: int | None = None
    sample_steps: int = 1
    mid_sigmas: tuple[float, ...] = (0.821,)
    clip: bool = True
    capabilities: ClassVar[Capabilities] = Capabilities(sample_options=(
        LABEL,
        SampleOption("steps", int, "consistency sampling steps = network evaluations (1, or "
                                   "up to 1 + the model's mid_sigmas)"),
    ))
    data_key: str = "image"
    label_key: str = "label"

    def __post_init__(self):
        if not self.sigma_data > 0:
            raise ValueError(f"sigma_data must be > 0, got {self.sigma_data}")
        if not 0 < self.sigma_min < self.sigma_max:
            raise ValueError(f"need 0 < sigma_min < sigma_max, got {self.sigma_min}, "
                             f"{self.sigma_max}")
        if not (self.p_std > 0 and self.rho > 0 and self.time_scale > 0):
            raise ValueError("p_std, rho and time_scale must be > 0")
        if not 1 <= self.s0 <= self.s1:
            raise ValueError(f"need 1 <= s0 <= s1, got {self.s0}, {self.s1}")
        if self.total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {self.total_steps}")
        mids = (self.sigma_max, *self.mid_sigmas)
        if any(b >= a for a, b in zip(mids, mids[1:], strict=False)) or \
                (self.mid_sigmas and self.mid_sigmas[-1] <= self.sigma_min):
            raise ValueError(f"mid_sigmas must decrease from below sigma_max to above "
                             f"sigma_min, got {self.mid_sigmas}")
        self._check_steps(self.sample_steps)
        check_fractions(ema_decay=self.ema_decay)

    def _check_steps(self, steps: int) -> None:
        if not 1 <= steps <= 1 + len(self.mid_sigmas):
            raise ValueError(f"--steps must be in [1, {1 + len(self.mid_sigmas)}] (1 + the "
                             f"model's mid_sigmas {self.mid_sigmas}), got {steps}")

    @property
    def conditional(self) -> bool:
        return self.num_classes is not None

    def _labels(self, batch, n: int) -> Array | None:
        if not self.conditional:
            return None
        return batch_labels(batch, self.label_key, n, "consistency")

    def consistency_fn(self, params, label: Array | None = None, **kw):
        """``f(x, sigma (B,))`` of the parameters."""

        def f(x, sigma):
            c_skip, c_out, c_in, c_noise = preconditioning(sigma.astype(jnp.float32),
                                                           self.sigma_data, self.sigma_min)
            out = self.model.apply({"params": params}, expand(c_in, x) * x,
                                   self.time_scale * c_noise, label, **kw)
            return expand(c_skip, x) * x + expand(c_out, x) * out.astype(x.dtype)

        return f

    # -- Objective protocol --------------------------------------------------------------
    def init(self, key: Array, batch) -> TrainState:
        x = jnp.asarray(batch[self.data_key], jnp.float32)
        n = x.shape[0]
        kp, kd = jax.random.split(key)
        params = self.model.init({"params": kp, "dropout": kd}, x, jnp.zeros((n,), jnp.float32),
                                 self._labels(batch, n), train=False)["params"]
        return TrainState.create(params, self.optimizer.init(params), {}, ema_params=params)

    def _target_input(self, model_state, y: Array, z: Array, x_next: Array, s_next: Array,
                      s_cur: Array, label: Array | None) -> Array:
        """The target's input at the lower level ``s_cur``: iCT's ``y + s_cur z``, the same
        noise as the student's ``x_next = y + s_next z``."""
        del model_state, x_next, s_next, label
        return y + expand(s_cur, y) * z

    def _loss(self, params, teacher_params, y: Array, label, step: Array, key: Array,
              model_state=None, **kw) -> Array:
        n = y.shape[0]
        k_pair, k_noise = jax.random.split(key)
        levels = curriculum_levels(step, self.total_steps, self.s0, self.s1)
        sigmas = level_sigmas(levels, self.s1 + 1, self.sigma_min, self.sigma_max, self.rho)
        logits = pair_logits(sigmas, levels, self.p_mean, self.p_std)
        i = batch_random(lambda k, s: jax.random.categorical(k, logits, shape=s), k_pair, (n,))
        s_cur, s_next = sigmas[i], sigmas[i + 1]
        z = batch_random(lambda k, s: jax.random.normal(k, s, jnp.float32), k_noise, y.shape)
        x_next = y + expand(s_next, y) * z
        x_cur = jax.lax.stop_gradient(
            self._target_input(model_state, y, z, x_next, s_next, s_cur, label))
        student = self.consistency_fn(params, label, **kw)(x_next, s_next)
        teacher = jax.lax.stop_gradient(self.consistency_fn(teacher_params, label, **kw)(
            x_cur, s_cur))
        weight = 1.0 / (s_next - s_cur)
        return jnp.mean(weight * pseudo_huber(student, teacher, huber_c(self.data_shape)))

    def train_step(self, state: TrainState, batch, key: Array):
        """One iCT step (the curriculum at ``state.step``) and the EMA update.

        Returns:
          ``(state, {"loss": ..., "levels": N(k)})``.
        """
        y = jnp.asarray(batch[self.data_key], jnp.float32)
        label = self._labels(batch, y.shape[0])
        k_loss, k_drop = jax.random.split(key)
        k_drop = device_key(k_drop)  # one dropout mask for student and teacher

        def loss_fn(params):
            return self._loss(params, state.params, y, label, state.step, k_loss,
                              state.model_state, train=True, rngs={"dropout": k_drop})

        loss, grads = jax.value_and_grad(loss_fn)(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        ema = ema_update(state.ema_params, params, warmed_up_decay(self.ema_decay, state.step))
        levels = curriculum_levels(state.step, self.total_steps, self.s0, self.s1)
        return (state.replace(params=params, opt_state=opt_state, ema_params=ema),
                {"loss": loss, "levels": levels.astype(jnp.float32)})

    def eval_metrics(self, state: TrainState, batch, key: Array):
        """The consistency loss of the EMA parameters against themselves at the run's current
        curriculum (no dropout)."""
        y = jnp.asarray(batch[self.data_key], jnp.float32)
        label = self._labels(batch, y.shape[0])
        return {"loss": self._loss(state.ema_params, state.ema_params, y, label, state.step, key,
                                   state.model_state, train=False)}

    def sample(self, state: TrainState, key: Array, num: int, label: int | None = None,
               steps: int | None = None) -> Array:
        """``num`` samples in ``steps`` network evaluations from the EMA parameters.

        Args:
          state: the trained state.
          key: randomness.
          num: number of samples.
          label: class to sample (conditional models); None cycles through the classes.
          steps: 1 (from ``sigma_max``) up to ``1 + len(mid_sigmas)``; None: ``sample_steps``.
        """
        steps = self.sample_steps if steps is None else int(steps)
        self._check_steps(steps)
        if not self.conditional and label is not None:
            raise ValueError("this consistency model is unconditional: it takes no --label")
        if label is not None and not 0 <= label < self.num_classes:
            raise ValueError(f"label must be in [0, {self.num_classes}), got {label}")
        labels = None
        if self.conditional:
            labels = (jnp.full((num,), label, jnp.int32) if label is not None
                      else jnp.arange(num, dtype=jnp.int32) % self.num_classes)
        k_start, k_run = jax.random.split(key)
        z = jax.random.normal(k_start, (num, *self.data_shape), jnp.float32)
        sigmas = (self.sigma_max, *self.mid_sigmas[:steps - 1])
        x = consistency_sample(self.consistency_fn(state.ema_params, labels, train=False), z,
                               k_run, sigmas, self.sigma_min)
        return jnp.clip(x, -1.0, 1.0) if self.clip else x


@dataclasses.dataclass(frozen=True)
class ConsistencyDistillation(ConsistencyModel):
    """Consistency distillation (Song et al., 2023, Algorithm 2) from a trained EDM run.

    As :class:`ConsistencyModel` (levels, curriculum, pseudo-Huber, ``1 / (sigma_{i+1} -
    sigma_i)`` weight, the student's stopped gradient as the target network), except for the
    target's input: not ``y + sigma_i z`` with the student's noise, but one Heun step of the
    *teacher's* probability-flow ODE from the student's ``x_next = y + sigma_{i+1} z`` down
    to ``sigma_i`` (:func:`genjax.families.consistency.training.heun_toward`, two teacher
    evaluations, guidance 1, the batch's labels). The pair then lies on one teacher ODE
    trajectory, so the student learns the teacher's ODE map rather than the data's; ``s0 =
    s1`` gives the paper's fixed discretisation (N = 18: ``s0 = s1 = 17``).

    The teacher's EMA parameters are copied into ``state.model_state["teacher"]``
    (checkpointed with the run, so resuming needs no other folder to be unchanged); the
    student starts from them when ``init_from_teacher`` (the teacher's raw network, with
    the consistency boundary's preconditioning around it).

    Attributes (beyond :class:`ConsistencyModel`'s):
      teacher: :class:`genjax.core.state.HeldParams` of the teacher's parameters.
      teacher_denoiser: ``teacher_denoiser(params, label) -> D(x, sigma (B,))``: the EDM
        objective's ``denoiser``.
      init_from_teacher: start the student at the teacher's parameters.
    """

    teacher: HeldParams | None = None
    teacher_denoiser: Callable | None = None
    init_from_teacher: bool = True

    def __post_init__(self):
        super().__post_init__()
        if self.teacher is None or self.teacher_denoiser is None:
            raise ValueError("consistency distillation needs a teacher (a trained EDM run)")

    def init(self, key: Array, batch) -> TrainState:
        """The student (the teacher's parameters, or a fresh init) and the frozen teacher."""
        return with_teacher(super().init(key, batch), self.teacher, self.optimizer,
                            self.init_from_teacher)

    def _target_input(self, model_state, y, z, x_next, s_next, s_cur, label):
        del y, z
        denoise = self.teacher_denoiser(model_state["teacher"], label)
        return heun_toward(denoise, x_next, s_next, s_cur)
