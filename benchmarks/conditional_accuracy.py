"""Class fidelity of a class-conditional run: samples drawn for each label, classified.

    genjax train classifier_mnist --workdir runs/classifier     # the domain network
    genjax train cgan_mnist --workdir runs/cgan_mnist
    python benchmarks/conditional_accuracy.py --run runs/cgan_mnist --classifier runs/classifier
    python benchmarks/conditional_accuracy.py --run runs/wavenet_digits --num 20   # spoken

For each digit ``c``, ``--num`` samples from ``genjax sample RUN --label c`` (the same
``objective.sample(..., label=c)``) go through the domain classifier (the one ``genjax eval``
uses); prints the share classified as ``c`` and the most frequent other class, per label
and overall. Works for any family whose sample takes ``label`` (cgan, ddpm_mnist_cond,
wavenet_digits, diffwave_digits) on any modality with a domain classifier: without
``--classifier``, the one ``genjax eval`` trains once and caches for the run's dataset.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import numpy as np

from genjax.app.domain import domain_network_for, load_domain_network
from genjax.app.experiment import data_dir, load_run
from genjax.app.sampling import draw_samples
from genjax.app.training import configure_jax
from genjax.data import load_arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a class-conditional run folder")
    parser.add_argument("--classifier", default="", help="a classifier run folder (default: "
                        "the cached domain classifier of the run's dataset)")
    parser.add_argument("--num", type=int, default=1000, help="samples per label")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    configure_jax()

    config, experiment, state = load_run(Path(args.run))
    spec, modality = experiment.spec, experiment.modality
    test = modality.transform(spec)(load_arrays(spec.name, "test", data_dir(config)))
    network = load_domain_network(domain_network_for(config, args.classifier),
                                  test[modality.batch_key], test["label"])
    key = jax.random.PRNGKey(args.seed)
    t0 = time.perf_counter()
    print(f"{args.run} ({config.family}, step {int(state.step)}), {args.num} samples per "
          f"label; classifier test accuracy {network.test_accuracy:.4f}")
    print("| label | classified as the label | most frequent other class |")
    print("| ---: | ---: | --- |")
    hits = []
    for label in range(10):
        images = draw_samples(experiment.objective, state, jax.random.fold_in(key, label),
                              args.num, options={"label": label})
        predicted = np.concatenate([np.argmax(network(images[i:i + 500])[1], axis=1)
                                    for i in range(0, len(images), 500)])
        hits.append(predicted == label)
        others = np.bincount(predicted[predicted != label], minlength=10)
        other = (f"{int(np.argmax(others))} ({100 * others.max() / args.num:.1f}%)"
                 if others.any() else "-")
        print(f"| {label} | {100 * hits[-1].mean():.1f}% | {other} |", flush=True)
    print(f"| all | {100 * np.concatenate(hits).mean():.1f}% | |")
    print(f"wall {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
