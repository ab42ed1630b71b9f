"""VQ-VAE codebook health: plain vs EMA + dead-code restarts, and ms/step against PyTorch eager.

    python -m pip install -e ".[bench]"      # torch==2.13.0, a local CPU build here
    flock /tmp/genjax-bench.lock python benchmarks/vqvae_codebook.py [--steps 1500]

Trains the ``vqvae_mnist`` config twice on the embedded MNIST train split for the same steps,
batches and seed: ``plain`` (codebook loss, no restarts) and ``ema+restarts`` (the config's
default). Then encodes the whole test split (1,000 digits, 49,000 code positions) and reports
the share of the K codes used at least once there, the perplexity of the test code
histogram (at most K), reconstruction MSE and PSNR (pixels on [0, 1], reconstructions clipped;
PSNR averaged over images). Last, the ms/step of the EMA+restarts step against the same
architecture in PyTorch eager (``benchmarks/torch_vqvae.py``) on the same real batch,
alternating blocks of steps of the two so a shared machine's load hits both alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

VARIANTS = {"plain": ["model.variant=plain", "model.restarts=False"],
            "ema+restarts": ["model.variant=ema", "model.restarts=True"]}


def _config(overrides: list[str]):
    from genjax import config as gconfig

    config = gconfig.load_config("vqvae_mnist")
    gconfig.apply_overrides(config, overrides)
    return config


def _test_images() -> np.ndarray:
    from genjax.data.pipeline import images_to_float, load_arrays

    arrays = load_arrays("mnist_subset", "test")
    return images_to_float()(arrays)["image"]


def train_variant(name: str, steps: int) -> tuple[object, object, float]:
    """Trains one variant; returns (objective, state, seconds)."""
    import jax

    from genjax.app.experiment import build
    from genjax.core.loop import init_state, run_keys
    from genjax.core.step import make_train_step

    config = _config([*VARIANTS[name], f"train.steps={steps}"])
    experiment = build(config, with_eval=False)
    objective, batches = experiment.objective, experiment.train_batches
    state = init_state(objective, batches, config.seed)
    step = make_train_step(objective)
    key = run_keys(config.seed)["train"]
    t0 = time.perf_counter()
    for i in range(steps):
        state, _ = step(state, batches.batch(i), key)
    jax.block_until_ready(state)
    return objective, state, time.perf_counter() - t0


def test_split_numbers(objective, state, images: np.ndarray, chunk: int = 250) -> dict:
    """Usage and perplexity of the whole test split's codes; reconstruction MSE and PSNR."""
    import jax
    import jax.numpy as jnp

    from genjax.families.vqvae.objective import image_quality
    from genjax.nn import quantizer as vq

    @jax.jit
    def run(state, x):
        codes = objective.codes(state.params, state.model_state, x)
        recon = objective.decode(state.params, state.model_state, codes)
        err = ((recon - x) / 2.0) ** 2
        per_image = jnp.mean(err.reshape(x.shape[0], -1), -1)
        return vq.code_counts(codes, objective.num_codes), per_image, image_quality(x, recon)

    counts, per_image = 0.0, []
    for i in range(0, len(images), chunk):
        c, p, _ = run(state, images[i:i + chunk])
        counts, per_image = counts + np.asarray(c), per_image + [np.asarray(p)]
    per_image = np.concatenate(per_image).astype(np.float64)
    p = counts / counts.sum()
    nz = p[p > 0]
    return {
        "usage": float((counts > 0).mean()),
        "codes_used": int((counts > 0).sum()),
        "perplexity": float(np.exp(-(nz * np.log(nz)).sum())),
        "recon_mse": float(per_image.mean()),
        "psnr": float(np.mean(-10 * np.log10(np.maximum(per_image, 1e-10)))),
    }


