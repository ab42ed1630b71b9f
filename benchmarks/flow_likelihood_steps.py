"""How a flow run's test bits/dim depends on the likelihood ODE's steps (does it settle?).

    python benchmarks/flow_likelihood_steps.py --run runs/nfe/flow --steps 8 16 32 64 \\
        [--digits 128] [--probes 1]

The run's own ``test_metrics`` (RK4, Hutchinson with ``--probes`` Rademacher probes, uniform
dequantization) on ``--digits`` evenly spaced test digits, once per number of steps, with
the same key; prints bits/dim and the seconds each took.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from genjax.app.experiment import load_run
from genjax.app.training import configure_jax
from genjax.data import load_arrays
from genjax.data.pipeline import images_to_float, pad_images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a flow run folder on image data")
    parser.add_argument("--steps", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--digits", type=int, default=128)
    parser.add_argument("--probes", type=int, default=1)
    args = parser.parse_args()
    configure_jax()
    config, experiment, state = load_run(args.run)
    test = images_to_float()(load_arrays(config.data.name, "test"))["image"]
    x = test[np.linspace(0, len(test) - 1, args.digits).astype(int)]
    if config.data.image_size:
        x = pad_images(x, config.data.image_size, -1.0)
    print(f"{args.run} (step {int(state.step)}), {len(x)} test digits, {args.probes} probe(s)")
    for steps in args.steps:
        objective = dataclasses.replace(experiment.objective, likelihood_steps=steps,
                                        likelihood_probes=args.probes)
        t0 = time.perf_counter()
        m = jax.jit(objective.test_metrics)(state, {"image": jnp.asarray(x)},
                                            jax.random.PRNGKey(0))
        print(f"RK4 {steps} steps: {float(m['bpd']):.3f} bits/dim "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
