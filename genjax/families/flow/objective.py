"""The flow-matching objective: OT paths, velocity regression, EMA, guided ODE sampling."""

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
from genjax.families.flow.samplers import (
    ADAPTIVE_SOLVERS,
    SOLVERS,
    check_solver,
    check_tolerances,
    integrate,
    integrate_adaptive,
    log_likelihood,
    solve,
)
from genjax.nn.guidance import batch_labels, drop_labels, guided

Array = jax.Array

TIME_SAMPLINGS = ("uniform", "logit_normal")


def ot_path(x0: Array, x1: Array, t: Array) -> tuple[Array, Array]:
    """The conditional optimal-transport path and its velocity.

    Args:
      x0: noise ``(B, ...)`` (the path at ``t = 0``).
      x1: data ``(B, ...)`` (the path at ``t = 1``).
      t: times ``(B,)`` in [0, 1].

    Returns:
      ``(x_t, u)`` with ``x_t = (1 - t) x0 + t x1`` and the target ``u = x1 - x0``.
    """
    tb = t.reshape(t.shape + (1,) * (x1.ndim - 1)).astype(x1.dtype)
    return (1.0 - tb) * x0 + tb * x1, x1 - x0


def flow_matching_loss(velocity: Callable[[Array, Array], Array], x1: Array, x0: Array,
                       t: Array) -> Array:
    """``mean((v(x_t, t) - (x1 - x0))^2)`` over the batch and every data dimension.

    That is ``mean_i ||v(x_t^i, t_i) - (x1^i - x0^i)||^2 / D`` with D the per-example size
    (the per-element MSE of rectified flow / Lipman et al.'s CFM, which keeps one learning
    rate across image sizes).

    Args:
      velocity: ``(x_t (B, ...), t (B,) in [0, 1]) -> (B, ...)``.
      x1: data.
      x0: noise, shaped like ``x1``.
      t: times ``(B,)``.

    Returns:
      The float32 scalar loss.
    """
    xt, u = ot_path(x0, x1, t)
    return jnp.mean(jnp.square(velocity(xt, t).astype(jnp.float32) - u.astype(jnp.float32)))


def sample_times(key: Array, n: int, sampling: str = "uniform", mean: float = 0.0,
                 std: float = 1.0) -> Array:
    """Training times ``(n,)`` in [0, 1), per example (``batch_random``: pmap draws as one device).

    ``"uniform"``: ``t ~ U[0, 1)``. ``"logit_normal"``: ``t = sigmoid(mean + std z)``,
    ``z ~ N(0, 1)`` (Esser et al., 2024: more weight on the middle of the path).
    """
    if sampling == "uniform":
        return batch_random(lambda k, s: jax.random.uniform(k, s, jnp.float32), key, (n,))
    z = batch_random(lambda k, s: jax.random.normal(k, s, jnp.float32), key, (n,))
    return jax.nn.sigmoid(mean + std * z)


