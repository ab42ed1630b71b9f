"""The mode-collapse benchmark: 2D mixtures under the PacGAN protocol, many seeds at once.

    flock /tmp/genjax-bench.lock python benchmarks/toy2d_modes.py --steps 4000

Protocol (PacGAN, Lin et al. 2018, Table 1): ``toy2d_ring`` (8 modes,
std 0.01) and ``toy2d_grid`` (25 modes, std 0.05), 100,000 training points; G = 4 dense x 400
(ReLU + BatchNorm), z ~ N(0, I2); D = 3 maxout x 200 (5 pieces); Adam 1e-4, beta1 0.8;
D's minibatch 100 (PacGAN-m: 100 packed inputs, i.e. 100 m samples per step). Score on
2,500 samples: high quality (HQ) when within 3 std of the nearest mode; a mode is captured
when it has at least one HQ sample; reverse KL = KL(p_gen || uniform) over the nearest-mode
histogram of all samples. Mean +- standard error over the seeds.

Speed: every recipe trains all seeds in ONE program: the objective's ``train_step`` is
vmapped over a seed axis (state, batch and key all carry it) and ``lax.scan`` runs
``--chunk`` steps per device call. Batches are drawn on device: step t of seed s takes the
training points ``randint(fold_in(data_key_s, t), (B,), 0, 100000)``.

Length: PacGAN's published runs (their 2DRing/2DGrid configs) train 400 epochs of the
100,000 points at batch 100, i.e. 400,000 G steps per seed. The default here is far shorter.
Cost on 2 CPU cores: ~0.03 s per seed-step for GAN on an otherwise idle machine (10 seeds
vmapped: 200 steps in 64 s including compilation; ~0.11 s per seed-step while other jobs
ran); PacGAN-m and R1 cost more. So the published length is over a day per recipe and
dataset for 10 seeds on such a CPU: the full table is a GPU job (``--steps 400000``).

Scoring is the small function :func:`score_modes`, not ``genjax.metrics.mode_coverage``: the
two agree on modes and high-quality share, but here the reverse KL is taken over the
nearest-mode histogram of ALL samples, there over the high-quality samples only. The tables
in RESULTS.md were made with this one; moving to the library means re-running them.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genjax.families.gan.mlp import MaxoutDiscriminator, MLPGenerator
from genjax.families.gan.objective import GAN


def _toy2d():
    """``genjax.data.toy2d`` loaded by path (pure numpy; needs no TFDS)."""
    path = Path(__file__).resolve().parents[1] / "genjax" / "data" / "toy2d.py"
    spec = importlib.util.spec_from_file_location("_toy2d", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOY2D = _toy2d()

# PacGAN Table 1 (10 trials): (modes, HQ %) for the protocol above.
PUBLISHED = {
    ("toy2d_ring", "GAN"): (6.3, 98.2), ("toy2d_grid", "GAN"): (17.3, 94.8),
    ("toy2d_ring", "PacGAN4"): (7.8, 95.9), ("toy2d_grid", "PacGAN4"): (24.8, 93.6),
}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """One line of the table."""

    name: str
    loss: str = "non_saturating"
    pack: int = 1
    r1_weight: float = 0.0
    ema_decay: float | None = None
    d_lr: float = 1e-4
    g_lr: float = 1e-4
    b1: float = 0.8


RECIPES = {
    "GAN": Recipe("GAN"),
    "PacGAN2": Recipe("PacGAN2", pack=2),
    "PacGAN4": Recipe("PacGAN4", pack=4),
    "hinge+R1+EMA": Recipe("hinge+R1+EMA", loss="hinge", r1_weight=1.0, ema_decay=0.99),
    "hinge+R1+EMA@1e-3": Recipe("hinge+R1+EMA@1e-3", loss="hinge", r1_weight=1.0,
                                ema_decay=0.99, d_lr=1e-3, g_lr=1e-3, b1=0.5),
}


def make_gan(recipe: Recipe) -> GAN:
    """The protocol's networks and optimiser under a recipe."""
    return GAN(
        generator=MLPGenerator(),
        discriminator=MaxoutDiscriminator(),
        latent_dim=2,
        g_optimizer=optax.adam(recipe.g_lr, b1=recipe.b1),
        d_optimizer=optax.adam(recipe.d_lr, b1=recipe.b1),
        loss=recipe.loss,
        r1_weight=recipe.r1_weight,
        ema_decay=recipe.ema_decay,
        pack=recipe.pack,
        data_key="point",
    )


