"""Training throughput per family in fp32 and bf16: ms/step, images/s and achieved TFLOP/s.

    python benchmarks/gpu_throughput.py                       # GPU defaults (64x64 DCGAN, ...)
    python benchmarks/gpu_throughput.py --tiny                # CPU smoke run (seconds)
    python benchmarks/gpu_throughput.py --parallel sharded --steps-per-call 10 --unroll 1

Synthetic batches only (no tensorflow-datasets, mlxtend or ml_collections: the lent GPU
machine has none of them). FLOPs per step come from XLA's cost analysis of the compiled
one-device step on the global batch (``compiled.cost_analysis()["flops"]``), so TFLOP/s is
"what XLA says the step computes / measured time", compared with the ~790 TFLOP/s bf16
dense-matmul ceiling of one H200 (~790 TFLOP/s bf16, seen in a matmul probe) times the device count.

Adding a family: one function ``(precision_name, size) -> (objective, batch)`` in FAMILIES.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np
import optax

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genjax.core.parallel import step_factory  # noqa: E402
from genjax.core.precision import precision_policy  # noqa: E402
from genjax.core.step import k_steps  # noqa: E402

H200_BF16_TFLOPS = 790.0


def _images(batch: int, size: int, channels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (batch, size, size, channels)).astype(np.float32)


def dcgan(precision: str, batch: int, size: int, tiny: bool):
    """The article's DCGAN (default widths for ``size``; 64 -> 4 stages)."""
    from genjax.families.gan.dcgan import Discriminator, Generator
    from genjax.families.gan.objective import GAN

    dtype = precision_policy(precision).compute_dtype
    g_feat = (16, 8) if tiny else None
    d_feat = (8, 16) if tiny else None
    gan = GAN(generator=Generator(features=g_feat, channels=3, image_size=size, dtype=dtype),
              discriminator=Discriminator(features=d_feat, image_size=size, channels=3,
                                          dtype=dtype),
              latent_dim=100, g_optimizer=optax.adam(2e-4, b1=0.5),
              d_optimizer=optax.adam(2e-4, b1=0.5))
    return gan, {"image": _images(batch, size, 3)}


def classifier(precision: str, batch: int, size: int, tiny: bool):
    """The digit classifier (the domain feature network) on ``size`` x ``size`` images."""
    from genjax.families.classifier.network import DigitClassifier
    from genjax.families.classifier.objective import Classifier

    dtype = precision_policy(precision).compute_dtype
    clf = Classifier(DigitClassifier(features=16 if tiny else 128, dtype=dtype),
                     optax.adam(1e-3))
    labels = np.random.default_rng(1).integers(0, 10, batch).astype(np.int32)
    return clf, {"image": _images(batch, size, 1), "label": labels}


FAMILIES: dict[str, Callable] = {"dcgan": dcgan, "classifier": classifier}
DEFAULT_SIZES = {"dcgan": 64, "classifier": 32}


def compile_one_step(objective, state, batch, key):
    """The one-device step on the global batch, compiled (state donated)."""
    return jax.jit(k_steps(objective), donate_argnums=0).lower(state, batch, key).compile()


def step_flops(compiled) -> float:
    """FLOPs of one compiled step, from XLA's cost analysis."""
    cost = compiled.cost_analysis()
    if isinstance(cost, list | tuple):  # older jax: one dict per program
        cost = cost[0] if cost else {}
    return float((cost or {}).get("flops", float("nan")))


