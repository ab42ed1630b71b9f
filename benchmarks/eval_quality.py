"""Domain metrics on the embedded MNIST digits: the real-vs-real floor, then trained runs.

    genjax train classifier_mnist --workdir runs/classifier     # the domain network
    genjax train dcgan_mnist --workdir runs/dcgan
    python benchmarks/eval_quality.py --classifier runs/classifier --runs runs/dcgan [...]

The floor: the classifier's penultimate features of the 4,000 mnist_subset train digits
against the 1,000 test digits (both real), so a sample score has a meaning. Then, for each
run, `genjax eval` with 10,000 samples (``--num``) against the test split, timed end to end
(sampling, features, metrics, held-out numbers). Prints a Markdown table of the
metrics, then one of the per-class sample shares.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from genjax.app.domain import load_domain_network
from genjax.app.evaluate import evaluate_run
from genjax.app.training import configure_jax
from genjax.data import load_arrays
from genjax.data.pipeline import images_to_float
from genjax.metrics import density_coverage, fid_from_features, kid, precision_recall

COLUMNS = ("domain_fid", "domain_kid_mean", "domain_precision", "domain_recall",
           "domain_density", "domain_coverage", "domain_is_mean", "classes_covered",
           "class_kl_uniform", "eval_seconds")


def print_table(rows: dict[str, dict], columns: tuple[str, ...], first: str) -> None:
    """A Markdown table: one line per row name, ``columns`` of each row (4 significant
    digits for floats, ``-`` where a row lacks one)."""
    print(f"| {first} | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for name, row in rows.items():
        cells = [("-" if c not in row else f"{row[c]:.4g}" if isinstance(row[c], float)
                  else str(row[c])) for c in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")


def embed(network, images: np.ndarray) -> np.ndarray:
    return np.concatenate([network(images[i:i + 500])[0] for i in range(0, len(images), 500)])


def floor(classifier: Path) -> dict:
    """Domain metrics of real train digits against real test digits."""
    train = images_to_float()(load_arrays("mnist_subset", "train"))
    test = images_to_float()(load_arrays("mnist_subset", "test"))
    network = load_domain_network(classifier, test["image"], test["label"])
    a, b = embed(network, train["image"]), embed(network, test["image"])
    t0 = time.perf_counter()
    precision, recall = precision_recall(b, a)
    density, coverage = density_coverage(b, a)
    return {"domain_fid": fid_from_features(a, b), "domain_kid_mean": kid(a, b)[0],
            "domain_precision": precision, "domain_recall": recall,
            "domain_density": density, "domain_coverage": coverage,
            "classifier_test_accuracy": network.test_accuracy,
            "eval_seconds": time.perf_counter() - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", required=True, help="classifier_mnist run folder")
    parser.add_argument("--runs", nargs="*", default=[], help="run folders to evaluate")
    parser.add_argument("--num", type=int, default=10_000, help="samples per run")
    parser.add_argument("--set", nargs="*", default=[], metavar="eval.KEY=VALUE",
                        help="more eval overrides, e.g. eval.iwae_k=100 (held-out cost)")
    args = parser.parse_args()
    configure_jax()

    rows = {"real train vs real test (floor)": floor(Path(args.classifier))}
    print(f"domain classifier test accuracy: "
          f"{rows['real train vs real test (floor)']['classifier_test_accuracy']:.4f}")
    for run in args.runs:
        rows[run] = evaluate_run(Path(run), [f"eval.num_samples={args.num}",
                                             f"eval.classifier_dir={args.classifier}",
                                             *args.set],
                                 out=Path(run) / "eval_benchmark.json")
    print_table(rows, COLUMNS, "set")
    shared = {name: row["class_shares"] for name, row in rows.items() if "class_shares" in row}
    if shared:
        print("\nShare of samples per digit class (the domain classifier's argmax), %:")
        print("| run | " + " | ".join(str(c) for c in range(10)) + " |")
        print("| --- |" + " ---: |" * 10)
        for name, shares in shared.items():
            print(f"| {name} | " + " | ".join(f"{100 * s:.1f}" for s in shares) + " |")


if __name__ == "__main__":
    main()