def score_modes(points: np.ndarray, means: np.ndarray, std: float) -> dict[str, float]:
    """Modes captured, HQ share and reverse KL of generated points (PacGAN's definitions).

    Args:
      points: generated points (N, 2).
      means: mode centres (M, 2).
      std: the modes' standard deviation.

    Returns:
      ``{"modes": captured modes, "hq": % of points within 3 std of their nearest mode,
      "reverse_kl": KL(nearest-mode histogram || uniform) in nats}``.
    """
    points = np.asarray(points, np.float64)
    d2 = ((points[:, None, :] - means[None, :, :]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    hq = np.sqrt(d2[np.arange(len(points)), nearest]) <= 3 * std
    modes = len(np.unique(nearest[hq]))
    p = np.bincount(nearest, minlength=len(means)) / len(points)
    nz = p > 0
    kl = float(np.sum(p[nz] * np.log(p[nz] * len(means))))
    return {"modes": float(modes), "hq": 100.0 * float(hq.mean()), "reverse_kl": kl}


def train_seeds(recipe: Recipe, dataset: str, seeds: int, steps: int, chunk: int,
                num_samples: int) -> tuple[list[dict[str, float]], float]:
    """Trains ``seeds`` runs of a recipe at once; returns per-seed scores and wall seconds."""
    gan = make_gan(recipe)
    data = jnp.asarray(TOY2D.sample_mixture(dataset, TOY2D.SPLIT_SIZES["train"],
                                            TOY2D.SPLIT_SEEDS["train"])[0])
    batch_size = 100 * recipe.pack
    base = jax.random.PRNGKey(0)
    seed_keys = jnp.stack([jax.random.fold_in(base, s) for s in range(seeds)])

    def batch_at(key, step):
        idx = jax.random.randint(jax.random.fold_in(key, step), (batch_size,), 0, data.shape[0])
        return {"point": data[idx]}

    def init(key):
        k_init, _, _ = jax.random.split(key, 3)
        return gan.init(k_init, batch_at(key, 0))

    def one_step(state, key):
        _, k_data, k_train = jax.random.split(key, 3)
        step = state.step
        state, metrics = gan.train_step(state, batch_at(k_data, step),
                                        jax.random.fold_in(k_train, step))
        return state.replace(step=step + 1), metrics

    @jax.jit
    def run_chunk(states, keys):
        def body(s, _):
            return jax.vmap(one_step)(s, keys)
        return jax.lax.scan(body, states, None, length=chunk)

    @jax.jit
    def sample(states, keys):
        return jax.vmap(lambda s, k: gan.sample(s, jax.random.fold_in(k, 10**6),
                                                num_samples))(states, keys)

    t0 = time.perf_counter()
    states = jax.jit(jax.vmap(init))(seed_keys)
    for _ in range(math.ceil(steps / chunk)):
        states, metrics = run_chunk(states, seed_keys)
    points = np.asarray(sample(states, seed_keys))
    wall = time.perf_counter() - t0
    means, std = TOY2D.mixture(dataset)
    return [score_modes(p, means, std) for p in points], wall


def summarise(scores: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """Mean and standard error of each score over seeds."""
    out = {}
    for k in scores[0]:
        v = np.array([s[k] for s in scores])
        out[k] = (float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000, help="G updates per run")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=100, help="steps per device call")
    parser.add_argument("--samples", type=int, default=2500)
    parser.add_argument("--recipes", default="GAN,PacGAN2,PacGAN4,hinge+R1+EMA",
                        help=f"comma list of {', '.join(RECIPES)}")
    parser.add_argument("--datasets", default="toy2d_ring,toy2d_grid")
    parser.add_argument("--json", default="", help="also write the rows to this file")
    args = parser.parse_args()
    if args.steps % args.chunk:
        parser.error("--steps must be a multiple of --chunk")

    rows = []
    print(f"{args.seeds} seeds, {args.steps} steps, {args.samples} samples; "
          f"jax {jax.__version__} on {jax.devices()[0].platform}")
    print(f"{'dataset':11} {'recipe':14} {'modes':>12} {'HQ %':>12} {'rev KL':>13} "
          f"{'all modes':>9} {'PacGAN paper':>14} {'wall s':>7}")
    for dataset in args.datasets.split(","):
        total_modes = len(TOY2D.mixture(dataset)[0])
        for name in args.recipes.split(","):
            scores, wall = train_seeds(RECIPES[name], dataset, args.seeds, args.steps,
                                       args.chunk, args.samples)
            s = summarise(scores)
            full = sum(int(x["modes"]) == total_modes for x in scores)
            paper = PUBLISHED.get((dataset, name))
            paper_txt = f"{paper[0]} / {paper[1]}%" if paper else "-"
            print(f"{dataset:11} {name:14} {s['modes'][0]:6.2f}+-{s['modes'][1]:4.2f} "
                  f"{s['hq'][0]:6.1f}+-{s['hq'][1]:4.1f} "
                  f"{s['reverse_kl'][0]:6.3f}+-{s['reverse_kl'][1]:5.3f} "
                  f"{full:>4}/{len(scores):<4} {paper_txt:>14} {wall:7.0f}", flush=True)
            rows.append({"dataset": dataset, "recipe": name, "steps": args.steps,
                         "seeds": args.seeds, "wall_s": wall, "summary": s,
                         "per_seed": scores})
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