@dataclasses.dataclass(frozen=True)
class FlowMatching:
    """Conditional flow matching / rectified flow on the OT path, over any denoiser network.

    Convention: ``x0 ~ N(0, I)`` is the noise at ``t = 0``, ``x1`` the data at ``t = 1``,
    ``x_t = (1 - t) x0 + t x1`` and the network regresses the velocity ``x1 - x0``
    (:func:`flow_matching_loss`). Sampling integrates ``dx/dt = v(x, t)`` from noise at
    ``t = 0`` to ``t = 1`` with a fixed-step solver (:mod:`genjax.families.flow.samplers`).

    The network is a linen module ``model(x_t, t, label=None, train=False)`` shaped like
    ``x_t`` (:class:`genjax.nn.unet.UNet` for images, :class:`genjax.nn.mlp_denoiser.MLPDenoiser`
    for points), built for DDPM's integer timesteps in ``[0, 1000)``: it is given
    ``time_scale * t`` (1000 by default), so its sinusoidal time embedding sees the same
    range of arguments as under DDPM. Sampling and evaluation use the EMA of the parameters.

    Classifier-free guidance (``num_classes`` set): in training each label is replaced by the
    null label ``num_classes`` with probability ``label_dropout``; at sampling
    ``v = v_null + guidance (v_label - v_null)`` (1: plain conditional, one network pass;
    0: unconditional; > 1: guided).

    Attributes:
      model: the velocity network.
      optimizer: optax transformation.
      data_shape: the per-example shape it generates, e.g. ``(32, 32, 1)`` or ``(2,)``.
      time_sampling: ``"uniform"`` or ``"logit_normal"`` (training times).
      logit_mean: mean of the logit-normal's normal.
      logit_std: its standard deviation (> 0).
      time_scale: the network sees ``time_scale * t``.
      ema_decay: EMA decay; the effective decay at step ``s`` is
        ``min(ema_decay, (1 + s) / (10 + s))``.
      num_classes: classes of a class-conditional model, or None.
      label_dropout: probability of training on the null label (conditional models).
      solver: default solver, ``"euler"``, ``"heun"`` or ``"rk4"`` (fixed steps), or
        ``"dopri5"`` / ``"tsit5"`` (adaptive, diffrax).
      sample_steps: default number of solver steps.
      guidance: default guidance scale (conditional models).
      clip: clip the final samples to [-1, 1] (images).
      bits_per_dim: ``test_metrics`` reports bits/dim of 8-bit data scaled to [-1, 1] (images)
        instead of nats per example (points).
      likelihood_solver: the solver of the likelihood ODE.
      likelihood_steps: its number of steps.
      likelihood_probes: 0 for the exact divergence (one JVP per data dimension: 2D points),
        else Hutchinson's estimator with this many Rademacher probes per example.
      rtol, atol: default tolerances of the adaptive solvers (sampling, the likelihood and a
        reflow teacher).
      data_key: the batch field holding the data (``"image"`` or ``"point"``).
      label_key: the batch field holding class labels.

    ``test_metrics`` (``genjax eval``) adds the log-likelihood of the probability-flow ODE
    (:func:`genjax.families.flow.samplers.log_likelihood`; exact up to the solver's error with
    ``likelihood_probes=0``, else Hutchinson's unbiased estimate): ``nll`` in nats per example
    for points, ``bpd`` (bits/dim of the 8-bit data under uniform dequantization) for images.

    Under ``jax.pmap`` the step averages gradients over the devices and draws times, noise
    and label dropout as one device would (``genjax.core.collectives.batch_random``).
    """

    model: nn.Module
    optimizer: optax.GradientTransformation
    data_shape: tuple[int, ...]
    time_sampling: str = "uniform"
    logit_mean: float = 0.0
    logit_std: float = 1.0
    time_scale: float = 1000.0
    ema_decay: float = 0.9999
    num_classes: int | None = None
    label_dropout: float = 0.1
    solver: str = "heun"
    sample_steps: int = 50
    guidance: float = 1.0
    clip: bool = True
    bits_per_dim: bool = False
    likelihood_solver: str = "rk4"
    likelihood_steps: int = 32
    likelihood_probes: int = 0
    rtol: float = 1e-4
    atol: float = 1e-4
    capabilities: ClassVar[Capabilities] = Capabilities(test_metrics=True, sample_options=(
        LABEL,
        SampleOption("solver", str, f"ODE solver: {', '.join(SOLVERS)} (fixed steps) or "
                                    f"{', '.join(ADAPTIVE_SOLVERS)} (adaptive, --rtol/--atol)"),
        SampleOption("steps", int, "number of solver steps (network evaluations: steps x 1 "
                                   "for euler, 2 steps - 1 for heun, 4 steps - 1 for rk4)"),
        SampleOption("guidance", float, "classifier-free guidance scale (conditional models)"),
        SampleOption("rtol", float, "relative tolerance of the adaptive ODE solvers"),
        SampleOption("atol", float, "absolute tolerance of the adaptive ODE solvers"),
    ), log_prob=True, log_prob_about=(
        "log p(x) of the probability-flow ODE of the EMA model, nats per example (exact up to "
        "the solver with likelihood_probes=0, else Hutchinson's unbiased estimate; "
        "bits_per_dim models: of the uniformly dequantized data; conditional: log p(x | y)"))
    data_key: str = "image"
    label_key: str = "label"

    def __post_init__(self):
        if self.time_sampling not in TIME_SAMPLINGS:
            raise ValueError(f"unknown time_sampling {self.time_sampling!r}; choose one of "
                             f"{TIME_SAMPLINGS}")
        if not self.logit_std > 0:
            raise ValueError(f"logit_std must be > 0, got {self.logit_std}")
        if not self.time_scale > 0:
            raise ValueError(f"time_scale must be > 0, got {self.time_scale}")
        check_solver(self.solver, self.sample_steps)
        check_solver(self.likelihood_solver, self.likelihood_steps)
        check_tolerances(self.rtol, self.atol)
        if self.likelihood_probes < 0:
            raise ValueError(f"likelihood_probes must be >= 0, got {self.likelihood_probes}")
        check_fractions(ema_decay=self.ema_decay, label_dropout=self.label_dropout)

    # -- helpers -------------------------------------------------------------------------
    @property
    def conditional(self) -> bool:
        return self.num_classes is not None

    def _labels(self, batch, n: int) -> Array | None:
        if not self.conditional:
            return None
        return batch_labels(batch, self.label_key, n, "flow")

    def _apply(self, params, x: Array, t: Array, label: Array | None, **kw) -> Array:
        """The network's velocity at times ``t (B,)`` in [0, 1]."""
        return self.model.apply({"params": params}, x, self.time_scale * t, label, **kw)

    def velocity(self, params, label: Array | None = None,
                 guidance: float = 1.0) -> Callable[[Array, Array], Array]:
        """``v(x, t) -> dx/dt`` for the solvers (``t`` a scalar), with classifier-free guidance.

        Args:
          params: the parameters (usually the EMA).
          label: labels ``(B,)`` (conditional models) or None (null label).
          guidance: guidance scale; 1 runs the conditional prediction alone.
        """

        def v(x, t):
            ts = jnp.full((x.shape[0],), t, jnp.float32)
            if label is None or guidance == 1.0:
                return self._apply(params, x, ts, label, train=False)
            return guided(lambda *a: self._apply(params, *a, train=False), x, ts, label,
                          self.num_classes, guidance)

        return v

    def _draw(self, key: Array, x1: Array) -> tuple[Array, Array]:
        """Per-example times and noise ``(t, x0)``."""
        k_t, k_noise = jax.random.split(key)
        t = sample_times(k_t, x1.shape[0], self.time_sampling, self.logit_mean, self.logit_std)
        x0 = batch_random(lambda k, s: jax.random.normal(k, s, jnp.float32), k_noise, x1.shape)
        return t, x0

    def _coupling(self, state: TrainState, x: Array, label: Array | None,
                  key: Array) -> tuple[Array, Array, Array]:
        """``(t, x0, x1)`` of a training pair: independent noise and the batch's data."""
        t, x0 = self._draw(key, x)
        return t, x0, x

    # -- Objective protocol --------------------------------------------------------------
    def init(self, key: Array, batch) -> TrainState:
        """Parameters, optimizer state and the EMA copy, shaped from an example batch."""
        x = jnp.asarray(batch[self.data_key])
        n = x.shape[0]
        kp, kd = jax.random.split(key)
        params = self.model.init({"params": kp, "dropout": kd}, x, jnp.zeros((n,), jnp.float32),
                                 self._labels(batch, n), train=False)["params"]
        return TrainState.create(params, self.optimizer.init(params), {}, ema_params=params)

    def train_step(self, state: TrainState, batch, key: Array):
        """One flow-matching step and the EMA update.

        Returns:
          ``(state, {"loss": ...})``.
        """
        x = jnp.asarray(batch[self.data_key], jnp.float32)
        n = x.shape[0]
        k_path, k_drop, k_label = jax.random.split(key, 3)
        label = self._labels(batch, n)
        t, x0, x1 = self._coupling(state, x, label, k_path)
        if label is not None and self.label_dropout > 0:
            label = drop_labels(k_label, label, self.label_dropout, self.num_classes)
        k_drop = device_key(k_drop)  # dropout masks differ per device (not per example)

        def loss_fn(params):
            def v(xt, ts):
                return self._apply(params, xt, ts, label, train=True, rngs={"dropout": k_drop})

            return flow_matching_loss(v, x1, x0, t)

        loss, grads = jax.value_and_grad(loss_fn)(state.params)
        params, opt_state = apply_updates(self.optimizer, grads, state.opt_state, state.params)
        ema = ema_update(state.ema_params, params, warmed_up_decay(self.ema_decay, state.step))
        return state.replace(params=params, opt_state=opt_state, ema_params=ema), {"loss": loss}

    def eval_metrics(self, state: TrainState, batch, key: Array):
        """The flow-matching loss of the EMA parameters on a held-out batch (no label dropout;
        the times and noise come from ``key``)."""
        x = jnp.asarray(batch[self.data_key], jnp.float32)
        label = self._labels(batch, x.shape[0])
        t, x0, x1 = self._coupling(state, x, label, key)

        def v(xt, ts):
            return self._apply(state.ema_params, xt, ts, label, train=False)

        return {"loss": flow_matching_loss(v, x1, x0, t)}

    def sample(self, state: TrainState, key: Array, num: int, label: int | None = None,
               solver: str | None = None, steps: int | None = None,
               guidance: float | None = None, rtol: float | None = None,
               atol: float | None = None) -> Array:
        """``num`` samples from the EMA parameters: noise at t=0 integrated to t=1.

        Args:
          state: the trained state.
          key: randomness (the start noise).
          num: number of samples.
          label: class to sample (conditional models); None cycles through the classes
            (sample ``i`` gets class ``i % num_classes``).
          solver: ``"euler"``, ``"heun"``, ``"rk4"``, ``"dopri5"`` or ``"tsit5"``; None: the
            objective's default.
          steps: fixed-step solver steps (>= 1); None: ``sample_steps``.
          guidance: classifier-free guidance scale; None: the objective's default.
          rtol, atol: the adaptive solvers' tolerances; None: the objective's defaults. An
            adaptive solve prints its steps and network evaluations (``jax.debug.print``).

        Returns:
          Images ``(num, H, W, C)`` clipped to [-1, 1] or points ``(num, D)``.
        """
        x, stats = self.sample_with_stats(state, key, num, label, solver, steps, guidance,
                                          rtol, atol)
        if stats:
            jax.debug.print("flow: {solver} took {a} accepted and {r} rejected steps: {n} "
                            "network evaluations", solver=solver or self.solver,
                            a=stats["accepted"], r=stats["rejected"], n=stats["nfe"])
        return x

    def sample_with_stats(self, state: TrainState, key: Array, num: int,
                          label: int | None = None, solver: str | None = None,
                          steps: int | None = None, guidance: float | None = None,
                          rtol: float | None = None,
                          atol: float | None = None) -> tuple[Array, dict[str, Array]]:
        """:meth:`sample` and, for an adaptive solver, its ``accepted`` / ``rejected`` steps
        and ``nfe`` (network evaluations, int32 scalars; guidance > 1 evaluates the network
        on a doubled batch, counted once); ``{}`` for a fixed-step solver."""
        solver, steps, guidance = self._check_options(label, solver, steps, guidance)
        rtol = self.rtol if rtol is None else float(rtol)
        atol = self.atol if atol is None else float(atol)
        check_tolerances(rtol, atol)
        labels = None
        if self.conditional:
            labels = (jnp.full((num,), label, jnp.int32) if label is not None
                      else jnp.arange(num, dtype=jnp.int32) % self.num_classes)
        x0 = jax.random.normal(key, (num, *self.data_shape), jnp.float32)
        v = self.velocity(state.ema_params, labels, guidance)
        stats: dict[str, Array] = {}
        if solver in ADAPTIVE_SOLVERS:
            x, stats = integrate_adaptive(v, x0, solver, rtol, atol)
        else:
            x = integrate(v, x0, steps, solver)
        return (jnp.clip(x, -1.0, 1.0) if self.clip else x), stats

    def _check_options(self, label, solver, steps, guidance) -> tuple[str, int, float]:
        """Resolves the sample options to ``(solver, steps, guidance)``.

        Raises:
          ValueError: an option this model cannot take, with the fix (the CLI prints it as
            one line).
        """
        solver = self.solver if solver is None else solver
        steps = self.sample_steps if steps is None else int(steps)
        check_solver(solver, steps)
        if not self.conditional and (label is not None or guidance not in (None, 1.0)):
            raise ValueError("this flow model is unconditional: it takes no --label or "
                             "--guidance (train with --config.model.class_conditional=True)")
        if label is not None and not 0 <= label < self.num_classes:
            raise ValueError(f"label must be in [0, {self.num_classes}), got {label}")
        return solver, steps, self.guidance if guidance is None else float(guidance)

    def test_metrics(self, state: TrainState, batch, key: Array):
        """Held-out flow-matching loss and the ODE log-likelihood of the EMA model (batch means).

        Returns:
          ``loss`` (as ``eval_metrics``) and, for points, ``nll``: ``-log p(x)`` in nats per
          example (exact divergence, or Hutchinson's with ``likelihood_probes``); for images
          ``bpd``: ``-log p(x + u / 127.5) / (D ln 2) + log2(127.5)`` with ``u ~ U[0, 1)^D``
          (uniform dequantization of the 8-bit data ``k / 127.5 - 1``: a bound on the
          discrete model's bits/dim). Class-conditional models give ``log p(x | y)`` with the
          batch's labels (guidance 1).
        """
        out = self.eval_metrics(state, batch, jax.random.split(key, 3)[0])
        logp = self.log_prob(state, batch, key)
        if self.bits_per_dim:
            d = batch[self.data_key][0].size
            out["bpd"] = jnp.mean(-logp) / (d * jnp.log(2.0)) + jnp.log2(127.5)
        else:
            out["nll"] = jnp.mean(-logp)
        return out

    def log_prob(self, state: TrainState, batch, key: Array) -> Array:
        """``log p(x)`` per example, ``(B,)`` nats, of the probability-flow ODE of the EMA model
        (:func:`genjax.families.flow.samplers.log_likelihood` with the likelihood solver,
        steps and probes); ``bits_per_dim`` models score ``x + u / 127.5``, ``u ~ U[0, 1)^D``
        (uniform dequantization); conditional models ``log p(x | y)`` with the batch's labels.

        The key is split as ``test_metrics`` splits it (``[1]`` dequantization, ``[2]``
        probes), so ``test_metrics``'s ``nll`` is ``-mean(log_prob(state, batch, key))``.
        """
        _, k_deq, k_probe = jax.random.split(key, 3)
        x1 = jnp.asarray(batch[self.data_key], jnp.float32)
        label = self._labels(batch, x1.shape[0])
        if self.bits_per_dim:
            x1 = dequantize(k_deq, x1)
        return log_likelihood(self.velocity(state.ema_params, label), x1,
                              self.likelihood_steps, self.likelihood_solver, k_probe,
                              self.likelihood_probes, self.rtol, self.atol)