def time_steps(rounds: int, per_round: int, threads: tuple[int, ...]) -> dict:
    """ms/step of genjax's EMA+restarts step and of PyTorch eager, in interleaved blocks.

    Returns:
      ``{"genjax": [ms...], "torch_<t>": [ms...] per thread count, "genjax_compile_s": s}``.
    """
    import jax
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    from torch_vqvae import VQVAE as TorchVQVAE
    from torch_vqvae import make_step as torch_make_step

    from genjax.app.experiment import build
    from genjax.core.loop import run_keys
    from genjax.core.step import make_train_step

    torch.manual_seed(0)
    config = _config([*VARIANTS["ema+restarts"]])
    experiment = build(config, with_eval=False)
    objective = experiment.objective
    batch = experiment.train_batches.batch(0)
    state = jax.jit(objective.init)(jax.random.PRNGKey(0), batch)
    step = make_train_step(objective)
    key = run_keys(0)["train"]
    t0 = time.perf_counter()
    state, _ = step(state, batch, key)
    jax.block_until_ready(state)
    compile_s = time.perf_counter() - t0
    x = torch.from_numpy(np.ascontiguousarray(np.asarray(batch["image"]).transpose(0, 3, 1, 2)))
    torch_steps = {t: torch_make_step(TorchVQVAE()) for t in threads}
    for t, tstep in torch_steps.items():
        torch.set_num_threads(t)
        for _ in range(3):
            tstep(x)
    out = {"genjax": []} | {f"torch_{t}": [] for t in threads}
    for _ in range(rounds):
        for _ in range(per_round):
            t0 = time.perf_counter()
            state, _ = step(state, batch, key)
            jax.block_until_ready(state)
            out["genjax"].append(1000 * (time.perf_counter() - t0))
        for t, tstep in torch_steps.items():
            torch.set_num_threads(t)
            for _ in range(per_round):
                t0 = time.perf_counter()
                tstep(x)
                out[f"torch_{t}"].append(1000 * (time.perf_counter() - t0))
    return {**out, "genjax_compile_s": compile_s}


def quality(steps: int) -> dict:
    """Trains both variants and prints the codebook table; returns its rows."""
    images = _test_images()
    rows = {}
    for name in VARIANTS:
        objective, state, seconds = train_variant(name, steps)
        rows[name] = {**test_split_numbers(objective, state, images), "train_s": seconds,
                      "num_codes": objective.num_codes}
    k = rows["plain"]["num_codes"]
    print(f"\nVQ-VAE on mnist_subset, {steps} steps, batch 64, K={k}; "
          "test split (1,000 digits, 49,000 codes)\n")
    print("| variant | codes used (test) | usage | perplexity | recon MSE [0,1] | PSNR dB | "
          "train s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in rows.items():
        print(f"| {name} | {r['codes_used']}/{k} | {100 * r['usage']:.1f}% | "
              f"{r['perplexity']:.1f} | {r['recon_mse']:.5f} | {r['psnr']:.2f} | "
              f"{r['train_s']:.0f} |", flush=True)
    return rows


def print_timing(timing: dict) -> None:
    """The ms/step table, ratios to the fastest PyTorch thread count."""
    medians = {name: float(np.median(ms)) for name, ms in timing.items()
               if name != "genjax_compile_s"}
    best_torch = min(v for name, v in medians.items() if name.startswith("torch"))
    print("\n| step (EMA+restarts, batch 64) | median ms | min ms | ratio to best torch |")
    print("| --- | ---: | ---: | ---: |")
    for name, ms in medians.items():
        label = ("genjax (jit)" if name == "genjax"
                 else f"PyTorch eager, {name.split('_')[1]} thread(s)")
        print(f"| {label} | {ms:.1f} | {min(timing[name]):.1f} | {ms / best_torch:.2f} |")
    print(f"\ngenjax compile (first step): {timing['genjax_compile_s']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds")
    parser.add_argument("--per-round", type=int, default=10, help="steps per round and side")
    parser.add_argument("--threads", default="1,2", help="torch intra-op thread counts")
    parser.add_argument("--part", choices=("all", "quality", "timing"), default="all",
                        help="quality: train and score the two variants (needs no lock); "
                             "timing: only the ms/step table (run it under flock)")
    args = parser.parse_args()

    from genjax.app.training import configure_jax

    configure_jax()
    rows, timing = {}, {}
    if args.part in ("all", "quality"):
        rows = quality(args.steps)
    if args.part in ("all", "timing"):
        timing = time_steps(args.rounds, args.per_round,
                            tuple(int(t) for t in args.threads.split(",")))
        print_timing(timing)
    print(json.dumps({"steps": args.steps, "variants": rows, "timing": timing}))


if __name__ == "__main__":
    main()
