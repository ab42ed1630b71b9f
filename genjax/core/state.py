"""The training state every family shares."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax

from genjax.core.collectives import pmean

PyTree = Any


@flax.struct.dataclass
class TrainState:
    """Everything a step reads and writes; a plain pytree, so it jits, shards and checkpoints.

    Families decide the inner structure: a GAN keeps ``{"generator": ..., "discriminator": ...}``
    in ``params``, ``opt_state`` and ``model_state``; a VAE keeps one tree in each.

    Attributes:
      step: number of optimisation steps taken (int32 scalar).
      params: trainable parameters.
      opt_state: optimizer state(s), matching ``params``.
      model_state: non-trainable collections such as BatchNorm ``batch_stats`` ({} if none).
      ema_params: exponential moving average of (part of) ``params``, or None.
    """

    step: jax.Array
    params: PyTree
    opt_state: PyTree
    model_state: PyTree = flax.struct.field(default_factory=dict)
    ema_params: PyTree = None

    @classmethod
    def create(
        cls,
        params: PyTree,
        opt_state: PyTree,
        model_state: PyTree | None = None,
        ema_params: PyTree = None,
    ) -> TrainState:
        """A state at step 0.

        Args:
          params: initial parameters.
          opt_state: initial optimizer state(s).
          model_state: initial non-trainable collections.
          ema_params: initial EMA parameters or None. They are copied, so they never share
            buffers with ``params`` (a donated step cannot donate one buffer twice).

        Returns:
          The state.
        """
        return cls(
            step=jnp.zeros((), jnp.int32),
            params=params,
            opt_state=opt_state,
            model_state={} if model_state is None else model_state,
            ema_params=jax.tree.map(jnp.copy, ema_params),
        )


class HeldParams:
    """A pytree of arrays held by reference (equal and hashed by identity), so a frozen
    objective can carry a trained run's parameters (``jax.jit`` caches on its fields)."""

    def __init__(self, tree):
        self.tree = tree


def with_teacher(state: TrainState, teacher: HeldParams, optimizer,
                 init_from_teacher: bool) -> TrainState:
    """A freshly initialised second-stage state holding a frozen teacher: the teacher's
    parameters copied into ``model_state["teacher"]`` (checkpointed with the run), the
    student's parameters (and EMA) the teacher's when ``init_from_teacher``, else the fresh
    ones, with a new optimizer state (reflow, consistency distillation).

    Raises:
      ValueError: teacher parameters of another structure or shape than the network's.
    """
    tree = jax.tree.map(jnp.asarray, teacher.tree)
    if jax.tree.structure(tree) != jax.tree.structure(state.params) or any(
            a.shape != b.shape for a, b in zip(jax.tree.leaves(tree),
                                               jax.tree.leaves(state.params), strict=True)):
        raise ValueError("the teacher's parameters do not fit this network (a run of another "
                         "architecture?)")
    params = jax.tree.map(jnp.copy, tree) if init_from_teacher else state.params
    return TrainState.create(params, optimizer.init(params),
                             {"teacher": jax.tree.map(jnp.copy, tree)}, ema_params=params)


def apply_updates(
    tx: optax.GradientTransformation, grads: PyTree, opt_state: PyTree, params: PyTree,
) -> tuple[PyTree, PyTree]:
    """One optimizer update.

    Under ``jax.pmap`` over the data axis the gradients are first averaged over the devices
    (``genjax.core.collectives.pmean``); on one device or under sharded jit they are used as
    they are.

    Args:
      tx: the optax transformation.
      grads: gradients, shaped like ``params``.
      opt_state: the transformation's state.
      params: current parameters.

    Returns:
      ``(new_params, new_opt_state)``.
    """
    grads = pmean(grads)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


def check_fractions(**fractions: float) -> None:
    """Raises ValueError naming the first value outside [0, 1) (EMA decays, dropout rates)."""
    for name, value in fractions.items():
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value}")


def warmed_up_decay(decay: float, step: jax.Array) -> jax.Array:
    """The EMA decay to use at ``step``: ``min(decay, (1 + step) / (10 + step))``.

    An EMA started at the initial weights with a plain 0.999 decay is still half the
    initialisation after 700 steps; this warm-up (TensorFlow's ``ExponentialMovingAverage``
    with ``num_updates``) averages only over the steps taken so far early in training and
    reaches ``decay`` after ``(10 decay - 1) / (1 - decay)`` steps (8,990 for 0.999).

    Args:
      decay: the EMA decay in [0, 1).
      step: the number of updates made before this one (``state.step``).

    Returns:
      The float32 decay for this update.
    """
    step = jnp.asarray(step, jnp.float32)
    return jnp.minimum(jnp.float32(decay), (1.0 + step) / (10.0 + step))


def ema_update(ema: PyTree, params: PyTree, decay: float) -> PyTree:
    """``decay * ema + (1 - decay) * params``, leaf by leaf.

    Args:
      ema: the running average.
      params: the new parameters.
      decay: the EMA decay in [0, 1).

    Returns:
      The updated average.
    """
    return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)