def measure(family: str, precision: str, *, batch: int, size: int, iters: int, warmup: int,
            parallel: str, steps_per_call: int, unroll: bool | int, tiny: bool) -> dict:
    """Times one family in one precision.

    Returns:
      A row: ms/step, images/s, GFLOP/step, TFLOP/s and its share of the bf16 ceiling.
    """
    objective, one = FAMILIES[family](precision, batch, size, tiny)
    key = jax.random.PRNGKey(0)
    state = jax.jit(objective.init)(key, one)
    t0 = time.perf_counter()
    compiled = compile_one_step(objective, state, one, key)
    flops = step_flops(compiled)
    k = steps_per_call
    batches = one if k == 1 else {n: np.stack([v] * k) for n, v in one.items()}
    if parallel == "single" and k == 1:
        step = compiled  # the program whose FLOPs were counted
    else:
        t0 = time.perf_counter()
        step = step_factory(parallel)(objective, steps_per_call=k, unroll=unroll)
    state, metrics = step(state, batches, key)
    jax.block_until_ready(state)
    compile_s = time.perf_counter() - t0
    for _ in range(warmup):
        state, metrics = step(state, batches, key)
    jax.block_until_ready(state)
    t0 = time.perf_counter()
    for _ in range(iters):
        state, metrics = step(state, batches, key)
    jax.block_until_ready((state, metrics))
    seconds = (time.perf_counter() - t0) / (iters * k)
    devices = 1 if parallel == "single" else jax.device_count()
    tflops = flops / seconds / 1e12
    return {"family": family, "precision": precision, "parallel": parallel, "devices": devices,
            "batch": batch, "size": size, "steps_per_call": k, "ms_per_step": 1e3 * seconds,
            "images_per_s": batch / seconds, "gflop_per_step": flops / 1e9,
            "tflops": tflops, "ceiling_pct": 100 * tflops / (H200_BF16_TFLOPS * devices),
            "compile_s": compile_s, "backend": jax.default_backend(),
            "device": jax.devices()[0].device_kind,
            "finite": bool(all(np.isfinite(np.asarray(v, np.float32)).all()
                               for v in jax.tree.leaves(metrics)))}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--batch", type=int, default=256, help="global batch size")
    parser.add_argument("--size", type=int, default=0, help="image side (0: per family)")
    parser.add_argument("--iters", type=int, default=50, help="timed calls")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls after compile")
    parser.add_argument("--parallel", default="single", choices=("single", "pmap", "sharded"))
    parser.add_argument("--steps-per-call", type=int, default=1)
    parser.add_argument("--unroll", type=int, default=1,
                        help="lax.scan unroll for --steps-per-call > 1 (0: fully unrolled)")
    parser.add_argument("--tiny", action="store_true",
                        help="CPU smoke settings: narrow models, 16x16, batch 8, 2 iterations")
    parser.add_argument("--json", help="also write the rows to this JSON-lines file")
    args = parser.parse_args(argv)
    if args.tiny:
        args.batch, args.iters, args.warmup, args.size = 8, 2, 1, args.size or 16
    rows = []
    for family in args.families.split(","):
        if family not in FAMILIES:
            parser.error(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
        for precision in args.precisions.split(","):
            rows.append(measure(
                family, precision, batch=args.batch, size=args.size or DEFAULT_SIZES[family],
                iters=args.iters, warmup=args.warmup, parallel=args.parallel,
                steps_per_call=args.steps_per_call, unroll=args.unroll or True, tiny=args.tiny))
            r = rows[-1]
            print(f"{r['family']:<11} {r['precision']:<5} {r['ms_per_step']:9.2f} ms/step "
                  f"{r['images_per_s']:11.0f} img/s {r['gflop_per_step']:9.2f} GFLOP/step "
                  f"{r['tflops']:8.2f} TFLOP/s ({r['ceiling_pct']:5.2f}% of "
                  f"{H200_BF16_TFLOPS:.0f}x{r['devices']}) compile {r['compile_s']:.1f} s",
                  flush=True)
    if args.json:
        Path(args.json).write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"backend {jax.default_backend()}, {jax.device_count()} device(s) "
          f"({jax.devices()[0].device_kind}), batch {args.batch}, parallel {args.parallel}, "
          f"steps/call {args.steps_per_call}")
    return rows


if __name__ == "__main__":
    main()
