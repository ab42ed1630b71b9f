"""The human-readable end of ``genjax eval``: each number with a one-line reading.

Pure: results (the dict ``evaluate_run`` returns) and readings in, text out. The readings of
sample-quality numbers come from the data's modality (``Modality.readings``); those here are
the ones every run shares (held-out numbers of the objective, counts and timing). A result
``<name>_floor`` is the real-vs-real floor of ``<name>`` and shows in its row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from genjax.modalities import Caveat, Reading

FLOOR_SUFFIX = "_floor"

#: Held-out numbers of the objectives (``test_`` + a family's metric name) and bookkeeping.
GENERAL: dict[str, Reading] = {
    "test_loss": Reading("the training loss on the held-out test split", "lower"),
    "test_accuracy": Reading("share of test examples classified right", "higher"),
    "test_elbo": Reading("evidence lower bound per test example (nats)", "higher"),
    "test_nll": Reading("negative log-likelihood bound per test example (nats)", "lower"),
    "test_bpd": Reading("bits per dimension on the test split", "lower", caveats=(Caveat(
        lambda r: isinstance(r.get("test_bpd"), float) and r["test_bpd"] < 0,
        "test_bpd is below 0, which no model of dequantized 8-bit data can reach: the "
        "likelihood estimate is off (a flow's ODE solve too coarse for its field); raise "
        "eval.likelihood_steps (and eval.likelihood_probes) until it settles"),)),
    "test_perplexity": Reading("exp(mean nats per token) on the test split (per token: "
                               "per byte with the byte tokenizer)", "lower"),
    "test_bits_per_byte": Reading("bits per byte on the test text", "lower"),
    "test_bytes_per_token": Reading("bytes of text per predicted token (1: the byte "
                                    "tokenizer)", ""),
    "test_d_loss": Reading("discriminator loss on test data vs samples (not a quality "
                           "score: a GAN has no held-out likelihood)", ""),
    "test_g_loss": Reading("generator loss against the discriminator (not a quality "
                           "score)", ""),
    "cas": Reading(
        "Classification Accuracy Score: real-test accuracy of a classifier trained on samples "
        "only (eval.cas; floor: the same classifier trained on the real train split)",
        "higher, up to the floor", caveats=(
            Caveat(lambda r: str(r.get("cas_labels", "")).startswith("pseudo"),
                   "cas: this model takes no labels, so its samples were labelled by the "
                   "domain classifier (pseudo labels): the score measures agreement with that "
                   "classifier, not conditional fidelity"),)),
    "cas_samples": Reading("synthetic examples the CAS classifier trained on", ""),
    "cas_classifier_steps": Reading("training steps of each CAS classifier", ""),
    "test_examples": Reading("test examples the held-out numbers average over", ""),
    "num_samples": Reading("generated samples the sample metrics judge", ""),
    "step": Reading("the checkpoint evaluated", ""),
    "eval_seconds": Reading("wall time of this evaluation", ""),
}


def reading_of(name: str, readings: Mapping[str, Reading]) -> Reading:
    """The reading of result ``name``; a held-out number without one gets a generic line."""
    if name in readings:
        return readings[name]
    if name.startswith("test_nll_iwae_"):
        return Reading(f"IWAE bound on the test NLL (nats), k={name[14:]} samples; tighter "
                       "as k grows", "lower")
    if name.startswith("test_"):
        return Reading(f"the objective's {name[5:]}, averaged over every test example")
    return Reading("")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # nan, inf (null in the JSON)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def caveats(results: Mapping[str, Any], readings: Mapping[str, Reading]) -> list[str]:
    """The notes of every reading of a number in ``results`` whose condition holds."""
    notes: list[str] = []
    for name in results:
        for caveat in reading_of(name, readings).caveats:
            if _holds(caveat, results) and caveat.text not in notes:
                notes.append(caveat.text)
    return notes


def _holds(caveat: Caveat, results: Mapping[str, Any]) -> bool:
    try:
        return bool(caveat.applies(results))
    except (TypeError, ValueError):  # a value of another type than the note expects
        return False


def explain(results: Mapping[str, Any], readings: Mapping[str, Reading]) -> str:
    """A table of every number in ``results`` (value, real-vs-real floor when the results
    hold one, the direction that is better, what it measures), then the caveats that hold.

    Args:
      results: ``evaluate_run``'s results.
      readings: ``GENERAL`` merged with the modality's readings.
    """
    names = [k for k, v in results.items()
             if is_number(v) and not (k.endswith(FLOOR_SUFFIX)
                                      and k[:-len(FLOOR_SUFFIX)] in results)]
    rows = [("metric", "value", "floor", "better", "what it measures")]
    for name in names:
        reading = reading_of(name, readings)
        floor = results.get(name + FLOOR_SUFFIX)
        rows.append((name, _fmt(results[name]), "-" if floor is None else _fmt(floor),
                     reading.better or "-", reading.meaning or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"genjax eval: {results.get('family', '?')} on {results.get('dataset', '?')}, "
             f"step {results.get('step', '?')}"]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True))
              + "  " + r[4] for r in rows]
    floors = sorted({r.floor for n in names if (r := reading_of(n, readings)).floor
                     and n + FLOOR_SUFFIX not in results})
    lines += [f"floor: {text}" for text in floors]
    lines += [f"note: {text}" for text in caveats(results, readings)]
    if "sample_metrics_skipped" in results:
        lines.append(f"note: no sample metrics: {results['sample_metrics_skipped']}")
    return "\n".join(lines)
