"""From a ``classifier`` config to the Classifier objective."""

from __future__ import annotations

import ml_collections

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import adam

#: ``model.front_end`` -> (the network, the rank of the examples it takes)
FRONT_ENDS = {"": ("DigitClassifier", 3), "log_mel": ("SpokenDigitClassifier", 1)}


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A digit classifier (the evaluation suite's domain feature network): the conv net on
    images, or on clips' log-mel spectrograms (``model.front_end = "log_mel"``)."""
    from genjax.families.classifier import network
    from genjax.families.classifier.objective import Classifier

    if not spec.num_classes:
        raise ConfigError(f"dataset {spec.name!r} has no labels to classify")
    m = config.model
    front_end = m.get("front_end", "")
    if front_end not in FRONT_ENDS:
        raise ConfigError(f"model.front_end {front_end!r} is unknown; choose from "
                          f"{', '.join(repr(k) for k in FRONT_ENDS)} ('' for images, "
                          "'log_mel' for audio clips)")
    name, rank = FRONT_ENDS[front_end]
    if len(spec.shape) != rank:
        want = "'log_mel'" if len(spec.shape) == 1 else "''"
        raise ConfigError(f"model.front_end {front_end!r} takes examples of rank {rank}, but "
                          f"dataset {spec.name!r} holds shape {tuple(spec.shape)}; set "
                          f"model.front_end={want}")
    return Classifier(
        module=getattr(network, name)(num_classes=spec.num_classes, features=m.features,
                                      dropout=m.dropout, dtype=context.precision.compute_dtype),
        optimizer=adam(config.optim),
        data_key=context.modality.batch_key,
    )