def dequantize(key: Array, x: Array) -> Array:
    """8-bit data scaled to ``k / 127.5 - 1`` plus uniform noise over its bin of width 1/127.5.

    Per example (``batch_random``).
    """
    u = batch_random(lambda k, s: jax.random.uniform(k, s, jnp.float32), key, x.shape)
    return x + u / 127.5


@dataclasses.dataclass(frozen=True)
class Reflow(FlowMatching):
    """Reflow (Liu et al., 2023): a flow trained on a trained flow's own (noise, sample) pairs.

    Each step draws noise ``x0`` per example, integrates the frozen *teacher* (the first
    run's EMA parameters, same network) from ``x0`` at t=0 to ``x1`` at t=1 with
    ``teacher_solver`` / ``teacher_steps`` (guidance 1, conditioned on the batch's labels),
    and regresses the straight-line velocity ``x1 - x0`` on that deterministic coupling: the
    pairs are drawn online, so nothing is stored and the step stays a pure function of
    ``(state, batch, key)``. The batch supplies only its size and labels. The straighter paths
    need fewer sampling steps (``--steps 1`` Euler is the one-step limit). A reflow run can be
    the teacher of another (k-rectified flow).

    With ``pairs = N > 0`` the pairs are not drawn per step but once, at ``init``: a fixed
    pool of N noise draws and their teacher solutions (the original recipe's fixed set of
    pairs), solved in chunks of the init batch's size and kept in
    ``state.model_state["pairs"]`` (``{"x0", "x1"}``, checkpointed with the run, so resuming
    is exact); each step then trains on ``batch size`` pool rows drawn uniformly with
    replacement. A step costs one student pass instead of ``teacher_steps`` solver stages,
    so the student can train far longer for the same wall time; the pool costs N / batch
    online steps' worth of teacher solves once, and ``N x 2 x`` the data size of memory
    (meant for small data such as 2D points). Unconditional teachers only: pool rows carry no
    labels. ``eval_metrics`` then scores pool rows too (pairs of the same teacher map).

    The teacher's parameters are copied into ``state.model_state["teacher"]`` (checkpointed
    with the run); the student starts from them when ``init_from_teacher``.

    Attributes (beyond :class:`FlowMatching`'s):
      teacher: :class:`HeldParams` of the teacher's parameters.
      teacher_solver: the teacher's ODE solver.
      teacher_steps: its steps per pair.
      init_from_teacher: start the student at the teacher's parameters (else a fresh init).
      pairs: 0 for fresh pairs every step, else the size of the fixed pool drawn at init.
    """

    teacher: HeldParams | None = None
    teacher_solver: str = "rk4"
    teacher_steps: int = 8
    init_from_teacher: bool = True
    pairs: int = 0

    def __post_init__(self):
        super().__post_init__()
        if self.teacher is None:
            raise ValueError("Reflow needs the teacher's parameters (a trained flow run)")
        check_solver(self.teacher_solver, self.teacher_steps)
        if self.pairs < 0:
            raise ValueError(f"reflow.pairs must be >= 0 (0: fresh pairs every step), got "
                             f"{self.pairs}")
        if self.pairs and self.conditional:
            raise ValueError("reflow.pairs > 0 (a fixed pool of pairs) needs an unconditional "
                             "teacher: pool rows carry no labels; set reflow.pairs=0 for a "
                             "class-conditional run")

    def init(self, key: Array, batch) -> TrainState:
        """The student (the teacher's parameters, or a fresh init), the frozen teacher and,
        with ``pairs``, the pool of pairs."""
        state = with_teacher(super().init(key, batch), self.teacher, self.optimizer,
                             self.init_from_teacher)
        if not self.pairs:
            return state
        chunk = jnp.asarray(batch[self.data_key]).shape[0]
        pool = self.pair_pool(state.model_state["teacher"], jax.random.fold_in(key, 1),
                              self.pairs, chunk)
        return state.replace(model_state={**state.model_state, "pairs": pool})

    def pair_pool(self, teacher_params, key: Array, num: int, chunk: int) -> dict[str, Array]:
        """``{"x0": (num, ...), "x1": (num, ...)}``: standard normal noise and the teacher's
        ODE solution from each row (``teacher_solver``, ``teacher_steps``), solved
        ``chunk`` rows at a time."""
        x0 = jax.random.normal(key, (num, *self.data_shape), jnp.float32)
        teacher = self.velocity(teacher_params, None, 1.0)
        x1 = jax.lax.map(lambda z: solve(teacher, z[None], self.teacher_steps,
                                         self.teacher_solver, self.rtol, self.atol)[0],
                         x0, batch_size=max(1, min(chunk, num)))
        return {"x0": x0, "x1": x1}

    def _coupling(self, state: TrainState, x: Array, label: Array | None,
                  key: Array) -> tuple[Array, Array, Array]:
        """``(t, x0, x1)``: noise and the teacher's ODE solution from it (no gradient), from
        the pool when there is one."""
        if self.pairs:
            k_t, k_row = jax.random.split(key)
            n = x.shape[0]
            t = sample_times(k_t, n, self.time_sampling, self.logit_mean, self.logit_std)
            rows = batch_random(lambda k, s: jax.random.randint(k, s, 0, self.pairs), k_row,
                                (n,))
            pool = state.model_state["pairs"]
            return t, pool["x0"][rows], pool["x1"][rows]
        t, x0 = self._draw(key, x)
        teacher = self.velocity(state.model_state["teacher"], label, 1.0)
        x1 = jax.lax.stop_gradient(solve(teacher, x0, self.teacher_steps,
                                         self.teacher_solver, self.rtol, self.atol))
        return t, x0, x1
