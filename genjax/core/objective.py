"""The Objective protocol: the one seam every model family plugs into.

A family is an objective plus its modules. The training loop, checkpoints, data and
evaluation only ever see this protocol, so nothing outside a family branches on it.

Optional capabilities (found with ``hasattr``/signature, never by family name):

* ``sample(state, key, num, **options)``: keyword options such as ``label``, ``sampler``,
  ``steps``, ``guidance``; ``genjax sample --label 3`` passes them only to a ``sample`` that
  names them (``sample_options``), and says which options a family takes otherwise.
* ``reconstruct(state, batch, key) -> images``: autoencoders; the loop then writes
  ``samples/recon_step_X.png`` (top row inputs, bottom row reconstructions).
* ``test_metrics(state, batch, key) -> Metrics``: per-batch means of the expensive held-out
  numbers ``genjax eval`` reports with a ``test_`` prefix (an ELBO, an IWAE bound, bits per
  dimension); without it ``genjax eval`` averages ``eval_metrics``.
* ``axis_name`` (field): set by the builder for ``jax.pmap``; see ``genjax.core.collectives``.
"""

from __future__ import annotations

import inspect
from typing import Protocol, runtime_checkable

import jax

from genjax.core.state import TrainState

Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]


@runtime_checkable
class Objective(Protocol):
    """What a model family provides. Every method is pure and jit-able.

    Attributes:
      data_key: the batch field the model generates (``"image"`` or ``"point"``).
    """

    data_key: str

    def init(self, key: jax.Array, batch: Batch) -> TrainState:
        """Initial state, shaped from an example batch."""
        ...

    def train_step(
        self, state: TrainState, batch: Batch, key: jax.Array
    ) -> tuple[TrainState, Metrics]:
        """One optimisation step; returns the new state and scalar metrics (float32)."""
        ...

    def sample(self, state: TrainState, key: jax.Array, num: int) -> jax.Array:
        """``num`` samples, images NHWC in [-1, 1] or points (num, 2)."""
        ...

    def eval_metrics(self, state: TrainState, batch: Batch, key: jax.Array) -> Metrics:
        """Scalar metrics on a held-out batch."""
        ...


def sample_options(objective: Objective) -> tuple[str, ...]:
    """The keyword options ``objective.sample`` takes beyond ``(state, key, num)``."""
    params = list(inspect.signature(objective.sample).parameters.values())[3:]
    return tuple(p.name for p in params
                 if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
