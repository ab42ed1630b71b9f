"""One seed of a ``toy2d_modes.py`` recipe, scored and drawn at four points of its schedule.

    python benchmarks/toy2d_scatter.py \\
        "PacGAN2-cos1e-3-EMA+n_critic=5+g_lr=2e-4+freeze_bn_at=1000+standing_stats=0" \\
        --steps 3000 --dataset toy2d_grid --out grid.png

A quick look before a many-seed run: the recipe (a name or ``NAME+field=value...``, the
syntax of ``toy2d_modes.py``) trains one seed (key 0) of the protocol's networks, 100 steps
per compiled call; at 1/4, 1/2, 3/4 and all of ``--steps`` (rounded to 100) it prints
``score_modes`` of 2,500 samples of ``GAN.sample`` and the mean training metrics of the last
100 steps, and draws the samples over the mode centres. Batches: step t draws
``randint(fold_in(key, t))`` rows of the train split, like ``toy2d_modes.py``.
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np
from toy2d_modes import TOY2D, make_gan, parse_recipe, score_modes, train_points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipe")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--dataset", default="toy2d_grid")
    parser.add_argument("--out", default="toy2d_scatter.png")
    args = parser.parse_args()

    recipe = parse_recipe(args.recipe)
    gan = make_gan(recipe, args.steps)
    data = train_points(args.dataset) * recipe.data_scale
    means, std = TOY2D.mixture(args.dataset)
    batch_size = recipe.batch * recipe.pack
    key = jax.random.PRNGKey(0)

    def batch_at(step):
        rows = jax.random.randint(jax.random.fold_in(key, step), (batch_size,), 0, len(data))
        return {"point": data[rows]}

    @jax.jit
    def hundred(state):
        def body(s, _):
            s2, metrics = gan.train_step(s, batch_at(s.step), jax.random.fold_in(key, s.step))
            return s2.replace(step=s.step + 1), metrics
        return jax.lax.scan(body, state, None, length=100)

    from matplotlib.figure import Figure

    fig = Figure(figsize=(16, 4))
    axes = fig.subplots(1, 4)
    marks = [round(args.steps * f / 400) * 100 for f in (1, 2, 3, 4)]
    state, t0, panel = gan.init(key, batch_at(0)), time.perf_counter(), 0
    limit = 1.5 * float(np.abs(means).max()) + 1.0
    for i in range(args.steps // 100):
        state, metrics = hundred(state)
        done = (i + 1) * 100
        if done not in marks:
            continue
        points = np.asarray(gan.sample(state, jax.random.PRNGKey(9), 2500)) / recipe.data_scale
        scores = score_modes(points, means, std)
        trained = {k: round(float(np.asarray(v).mean()), 3) for k, v in metrics.items()}
        print(done, {k: round(v, 3) for k, v in scores.items()}, trained,
              f"{time.perf_counter() - t0:.0f}s", flush=True)
        ax = axes[panel]
        panel += 1
        ax.scatter(points[:, 0], points[:, 1], s=1)
        ax.scatter(means[:, 0], means[:, 1], s=8, c="r")
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_title(f"step {done}: {scores['modes']:.0f} modes, {scores['hq']:.1f}% HQ")
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
