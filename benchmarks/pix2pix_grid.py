"""The docs grid of a trained pix2pix run: source | translation | target rows on the test split.

    python benchmarks/pix2pix_grid.py runs/pix2pix_edges docs/pix2pix_edges_mnist.png

Columns: the first test example of each class 0-9, then the next ones, ``--columns`` in all;
the sources are paired exactly as ``genjax eval`` pairs them (``data.pairing``, epoch 0).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir")
    parser.add_argument("out")
    parser.add_argument("--columns", type=int, default=10)
    args = parser.parse_args()

    from genjax.app.evaluate import iterate_split_all
    from genjax.app.experiment import data_dir, load_run, pairing
    from genjax.data import load_source
    from genjax.modalities.image import save_reconstructions

    config, experiment, state = load_run(Path(args.workdir))
    modality, objective = experiment.modality, experiment.objective
    test = iterate_split_all(load_source(config.data.name, "test", data_dir(config)))
    labels = test["label"]
    firsts = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
    rest = [i for i in range(len(labels)) if i not in firsts]
    rows = np.array((firsts + rest)[: args.columns])
    batch = modality.transform(experiment.spec, config.data.image_size or None)(
        {k: v[rows] for k, v in test.items()})
    batch = pairing(config, modality)(batch, rows, 0)
    out = jax.jit(objective.reconstruct)(state, batch, jax.random.PRNGKey(0))
    source = objective.capabilities.reconstruct_from
    path = save_reconstructions(batch[objective.data_key], np.asarray(out), args.out,
                                sources=batch[source])
    print(f"wrote {path} ({source} | translation | target, test rows {rows.tolist()})")


if __name__ == "__main__":
    main()
