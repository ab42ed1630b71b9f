"""XLA compiler options genjax uses for its jitted steps."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

_YNN_OPTION = "xla_cpu_experimental_ynn_fusion_type"
_YNN_DOT_AND_REDUCE = "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"


def xla_cpu_compiler_options(backend: str | None = None) -> dict[str, str]:
    """``jax.jit`` compiler options that make these convolutions fastest on CPU.

    XLA-CPU (jaxlib 0.10) sends convolutions, dots and reductions to YNNPACK by
    default. For the DCGAN layers, XLA's own (Eigen) convolutions are faster:
    strided convolutions ~1.3x, their kernel gradients ~1.5x, and the
    sub-pixel pieces of :func:`conv_transpose` ~2x; a whole 32x32 DCGAN step
    (batch 64, 2 cores) went from ~467 to ~318 ms/step. Per layer:
    ``benchmarks/conv_transpose_grad.py --eigen-conv``. These options keep
    YNNPACK for dots and reductions only. Results are unchanged up to float32
    summation order.

    Use per step, ``jax.jit(step, compiler_options=xla_cpu_compiler_options())``,
    or process-wide with
    ``XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=individual_dot,reduce``.

    Args:
      backend: the platform the function will be compiled for (default:
        ``jax.default_backend()``).

    Returns:
      The options for CPU; an empty dict on other backends, or when this
      jaxlib does not accept the option (checked by compiling a tiny function).
    """
    if (backend or jax.default_backend()) != "cpu" or not _accepted():
        return {}
    return {_YNN_OPTION: _YNN_DOT_AND_REDUCE}


@functools.cache
def _accepted() -> bool:
    """Whether this jaxlib knows the option (checked once by compiling a tiny function)."""
    try:
        jax.jit(lambda x: x + 1, compiler_options={_YNN_OPTION: _YNN_DOT_AND_REDUCE}).lower(
            jnp.zeros(())).compile()
    except Exception:  # noqa: BLE001 - unknown option in another jaxlib: no options
        return False
    return True
