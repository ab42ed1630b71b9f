"""mu-law companding and quantisation (ITU-T G.711's curve, 256 levels as WaveNet uses)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

#: Quantisation levels of the WaveNet output (``mu + 1``).
LEVELS = 256


def mu_law_encode(x: jax.Array, levels: int = LEVELS) -> jax.Array:
    """Waveforms in [-1, 1] -> int32 levels in [0, levels): ``y = sign(x) ln(1 + mu |x|) /
    ln(1 + mu)`` with ``mu = levels - 1``, then ``round((y + 1) / 2 * mu)`` (values outside
    [-1, 1] are clipped first)."""
    mu = levels - 1
    x = jnp.clip(jnp.asarray(x, jnp.float32), -1.0, 1.0)
    y = jnp.sign(x) * jnp.log1p(mu * jnp.abs(x)) / jnp.log1p(jnp.float32(mu))
    return jnp.floor((y + 1.0) * (mu / 2.0) + 0.5).astype(jnp.int32)


def mu_law_decode(q: jax.Array, levels: int = LEVELS) -> jax.Array:
    """int levels in [0, levels) -> float32 waveforms in [-1, 1]: the inverse curve
    ``sign(y) ((1 + mu)^|y| - 1) / mu`` at the level's centre ``y = 2 q / mu - 1``."""
    mu = levels - 1
    y = 2.0 * jnp.asarray(q, jnp.float32) / mu - 1.0
    return jnp.sign(y) * jnp.expm1(jnp.abs(y) * jnp.log1p(jnp.float32(mu))) / mu


def silence(levels: int = LEVELS) -> int:
    """The level of 0.0 (``round(mu / 2)``, half up): the token sampling starts from."""
    return levels // 2
