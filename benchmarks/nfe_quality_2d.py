"""Sample quality against network evaluations (NFE) on the 2D mixtures, diffusion-era samplers.

    flock /tmp/genjax-bench.lock python benchmarks/nfe_quality_2d.py [--seeds 10] [--recipes ...]

Each family's named recipe (``ddpm_toy2d``, ``edm_toy2d``, ``flow_toy2d``: the same MLP
denoiser, width 128, 3 layers, 64 sinusoidal input features; Adam 1e-3 with 100 warm-up
steps, batch 256, EMA 0.999; 3,000 steps) is trained on ``toy2d_ring`` (8 modes, std 0.01)
and ``toy2d_grid`` (25 modes, std 0.05), all seeds at once: the objective's
``train_step`` vmapped over a seed axis, ``lax.scan`` over chunks of steps, batches drawn on
device from the 100,000 training points (step t of seed s: ``randint(fold_in(k_s, t))``).
Every trained model is then sampled (2,500 points, vmapped over the seeds) by each of its
samplers at about the same NFE:

* ddpm + DDIM (``steps = NFE``), ddpm + DPM-Solver++(2M) (``steps = NFE``);
* edm + Heun (N steps: ``NFE = 2N - 1``), edm + Euler (``steps = NFE``);
* flow + Euler (``steps = NFE``), flow + Heun (``NFE = 2 steps - 1``), flow + RK4
  (``NFE = 4 steps - 1``);
* cm (consistency training, ``cm_toy2d``: 6,000 steps by its recipe unless ``--steps``):
  1 and 2 steps only.

Scored with ``genjax.metrics.mode_coverage`` (PacGAN protocol: a sample is high quality
within 3 std of its nearest mode; a mode is captured when it has a high-quality sample).
The table gives, per sampler and NFE, the fewest modes any seed captured and the mean +-
standard error of the high-quality share over seeds.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np

NFE = (1, 2, 4, 8, 18, 35, 50, 100)

#: family -> [(label, sampler options for a target NFE -> (options, actual NFE), or None where
#: the sampler has no such NFE)]; also the MNIST chart's samplers (nfe_quality_mnist.py)
FAMILY_SAMPLERS = {
    "ddpm": [
        ("ddpm + DDIM", lambda n: ({"sampler": "ddim", "steps": n}, n)),
        ("ddpm + DPM-Solver++(2M)", lambda n: ({"sampler": "dpm++", "steps": n}, n)),
    ],
    "edm": [
        ("edm + Heun", lambda n: ({"sampler": "heun", "steps": (n + 1) // 2},
                                  2 * ((n + 1) // 2) - 1)),
        ("edm + Euler", lambda n: ({"sampler": "euler", "steps": n}, n)),
    ],
    "flow": [
        ("flow + Euler", lambda n: ({"solver": "euler", "steps": n}, n)),
        ("flow + Heun", lambda n: ({"solver": "heun", "steps": (n + 1) // 2},
                                   2 * ((n + 1) // 2) - 1)),  # Euler's last step, as EDM
        ("flow + RK4", lambda n: ({"solver": "rk4", "steps": max(1, (n + 1) // 4)},
                                  4 * max(1, (n + 1) // 4) - 1)),  # Ralston's last step
    ],
    "cm": [
        ("cm (iCT)", lambda n: ({"steps": n}, n) if n <= 2 else None),
    ],
    "cd": [
        ("cd (distilled from edm)", lambda n: ({"steps": n}, n) if n <= 2 else None),
    ],
}
#: recipe -> its family's samplers (the 2D recipes of this benchmark)
SAMPLERS = {f"{family}_toy2d": samplers for family, samplers in FAMILY_SAMPLERS.items()
            if family != "cd"}  # distillation needs a trained teacher run: MNIST chart only


def train_seeds(recipe: str, dataset: str, seeds: int, steps: int, chunk: int,
                overrides: tuple[str, ...] = ()):
    """Trains ``seeds`` runs of a named recipe on one mixture at once (``steps`` steps, 0:
    the recipe's; ``overrides``: ``"key=value"`` changes of its config, as ``genjax train``'s
    ``--config.key=value``); returns ``(objective, states, seed_keys, wall seconds, steps)``."""
    import jax
    import jax.numpy as jnp

    from genjax.app.experiment import build_objective
    from genjax.config import apply_overrides, load_config
    from genjax.data import dataset_spec
    from genjax.data import toy2d as TOY2D

    config = load_config(recipe)
    config.data.name = dataset
    apply_overrides(config, list(overrides))
    steps = steps or config.train.steps
    config.train.steps = steps  # the consistency curriculum spans the run
    objective = build_objective(config, dataset_spec(dataset))
    data = jnp.asarray(TOY2D.sample_mixture(dataset, TOY2D.SPLIT_SIZES["train"],
                                            TOY2D.SPLIT_SEEDS["train"])[0])
    batch_size = config.train.batch_size
    base = jax.random.PRNGKey(0)
    seed_keys = jnp.stack([jax.random.fold_in(base, s) for s in range(seeds)])

    def batch_at(key, step):
        idx = jax.random.randint(jax.random.fold_in(key, step), (batch_size,), 0, data.shape[0])
        return {"point": data[idx]}

    def init(key):
        return objective.init(jax.random.split(key, 3)[0], batch_at(key, 0))

    def one_step(state, key):
        _, k_data, k_train = jax.random.split(key, 3)
        step = state.step
        state, _ = objective.train_step(state, batch_at(k_data, step),
                                        jax.random.fold_in(k_train, step))
        return state.replace(step=step + 1)

    @jax.jit
    def run_chunk(states, keys):
        def body(s, _):
            return jax.vmap(one_step)(s, keys), None
        return jax.lax.scan(body, states, None, length=chunk)[0]

    t0 = time.perf_counter()
    states = jax.jit(jax.vmap(init))(seed_keys)
    for _ in range(math.ceil(steps / chunk)):
        states = run_chunk(states, seed_keys)
    jax.block_until_ready(states)
    return objective, states, seed_keys, time.perf_counter() - t0, steps


def score(objective, states, seed_keys, options: dict, dataset: str, num: int):
    """Per-seed ``mode_coverage`` of ``num`` samples drawn with ``options``."""
    import jax

    from genjax.data import toy2d as TOY2D
    from genjax.metrics.coverage import mode_coverage

    sample = jax.jit(jax.vmap(lambda s, k: objective.sample(
        s, jax.random.fold_in(k, 10**6), num, **options)))
    points = np.asarray(sample(states, seed_keys), np.float64)
    means, std = TOY2D.mixture(dataset)
    return [mode_coverage(p, means, std) for p in points]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=0,
                        help="training steps per seed (0: each recipe's train.steps)")
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--num", type=int, default=2500, help="samples per seed")
    parser.add_argument("--nfe", type=int, nargs="+", default=list(NFE))
    parser.add_argument("--recipes", nargs="+", default=list(SAMPLERS))
    parser.add_argument("--data", nargs="+", default=["toy2d_ring", "toy2d_grid"])
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="config overrides for every recipe, e.g. edm.sigma_data=0.7")
    args = parser.parse_args()

    from genjax.app.training import configure_jax

    configure_jax()
    import jax

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
          f"jax {jax.__version__} on {jax.default_backend()}; {args.seeds} seeds, "
          f"{args.steps} training steps, {args.num} samples per seed"
          + (f"; overrides {' '.join(args.set)}" if args.set else ""), flush=True)
    results: dict[tuple[str, int], dict[str, tuple[int, float, float]]] = {}
    for recipe in args.recipes:
        for dataset in args.data:
            objective, states, keys, wall, steps = train_seeds(recipe, dataset, args.seeds,
                                                               args.steps, args.chunk,
                                                               tuple(args.set))
            print(f"# {recipe} on {dataset}: {args.seeds} seeds x {steps} steps trained in "
                  f"{wall:.0f} s", flush=True)
            for label, options_for in SAMPLERS[recipe]:
                for target in args.nfe:
                    if options_for(target) is None:
                        continue
                    options, nfe = options_for(target)
                    if dataset in results.get((label, nfe), {}):
                        continue  # two targets round to one NFE (heun: 2N - 1)
                    scores = score(objective, states, keys, options, dataset, args.num)
                    hq = np.array([100.0 * s.high_quality for s in scores])
                    se = hq.std(ddof=1) / np.sqrt(len(hq)) if len(hq) > 1 else 0.0
                    row = results.setdefault((label, nfe), {})
                    row[dataset] = (min(s.modes for s in scores), hq.mean(), se)
                    print(f"{label} NFE {nfe} {dataset}: min modes {row[dataset][0]}, "
                          f"HQ {hq.mean():.1f} +- {se:.1f}", flush=True)
    print("\n| sampler | NFE | ring: min modes /8 | ring HQ % | grid: min modes /25 | "
          "grid HQ % |\n|---|---|---|---|---|---|")
    for (label, nfe), row in results.items():
        cells = []
        for dataset in ("toy2d_ring", "toy2d_grid"):
            if dataset in row:
                m, hq, se = row[dataset]
                cells += [str(m), f"{hq:.1f} +- {se:.1f}"]
            else:
                cells += ["", ""]
        print(f"| {label} | {nfe} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
