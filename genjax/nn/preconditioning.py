"""EDM's network preconditioning (Karras et al., 2022), shared by the EDM and consistency
families.

``D(x; sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x; c_noise(sigma))`` with

* ``c_skip = sigma_data^2 / ((sigma - sigma_min)^2 + sigma_data^2)``,
* ``c_out = (sigma - sigma_min) sigma_data / sqrt(sigma^2 + sigma_data^2)``,
* ``c_in = 1 / sqrt(sigma^2 + sigma_data^2)``, ``c_noise = ln(sigma) / 4``.

``sigma_min = 0`` is EDM's Table 1; ``sigma_min > 0`` is the consistency models' boundary
condition (Song et al., 2023, Appendix C): ``c_skip(sigma_min) = 1`` and
``c_out(sigma_min) = 0``, so ``f(x, sigma_min) = x`` whatever the network.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def preconditioning(sigma: Array, sigma_data: float,
                    sigma_min: float = 0.0) -> tuple[Array, Array, Array, Array]:
    """``(c_skip, c_out, c_in, c_noise)`` at noise levels ``sigma`` (any shape, > 0)."""
    s2, d2 = jnp.square(sigma), sigma_data ** 2
    c_skip = d2 / (jnp.square(sigma - sigma_min) + d2)
    c_out = (sigma - sigma_min) * sigma_data * jax.lax.rsqrt(s2 + d2)
    c_in = jax.lax.rsqrt(s2 + d2)
    c_noise = 0.25 * jnp.log(sigma)
    return c_skip, c_out, c_in, c_noise


def expand(v: Array, x: Array) -> Array:
    """``v (B,)`` shaped ``(B, 1, ..., 1)`` to broadcast against ``x (B, ...)``."""
    return v.reshape(v.shape + (1,) * (x.ndim - v.ndim)).astype(x.dtype)
