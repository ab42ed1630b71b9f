"""From a ``wavenet`` config to the WaveNet objective."""

from __future__ import annotations

import ml_collections

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import warmup_adam


def dilations(blocks: int, layers: int) -> tuple[int, ...]:
    """``1, 2, ..., 2 ** (layers - 1)``, ``blocks`` times."""
    return tuple(2 ** i for _ in range(blocks) for i in range(layers))


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A WaveNet over the dataset's clips (``genjax.modalities.audio``)."""
    from genjax.families.wavenet.mulaw import LEVELS
    from genjax.families.wavenet.network import WaveNet
    from genjax.families.wavenet.objective import WaveNetObjective

    m = config.model
    if m.blocks < 1 or m.layers < 1:
        raise ConfigError(f"model.blocks and model.layers must be >= 1, got {m.blocks} and "
                          f"{m.layers}")
    if m.conditional and not spec.num_classes:
        raise ConfigError(f"model.conditional needs labels, and dataset {spec.name!r} has "
                          "none; set --config.model.conditional=False")
    segment = config.data.get("segment", 0)
    if not 1 <= segment < spec.shape[0]:
        raise ConfigError(f"data.segment must be in 1..{spec.shape[0] - 1} (the clips are "
                          f"{spec.shape[0]} samples), got {segment}")
    model = WaveNet(dilations=dilations(m.blocks, m.layers), residual=m.residual, skip=m.skip,
                    levels=LEVELS, num_classes=spec.num_classes if m.conditional else 0,
                    dtype=context.precision.compute_dtype)
    try:
        return WaveNetObjective(model=model, optimizer=warmup_adam(config.optim),
                                segment=segment, sample_length=config.sample.length,
                                temperature=config.sample.temperature,
                                data_key=context.modality.batch_key)
    except ValueError as e:
        raise ConfigError(f"wavenet config: {e} (sample.* keys)") from e
