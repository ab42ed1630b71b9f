"""Sample quality through feature networks, shared by the modalities that have one (image:
the digit classifier and InceptionV3; audio: the spoken-digit classifier).

A feature network maps a batch of examples to ``(features (B, F), class probabilities
(B, K))``. :func:`feature_quality` embeds the test split, the samples and (when the train
split is readable) the real-vs-real floor with every network, and gives FID / KID / IS /
precision-recall / density-coverage per network (its metric prefix), plus class shares for
the domain network; :func:`feature_readings` says how to read them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genjax.data.pipeline import floor_rows
from genjax.data.tfds import DatasetSpec
from genjax.metrics.features import NEEDS_FEATURES, Embeddings, class_coverage, feature_metrics
from genjax.modalities import Caveat, EvalContext, Modality, Reading, sample_chunks

#: ``name -> (embed, metric prefix)``; the network named ``"domain"`` is a DomainNetwork
#: (``run_dir``, ``test_accuracy``) whose classes give the class shares.
FeatureNetworks = dict[str, tuple[Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], str]]

#: Precision at or above this with recall below ``BLURRY_RECALL``: the blurry-means pattern.
BLURRY_PRECISION, BLURRY_RECALL = 0.95, 0.6
#: Sample counts below this give a visibly biased FID (papers use 10,000 - 50,000).
FID_SAMPLES = 10_000


def feature_quality(modality: Modality, spec: DatasetSpec, samples, test_batches,
                    names: tuple[str, ...], context: EvalContext,
                    networks: FeatureNetworks) -> dict[str, Any]:
    """The feature metrics ``names`` of ``samples`` against the test split, per network,
    with ``<key>_floor`` entries (real train examples scored the same way) when the train
    split is readable, and class shares of the domain network's predictions."""
    keep = any(n in names for n in NEEDS_FEATURES)
    real = {name: Embeddings(keep) for name in networks}
    for batch in test_batches(context.batch_size):
        for name, (net, _) in networks.items():
            real[name].add(*net(batch[modality.batch_key]))
    fake = {name: Embeddings(keep) for name in networks}
    for chunk in sample_chunks(samples, context.num_samples, context.batch_size):
        for name, (net, _) in networks.items():
            fake[name].add(*net(chunk))
    floor = _floor_embeddings(modality, spec, networks, keep, context)
    out: dict[str, Any] = {}
    for name, (net, prefix) in networks.items():
        out.update(feature_metrics(real[name], fake[name], names, prefix, context.seed))
        if floor:
            out.update({f"{k}_floor": v for k, v in feature_metrics(
                real[name], floor[name], names, prefix, context.seed).items()})
        if name == "domain":
            out.update(class_coverage(fake[name].all_probs()))
            out["domain_classifier"] = str(net.run_dir)
            out["domain_classifier_test_accuracy"] = net.test_accuracy
    return out


def _floor_embeddings(modality: Modality, spec: DatasetSpec, networks: FeatureNetworks,
                      keep: bool, context: EvalContext) -> dict[str, Embeddings]:
    """``num_samples`` train examples (all of them, if fewer), evenly spaced over the split,
    through each network: scored against the test split like samples, they give the
    real-vs-real floor at the same sample count (what a generator of real data would get).
    Evenly spaced, not the first ones: a split stored class by class (``mnist_subset``)
    would otherwise give a floor of two or three classes."""
    if context.train_records is None:
        return {}
    from genjax.data.pipeline import read_records, stack_records

    source = context.train_records()
    count = min(context.num_samples, len(source))
    spread = floor_rows(len(source), count)
    transform = modality.transform(spec)
    take = getattr(source, "take", None)
    out = {name: Embeddings(keep) for name in networks}
    for start in range(0, count, context.batch_size):
        rows = spread[start:start + context.batch_size]
        batch = transform(take(rows) if take is not None
                          else stack_records(read_records(source, rows)))
        for name, (net, _) in networks.items():
            out[name].add(*net(batch[modality.batch_key]))
    return out


def _blurry(prefix: str) -> Caveat:
    def applies(r):
        p, rec = r.get(f"{prefix}precision"), r.get(f"{prefix}recall")
        return (isinstance(p, float) and p >= BLURRY_PRECISION
                and (not isinstance(rec, float) or rec < BLURRY_RECALL))

    return Caveat(applies, f"{prefix}precision is near 1 but {prefix}recall is low: samples "
                  "sit inside the real manifold without covering it (typical of a VAE's "
                  "blurry means); read precision together with recall and coverage")


def _few_samples(prefix: str) -> Caveat:
    return Caveat(lambda r: 0 < r.get("num_samples", FID_SAMPLES) < FID_SAMPLES,
                  f"{prefix}fid from fewer than {FID_SAMPLES:,} samples is biased upward (the "
                  "bias shrinks like 1/N): compare runs only at the same --num-samples, "
                  f"with the floor beside it; {prefix}kid is unbiased")


def feature_readings(networks: tuple[tuple[str, str], ...], examples: str
                     ) -> dict[str, Reading]:
    """The readings of :func:`feature_quality`'s numbers for ``(metric prefix, network
    name)`` pairs; ``examples`` names the data in the floor's note (e.g. ``"images"``)."""
    floor = (f"the same metric of real train {examples} against the test split is its floor; "
             "eval computes it when the train split is readable (<name>_floor)")
    out: dict[str, Reading] = {}
    for prefix, net in networks:
        out.update({
            f"{prefix}fid": Reading(f"Frechet distance, sample vs test {net} features as Gaussians",
                                    "lower, down to the floor", floor,
                                    (_few_samples(prefix),)),
            f"{prefix}kid_mean": Reading(f"kernel (MMD) distance, sample vs test {net} features",
                                         "lower, down to the floor", floor),
            f"{prefix}kid_std": Reading("spread of kid over its subsets", ""),
            f"{prefix}is_mean": Reading("Inception score: confident and varied class "
                                        "predictions", "higher"),
            f"{prefix}is_std": Reading("spread of the Inception score over its splits", ""),
            f"{prefix}precision": Reading("share of samples inside the real manifold (kNN)",
                                          "higher", floor, (_blurry(prefix),)),
            f"{prefix}recall": Reading("share of the real manifold the samples reach (kNN)",
                                       "higher", floor),
            f"{prefix}density": Reading("how many real neighbourhoods hold each sample "
                                        "(about 1 for real data)", "closer to the floor",
                                        floor),
            f"{prefix}coverage": Reading("share of real neighbourhoods holding a sample",
                                         "higher", floor),
        })
    out["classes_covered"] = Reading("classes with at least 2% of the samples (the domain "
                                     "classifier's argmax)", "higher (all classes)")
    out["class_kl_uniform"] = Reading("KL of the samples' class shares from uniform "
                                      "(mode dropping)", "lower")
    out["domain_classifier_test_accuracy"] = Reading(
        "accuracy of the evaluation network on the test split (how far to trust domain_*)",
        "higher", caveats=(Caveat(
            lambda r: r.get("domain_classifier_test_accuracy", 1.0) < 0.9,
            "the evaluation network is weak (test accuracy < 0.9): domain_* numbers are "
            "noisy; retrain it (delete its cache folder) or give eval.classifier_dir"),))
    return out
