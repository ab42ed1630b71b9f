"""Jitted training steps built from an Objective."""

from __future__ import annotations

from collections.abc import Callable

import jax

from genjax.core.objective import Batch, Metrics, Objective
from genjax.core.state import TrainState
from genjax.core.xla import xla_cpu_compiler_options

StepFn = Callable[[TrainState, Batch, jax.Array], tuple[TrainState, Metrics]]


def step_key(base_key: jax.Array, step: jax.Array) -> jax.Array:
    """The randomness of step ``step``: ``fold_in(base_key, step)``, so a resumed run repeats it."""
    return jax.random.fold_in(base_key, step)


def _advance(objective: Objective) -> StepFn:
    """One step with the step's own key; increments ``state.step`` for every family."""

    def advance(state: TrainState, batch: Batch, base_key: jax.Array):
        new_state, metrics = objective.train_step(state, batch, step_key(base_key, state.step))
        return new_state.replace(step=state.step + 1), metrics

    return advance


def k_steps(objective: Objective, steps_per_call: int = 1, unroll: bool | int = True) -> StepFn:
    """The un-jitted step program every parallel mode compiles: one step, or K through ``lax.scan``.

    Args:
      objective: the family's objective.
      steps_per_call: K > 1 scans K steps; ``batch`` then holds K batches stacked on axis 0
        and every metric gets a leading K axis.
      unroll: ``lax.scan``'s unroll (see ``make_train_step``).

    Returns:
      ``fn(state, batch, base_key) -> (state, metrics)``; step ``i`` uses
      ``fold_in(base_key, i)`` whatever K is.
    """
    if steps_per_call < 1:
        raise ValueError(f"steps_per_call must be >= 1, got {steps_per_call}")
    advance = _advance(objective)
    if steps_per_call == 1:
        return advance

    def fn(state: TrainState, batches: Batch, base_key: jax.Array):
        return jax.lax.scan(lambda s, b: advance(s, b, base_key), state, batches, unroll=unroll)

    return fn


def make_train_step(
    objective: Objective,
    *,
    steps_per_call: int = 1,
    unroll: bool | int = True,
    donate: bool = True,
) -> StepFn:
    """A jitted ``step(state, batch, base_key) -> (state, metrics)`` on one device.

    ``genjax.core.parallel`` has the same step under ``jax.pmap`` and over a device mesh.

    Args:
      objective: the family's objective.
      steps_per_call: K > 1 runs K steps in one device call with ``lax.scan``; then ``batch``
        holds K batches stacked on a leading axis and every metric gets a leading K axis.
      unroll: ``lax.scan``'s unroll. Fully unrolled is the default because a rolled scan ran
        20x slower on XLA-CPU (measured: see benchmarks/RESULTS.md); on GPU ``1`` compiles faster.
      donate: donate the input state's buffers to the output (halves peak state memory).
        On CPU the step is compiled with ``xla_cpu_compiler_options()`` (XLA's own
        convolutions: the DCGAN step ~467 -> ~318 ms on 2 cores).

    Returns:
      The jitted step. Its randomness is ``fold_in(base_key, state.step)`` for every step,
      whatever ``steps_per_call`` is.
    """
    fn = k_steps(objective, steps_per_call, unroll)
    return jax.jit(fn, donate_argnums=(0,) if donate else (),
                   compiler_options=xla_cpu_compiler_options() or None)
