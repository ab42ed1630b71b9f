"""The compute-dtype policy (``--config.precision=fp32|bf16``).

What each precision keeps in which dtype:

* parameters and optimizer state: float32 always (modules' ``param_dtype``; optax states
  follow the parameters), so small updates are not rounded away;
* activations: the policy's ``compute_dtype`` (modules' ``dtype``; inputs are cast to it by
  the first layer);
* normalisation statistics: float32 (flax's BatchNorm reduces in float32 and stores its
  running averages in ``param_dtype``);
* logits and losses: float32 (``Precision.for_loss``, applied where a module hands its output
  to a loss: the DCGAN discriminator's logits, the classifier's logits).

A family supports bf16 by giving its modules a ``dtype`` field that its builder sets from
``precision_policy(config.precision).compute_dtype``, by computing its losses from
``for_loss`` outputs, and by declaring ``bf16`` in its ``Family.precisions``; the experiment
builder refuses a precision the family does not declare.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

PRECISIONS = ("fp32", "bf16")


@dataclasses.dataclass(frozen=True)
class Precision:
    """A compute-dtype policy.

    Attributes:
      name: ``"fp32"`` or ``"bf16"``.
      compute_dtype: dtype of activations (modules' ``dtype``).
      param_dtype: dtype of parameters and optimizer state (float32).
    """

    name: str
    compute_dtype: Any
    param_dtype: Any = jnp.float32

    def cast_input(self, x: jax.Array) -> jax.Array:
        """``x`` in the compute dtype when floating (integer labels are left alone)."""
        return x.astype(self.compute_dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x

    @staticmethod
    def for_loss(x: jax.Array) -> jax.Array:
        """``x`` in float32, for losses and metrics."""
        return x.astype(jnp.float32)


def precision_policy(name: str) -> Precision:
    """The policy called ``name``.

    Raises:
      ValueError: an unknown name (the message lists the known ones).
    """
    policies = {"fp32": Precision("fp32", jnp.float32), "bf16": Precision("bf16", jnp.bfloat16)}
    if name not in policies:
        raise ValueError(f"unknown precision {name!r}; choose one of {', '.join(PRECISIONS)}")
    return policies[name]

