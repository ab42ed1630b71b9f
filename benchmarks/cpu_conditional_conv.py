"""XLA:CPU: convolutions (forward and gradient) at the top level, inside lax.cond /
lax.switch, and inside a lax.scan (while loop), with genjax's Eigen option and without.

    python benchmarks/cpu_conditional_conv.py

Why it exists: ``ProgressiveGAN`` picked its growth level with ``lax.switch`` and its step
was ~19x slower than the level's branch alone on CPU. This isolates the cause (two 3x3
convolutions, 32 -> 32 channels, batch 16 at 32x32, and their gradient) and is the check
to re-run on a new jaxlib: when the conditional rows match the plain row, ProgressiveGAN
can go back to ``lax.switch`` on CPU too (``select_branches=False``).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp

from genjax.core.xla import xla_cpu_compiler_options


def conv(x: jax.Array, w: jax.Array) -> jax.Array:
    return jax.lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def loss(w: jax.Array, x: jax.Array) -> jax.Array:
    return jnp.sum(conv(jnp.tanh(conv(x, w)), w) ** 2)


def ms_per_call(fn, *args, reps: int = 2) -> float:
    jax.block_until_ready(fn(*args))
    t0 = time.perf_counter()
    for _ in range(reps):
        jax.block_until_ready(fn(*args))
    return (time.perf_counter() - t0) / reps * 1e3


def main() -> None:
    x = jax.random.normal(jax.random.PRNGKey(0), (16, 32, 32, 32))
    w = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 32, 32))
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}; two 3x3 convs, "
          "batch 16, 32x32x32")
    print("| computation | where | Eigen convolutions (genjax) ms | XLA default ms |")
    print("| --- | --- | ---: | ---: |")
    for what, f in (("gradient", jax.grad(loss)), ("forward", loss)):
        variants = {
            "plain": lambda w, x, i, f=f: f(w, x),
            "lax.cond": lambda w, x, i, f=f: jax.lax.cond(
                i > 0, f, lambda w, x: 2 * f(w, x), w, x),
            "lax.switch (2 branches)": lambda w, x, i, f=f: jax.lax.switch(
                i, [f, lambda w, x: 2 * f(w, x)], w, x),
            "lax.scan, 1 iteration": lambda w, x, i, f=f: jax.lax.scan(
                lambda c, _: (c, f(c, x)), w, None, length=1)[1],
        }
        for name, fn in variants.items():
            row = [ms_per_call(jax.jit(fn, compiler_options=opts), w, x, 1)
                   for opts in (xla_cpu_compiler_options(), {})]
            print(f"| {what} | {name} | {row[0]:.0f} | {row[1]:.0f} |", flush=True)


if __name__ == "__main__":
    main()
