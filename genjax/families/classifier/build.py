"""From a ``classifier`` config to the Classifier objective."""

from __future__ import annotations

import ml_collections

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import adam


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A digit classifier (the evaluation suite's domain feature network)."""
    from genjax.families.classifier.network import DigitClassifier
    from genjax.families.classifier.objective import Classifier

    if not spec.num_classes:
        raise ConfigError(f"dataset {spec.name!r} has no labels to classify")
    m = config.model
    return Classifier(
        module=DigitClassifier(num_classes=spec.num_classes, features=m.features,
                               dropout=m.dropout, dtype=context.precision.compute_dtype),
        optimizer=adam(config.optim),
        data_key=context.modality.batch_key,
    )
