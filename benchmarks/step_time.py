"""DCGAN step time: genjax (jit, lax.scan K=10) against the same DCGAN in PyTorch, same run.

    python -m pip install -e ".[bench]"      # torch==2.13.0, a local CPU build here
    python benchmarks/step_time.py [--batch 64] [--iters 20] [--threads 2]

Each variant runs in its own subprocess (so compile time and peak memory are its own) on
the same real batch of 64 padded MNIST digits, one D update on real + fake then one G update
on fresh noise per step. Prints one table: ms/step, ratio to PyTorch eager, compile time
(first call minus a steady step; for torch.compile, the warm-up), and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

VARIANTS = ("genjax_jit", "genjax_scan10", "torch_eager", "torch_compile")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _real_data(batch: int) -> dict:
    """The loop's first batch: padded mnist_subset digits in [-1, 1] (``image``, NHWC float32)
    and their ``label`` (int32)."""
    from genjax.data import Batches, load_source
    from genjax.data.pipeline import images_to_float

    src = load_source("mnist_subset", "train")
    return Batches(src, batch, 0, transform=images_to_float(pad_to=32)).batch(0)


def _real_batch(batch: int):
    """A real batch: padded mnist_subset digits in [-1, 1], NHWC float32."""
    return _real_data(batch)["image"]


def run_genjax(batch: int, iters: int, k: int, config_name: str = "dcgan_mnist",
               start_step: int = 0) -> dict:
    """Times the jitted train step of config ``config_name`` (K = ``k`` steps per call).

    Args:
      batch: batch size.
      iters: timed steps (rounded down to whole calls).
      k: steps per call (``lax.scan`` when > 1).
      config_name: a config of ``experiments/configs``.
      start_step: ``state.step`` to time from (e.g. a progressive GAN's final phase).

    Returns:
      ms_per_step, compile_s (first call minus a steady call), peak_rss_mb, and num_params
      (parameter count of each top-level network, e.g. generator and discriminator).
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    from genjax.app.experiment import build_objective
    from genjax.app.training import configure_jax
    from genjax.config import load_config
    from genjax.core.step import make_train_step
    from genjax.data import dataset_spec

    configure_jax()
    jax.config.update("jax_compilation_cache_dir", None)  # measure real compiles
    config = load_config(config_name)
    gan = build_objective(config, dataset_spec("mnist_subset"))
    real = _real_data(batch)  # image and label, as the training loop feeds the step
    state = jax.jit(gan.init)(jax.random.PRNGKey(0), real)
    state = state.replace(step=jnp.asarray(start_step, jnp.int32))
    num_params = {k: sum(x.size for x in jax.tree.leaves(v)) for k, v in state.params.items()}
    step = make_train_step(gan, steps_per_call=k)
    data = {f: np.stack([v] * k) if k > 1 else v for f, v in real.items()}
    key = jax.random.PRNGKey(1)
    t0 = time.perf_counter()
    state, m = step(state, data, key)
    jax.block_until_ready(m)
    first = time.perf_counter() - t0
    state, m = step(state, data, key)  # one more untimed call
    jax.block_until_ready(m)
    calls = max(1, iters // k)
    t0 = time.perf_counter()
    for _ in range(calls):
        state, m = step(state, data, key)
    jax.block_until_ready(m)
    per_call = (time.perf_counter() - t0) / calls
    return {"ms_per_step": per_call / k * 1e3, "compile_s": first - per_call,
            "peak_rss_mb": _peak_rss_mb(), "num_params": num_params}


def run_torch(batch: int, iters: int, threads: int, compiled: bool) -> dict:
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    from torch_dcgan import make_step

    torch.set_num_threads(threads)
    real = torch.from_numpy(_real_batch(batch).transpose(0, 3, 1, 2).copy())
    step, _ = make_step(batch, 1)
    if compiled:
        step = torch.compile(step)
    t0 = time.perf_counter()
    for _ in range(3):
        step(real)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(iters):
        step(real)
    ms = (time.perf_counter() - t0) / iters * 1e3
    return {"ms_per_step": ms, "compile_s": warm - 3 * ms / 1e3, "peak_rss_mb": _peak_rss_mb()}


def worker(variant: str, batch: int, iters: int, threads: int) -> dict:
    if variant == "genjax_jit":
        return run_genjax(batch, iters, 1)
    if variant == "genjax_scan10":
        return run_genjax(batch, iters, 10)
    return run_torch(batch, iters, threads, compiled=variant == "torch_compile")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.batch, args.iters, args.threads)))
        return
    rows = {}
    for variant in args.variants.split(","):
        cmd = [sys.executable, __file__, "--worker", variant, "--batch", str(args.batch),
               "--iters", str(args.iters), "--threads", str(args.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if out.returncode or not lines:
            rows[variant] = {"error": (out.stderr.strip().splitlines() or ["?"])[-1][:120]}
        else:
            rows[variant] = json.loads(lines[-1])
    ref = rows.get("torch_eager", {}).get("ms_per_step")
    cpu = platform.processor() or platform.machine()
    print(f"DCGAN 32x32x1, batch {args.batch}, D+G step; {cpu}, {os.cpu_count()} cores, "
          f"torch threads {args.threads}")
    print("| variant | ms/step | vs torch eager | compile s | peak RSS MiB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for variant, r in rows.items():
        if "error" in r:
            print(f"| {variant} | failed: {r['error']} | | | |")
            continue
        ratio = f"{r['ms_per_step'] / ref:.2f}x" if ref else "n/a"
        print(f"| {variant} | {r['ms_per_step']:.1f} | {ratio} | {r['compile_s']:.1f} | "
              f"{r['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
