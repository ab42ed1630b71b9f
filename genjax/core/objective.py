"""The Objective protocol: the one seam every model family plugs into.

A family is an objective plus its modules. The training loop, checkpoints, data and
evaluation only ever see this protocol, so nothing outside a family branches on it.
"""

from __future__ import annotations

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
