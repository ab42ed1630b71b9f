"""Quality evidence for a trained image GAN: class shares judged by our digit classifier.

    genjax train classifier_mnist --workdir runs/classifier
    genjax train dcgan_mnist --workdir runs/dcgan
    python benchmarks/dcgan_quality.py --gan runs/dcgan --classifier runs/classifier

Prints the classifier's test accuracy (mnist_subset test split), then the share of
``--num`` generated samples classified as each digit, the number of classes that receive
at least 2% of the samples, and KL(shares || uniform) in nats.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jax
import numpy as np

from genjax.app.experiment import data_dir, load_run
from genjax.app.sampling import draw_samples
from genjax.app.training import configure_jax
from genjax.data import load_arrays
from genjax.data.pipeline import images_to_float
from genjax.metrics.classes import class_shares, kl_from_uniform, predict_in_batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gan", required=True, help="run folder of the GAN")
    parser.add_argument("--classifier", required=True, help="run folder of classifier_mnist")
    parser.add_argument("--num", type=int, default=10_000, help="samples to classify")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    configure_jax()

    c_config, c_exp, c_state = load_run(Path(args.classifier))
    classifier = c_exp.objective
    test = images_to_float(c_config.data.image_size or None)(
        load_arrays(c_config.data.name, "test", data_dir(c_config)))
    probs = predict_in_batches(classifier.predict, c_state.params, test["image"])
    accuracy = float(np.mean(np.argmax(probs, 1) == test["label"]))

    _, g_exp, g_state = load_run(Path(args.gan))
    samples = draw_samples(g_exp.objective, g_state, jax.random.PRNGKey(args.seed), args.num)
    shares = class_shares(predict_in_batches(classifier.predict, c_state.params, samples))
    result = {
        "classifier_test_accuracy": round(accuracy, 4),
        "num_samples": args.num,
        "class_shares": [round(float(s), 4) for s in shares],
        "classes_with_2pct": int(np.sum(shares >= 0.02)),
        "kl_from_uniform": round(kl_from_uniform(shares), 4),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
