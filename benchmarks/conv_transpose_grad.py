"""Micro-benchmark: stock flax convolutions vs genjax.nn's, per DCGAN layer.

For each layer of the 32x32 DCGAN at batch 64 it times, under ``jax.jit``:

* forward: ``module.apply(params, x)``;
* backward: the VJP of the output (input and kernel gradients together),
  excluding the forward pass.

Generator layers compare ``flax.linen.ConvTranspose`` with
``genjax.nn.ConvTranspose``; discriminator layers compare ``flax.linen.Conv``
with ``genjax.nn.Conv``. Each number is the minimum over ``--repeats`` rounds
of ``--iters`` calls, every round started when the machine is idle (other
processes add noise on shared CPUs). XLA flags are read from ``XLA_FLAGS``
as usual; ``--eigen-conv`` compiles with genjax.nn's recommended XLA-CPU
options instead (see :func:`genjax.nn.xla_cpu_compiler_options`).

Usage::

    python benchmarks/conv_transpose_grad.py [--batch 64] [--eigen-conv]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genjax.nn import Conv, ConvTranspose, torch_padding, xla_cpu_compiler_options

# (name, in_ch, out_ch, in_size, stride, pytorch padding) at 32x32.
GENERATOR = [
    ("G 100->256 1->4", 100, 256, 1, 1, 0),
    ("G 256->128 4->8", 256, 128, 4, 2, 1),
    ("G 128->64 8->16", 128, 64, 8, 2, 1),
    ("G 64->1 16->32", 64, 1, 16, 2, 1),
]
DISCRIMINATOR = [
    ("D 1->64 32->16", 1, 64, 32, 2, 1),
    ("D 64->128 16->8", 64, 128, 16, 2, 1),
    ("D 128->256 8->4", 128, 256, 8, 2, 1),
    ("D 256->1 4->1", 256, 1, 4, 1, 0),
]


def _busy(dt: float = 0.3) -> float:
    """Fraction of all CPUs busy over ``dt`` seconds (Linux /proc/stat)."""

    def read() -> tuple[int, int]:
        with open("/proc/stat") as f:
            v = [int(t) for t in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]

    t0, i0 = read()
    time.sleep(dt)
    t1, i1 = read()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def _wait_idle(threshold: float = 0.1, max_wait: float = 60.0) -> None:
    start = time.time()
    try:
        while _busy() > threshold and time.time() - start < max_wait:
            pass
    except OSError:  # no /proc: just run
        return


def time_ms(fn: Callable[..., object], *args: object, iters: int = 5, repeats: int = 3) -> float:
    """Minimum wall time of ``fn(*args)`` in ms (compiled and warmed up first).

    Args:
      fn: a jitted function.
      *args: its arguments.
      iters: calls per round.
      repeats: rounds, each started on an idle machine.

    Returns:
      The fastest call, in milliseconds.
    """
    jax.block_until_ready(fn(*args))
    best = float("inf")
    for _ in range(repeats):
        _wait_idle()
        for _ in range(iters):
            t = time.perf_counter()
            jax.block_until_ready(fn(*args))
            best = min(best, time.perf_counter() - t)
    return best * 1e3


def bench_layer(stock: nn.Module, mine: nn.Module, x: jax.Array, jit_kw: dict,
                iters: int, repeats: int) -> tuple[list[float], float]:
    """Times forward and backward of two modules sharing parameters.

    Args:
      stock: the flax module.
      mine: the genjax module (same parameter structure).
      x: the input batch.
      jit_kw: keyword arguments for ``jax.jit`` (compiler options).
      iters: calls per round.
      repeats: rounds.

    Returns:
      ``([stock fwd, mine fwd, stock bwd, mine bwd] in ms, max relative
      gradient difference)``.
    """
    params = stock.init(jax.random.key(0), x)
    y = stock.apply(params, x)
    g = jax.random.normal(jax.random.key(1), y.shape, y.dtype)
    times, grads = [], []
    fwds = [jax.jit(m.apply, **jit_kw) for m in (stock, mine)]
    bwds = [jax.jit(lambda p, x, g, m=m: jax.vjp(m.apply, p, x)[1](g), **jit_kw)
            for m in (stock, mine)]
    for f in fwds:
        times.append(time_ms(f, params, x, iters=iters, repeats=repeats))
    for f in bwds:
        times.append(time_ms(f, params, x, g, iters=iters, repeats=repeats))
        grads.append(f(params, x, g))
    err = max(float(jnp.max(jnp.abs(a - b)) / (jnp.max(jnp.abs(b)) + 1e-30))
              for a, b in zip(jax.tree.leaves(grads[1]), jax.tree.leaves(grads[0]), strict=True))
    return times, err


def main() -> None:
    """Prints the per-layer table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--eigen-conv", action="store_true",
                   help="compile with genjax.nn.xla_cpu_compiler_options()")
    args = p.parse_args()
    jit_kw = {"compiler_options": xla_cpu_compiler_options()} if args.eigen_conv else {}
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}, batch {args.batch}, "
          f"compiler_options={jit_kw.get('compiler_options')}")
    print(f"{'layer':18s} {'fwd stock':>10s} {'fwd genjax':>10s} {'bwd stock':>10s} "
          f"{'bwd genjax':>10s} {'bwd x':>7s} {'grad diff':>9s}")
    rng = np.random.default_rng(0)
    for name, cin, cout, size, s, pad in GENERATOR + DISCRIMINATOR:
        x = jnp.asarray(rng.normal(size=(args.batch, size, size, cin)), jnp.float32)
        if name.startswith("G"):
            pads = torch_padding((4, 4), pad)
            stock = nn.ConvTranspose(cout, (4, 4), (s, s), pads)
            mine = ConvTranspose(cout, (4, 4), (s, s), pads)
        else:
            pads = ((pad, pad), (pad, pad))
            stock = nn.Conv(cout, (4, 4), (s, s), pads)
            mine = Conv(cout, (4, 4), (s, s), pads)
        (f0, f1, b0, b1), err = bench_layer(stock, mine, x, jit_kw, args.iters, args.repeats)
        print(f"{name:18s} {f0:10.1f} {f1:10.1f} {b0:10.1f} {b1:10.1f} {b0 / b1:6.1f}x "
              f"{err:9.1e}", flush=True)


if __name__ == "__main__":
    main()
