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
  1 up to 1 + its ``mid_sigmas`` steps;
* the second stages, reflow (``reflow_toy2d``) and consistency distillation (``cd_toy2d``):
  their teachers, ``flow_toy2d`` / ``edm_toy2d``, are trained first (all seeds,
  ``--teacher-steps``, ``--teacher-set``) and scored ("teacher: " rows); then seed ``s``'s
  student trains on seed ``s``'s teacher ("student: " rows).

Scored with ``genjax.metrics.mode_coverage`` (PacGAN protocol: a sample is high quality
within 3 std of its nearest mode; a mode is captured when it has a high-quality sample).
The table gives, per sampler and NFE, the fewest modes any seed captured and the mean +-
standard error of the high-quality share over seeds.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import time

import numpy as np

NFE = (1, 2, 4, 8, 18, 35, 50, 100)

#: family -> [(label, (target NFE, objective) -> (sampler options, actual NFE), or None where
#: the sampler has no such NFE)]; also the MNIST chart's samplers (nfe_quality_mnist.py).
#: A consistency model samples in 1 .. 1 + len(mid_sigmas) steps (its re-noising levels).
FAMILY_SAMPLERS = {
    "ddpm": [
        ("ddpm + DDIM", lambda n, _: ({"sampler": "ddim", "steps": n}, n)),
        ("ddpm + DPM-Solver++(2M)", lambda n, _: ({"sampler": "dpm++", "steps": n}, n)),
    ],
    "edm": [
        ("edm + Heun", lambda n, _: ({"sampler": "heun", "steps": (n + 1) // 2},
                                  2 * ((n + 1) // 2) - 1)),
        ("edm + Euler", lambda n, _: ({"sampler": "euler", "steps": n}, n)),
    ],
    "flow": [
        ("flow + Euler", lambda n, _: ({"solver": "euler", "steps": n}, n)),
        ("flow + Heun", lambda n, _: ({"solver": "heun", "steps": (n + 1) // 2},
                                   2 * ((n + 1) // 2) - 1)),  # Euler's last step, as EDM
        ("flow + RK4", lambda n, _: ({"solver": "rk4", "steps": max(1, (n + 1) // 4)},
                                  4 * max(1, (n + 1) // 4) - 1)),  # Ralston's last step
    ],
    "cm": [
        ("cm (iCT)", lambda n, cm: ({"steps": n}, n) if n <= 1 + len(cm.mid_sigmas) else None),
    ],
    "cd": [
        ("cd (distilled from edm)",
         lambda n, cm: ({"steps": n}, n) if n <= 1 + len(cm.mid_sigmas) else None),
    ],
}
#: reflow samples as the flow it was trained from (its rows named apart on the chart)
FAMILY_SAMPLERS["reflow"] = [("re" + label, options_for)
                             for label, options_for in FAMILY_SAMPLERS["flow"]]
#: recipe -> its family's samplers (the 2D recipes of this benchmark)
SAMPLERS = {f"{family}_toy2d": samplers for family, samplers in FAMILY_SAMPLERS.items()}
#: second-stage recipe -> (the recipe of its first stage, trained here first with the same
#: seeds; the ``model`` key that names the first stage's run folder)
TEACHERS = {"reflow_toy2d": ("flow_toy2d", "flow_dir"), "cd_toy2d": ("edm_toy2d", "edm_dir")}


def train_seeds(recipe: str, dataset: str, seeds: int, steps: int, chunk: int,
                overrides: tuple[str, ...] = (), teacher=None, cache: str = ""):
    """Trains ``seeds`` runs of a named recipe on one mixture at once (``steps`` steps, 0:
    the recipe's; ``overrides``: ``"key=value"`` changes of its config, as ``genjax train``'s
    ``--config.key=value``); returns ``(config, objective, states, seed_keys, wall seconds,
    steps)``.

    ``teacher``: for a second stage (reflow, cd), this function's result for its first stage:
    seed ``s`` of the second stage holds seed ``s``'s trained teacher. ``cache``: a file of
    the trained states (flax msgpack), read instead of training when it exists (wall 0),
    written after training otherwise.
    """
    import jax
    import jax.numpy as jnp
    from flax import serialization

    from genjax.app.experiment import build_objective
    from genjax.config import apply_overrides, load_config
    from genjax.core.state import HeldParams
    from genjax.data import dataset_spec
    from genjax.data import toy2d as TOY2D

    config = load_config(recipe)
    config.data.name = dataset
    apply_overrides(config, list(overrides))
    steps = steps or config.train.steps
    config.train.steps = steps  # the consistency curriculum spans the run
    teachers, load_teacher = None, None
    if teacher is not None:
        t_config, t_objective, t_states = teacher[:3]
        teachers = t_states.ema_params
        config.model[TEACHERS[recipe][1]] = f"(the {t_config.family} runs trained above)"

        def load_teacher(_folder):  # the build's first stage: seed 0's run (shapes, checks)
            return t_config, t_objective, jax.tree.map(lambda a: a[0], t_states)
    objective = build_objective(config, dataset_spec(dataset), load_other_run=load_teacher)
    data = jnp.asarray(TOY2D.sample_mixture(dataset, TOY2D.SPLIT_SIZES["train"],
                                            TOY2D.SPLIT_SEEDS["train"])[0])
    batch_size = config.train.batch_size
    base = jax.random.PRNGKey(0)
    seed_keys = jnp.stack([jax.random.fold_in(base, s) for s in range(seeds)])

    def batch_at(key, step):
        idx = jax.random.randint(jax.random.fold_in(key, step), (batch_size,), 0, data.shape[0])
        return {"point": data[idx]}

    def init(key, teacher_params):
        seed_objective = objective if teacher_params is None else dataclasses.replace(
            objective, teacher=HeldParams(teacher_params))
        return seed_objective.init(jax.random.split(key, 3)[0], batch_at(key, 0))

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
    states = jax.jit(jax.vmap(init))(seed_keys, teachers)
    if cache and os.path.exists(cache):
        with open(cache, "rb") as f:
            states = serialization.from_bytes(states, f.read())
        return config, objective, states, seed_keys, 0.0, steps
    for _ in range(math.ceil(steps / chunk)):
        states = run_chunk(states, seed_keys)
    jax.block_until_ready(states)
    wall = time.perf_counter() - t0
    if cache:
        with open(cache, "wb") as f:
            f.write(serialization.to_bytes(states))
    return config, objective, states, seed_keys, wall, steps


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
    parser.add_argument("--teacher-steps", type=int, default=0,
                        help="training steps of a second stage's teacher (0: its recipe's)")
    parser.add_argument("--teacher-set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="config overrides of a second stage's teacher recipe")
    parser.add_argument("--teacher-cache", default="", metavar="DIR",
                        help="keep the trained teachers here (one file per recipe, dataset, "
                             "seeds, steps and overrides) and reuse them in later runs")
    args = parser.parse_args()

    from genjax.app.training import configure_jax

    configure_jax()
    import jax

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
          f"jax {jax.__version__} on {jax.default_backend()}; {args.seeds} seeds, "
          f"{args.steps} training steps, {args.num} samples per seed"
          + (f"; overrides {' '.join(args.set)}" if args.set else ""), flush=True)
    results: dict[tuple[str, int], dict[str, tuple[int, float, float]]] = {}

    def score_samplers(prefix, samplers, objective, states, keys, dataset):
        for label, options_for in samplers:
            label = prefix + label
            for target in args.nfe:
                point = options_for(target, objective)
                if point is None:
                    continue
                options, nfe = point
                if dataset in results.get((label, nfe), {}):
                    continue  # two targets round to one NFE (heun: 2N - 1)
                scores = score(objective, states, keys, options, dataset, args.num)
                hq = np.array([100.0 * s.high_quality for s in scores])
                se = hq.std(ddof=1) / np.sqrt(len(hq)) if len(hq) > 1 else 0.0
                row = results.setdefault((label, nfe), {})
                row[dataset] = (min(s.modes for s in scores), hq.mean(), se)
                print(f"{label} NFE {nfe} {dataset}: min modes {row[dataset][0]}, "
                      f"HQ {hq.mean():.1f} +- {se:.1f}", flush=True)

    for recipe in args.recipes:
        for dataset in args.data:
            teacher, prefix = None, ""
            if recipe in TEACHERS:
                teacher_recipe = TEACHERS[recipe][0]
                cache = ""
                if args.teacher_cache:
                    os.makedirs(args.teacher_cache, exist_ok=True)
                    tag = "_".join([teacher_recipe, dataset, f"s{args.seeds}",
                                    f"n{args.teacher_steps}", *args.teacher_set])
                    cache = os.path.join(args.teacher_cache,
                                         "".join(c if c.isalnum() or c in "._-=" else "_"
                                                 for c in tag) + ".msgpack")
                teacher = train_seeds(teacher_recipe, dataset, args.seeds, args.teacher_steps,
                                      args.chunk, tuple(args.teacher_set), cache=cache)
                print(f"# teacher {teacher_recipe} on {dataset}: {args.seeds} seeds x "
                      f"{teacher[5]} steps "
                      + (f"trained in {teacher[4]:.0f} s" if teacher[4] else f"read from {cache}")
                      + (f"; overrides {' '.join(args.teacher_set)}" if args.teacher_set
                         else ""), flush=True)
                score_samplers("teacher: ", SAMPLERS[teacher_recipe], teacher[1], teacher[2],
                               teacher[3], dataset)
                prefix = "student: "
            _, objective, states, keys, wall, steps = train_seeds(
                recipe, dataset, args.seeds, args.steps, args.chunk, tuple(args.set), teacher)
            print(f"# {recipe} on {dataset}: {args.seeds} seeds x {steps} steps trained in "
                  f"{wall:.0f} s", flush=True)
            score_samplers(prefix, SAMPLERS[recipe], objective, states, keys, dataset)
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
