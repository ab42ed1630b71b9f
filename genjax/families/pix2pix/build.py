"""From a ``pix2pix`` config to a :class:`~genjax.families.pix2pix.objective.Pix2Pix` (the
family's only reader of ConfigDicts)."""

from __future__ import annotations

import ml_collections
import optax

from genjax.config import ConfigError
from genjax.data.pairing import PAIRINGS
from genjax.data.tfds import DatasetSpec
from genjax.families._build import image_size
from genjax.losses.adversarial import LOSSES


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """The U-Net generator, the PatchGAN and the loss of ``config`` for image data.

    Raises:
      ConfigError: no ``data.pairing``, an image size the U-Net cannot halve enough, an
        unknown loss or bad widths.
    """
    from genjax.families.pix2pix.networks import PatchDiscriminator, UNetGenerator
    from genjax.families.pix2pix.objective import Pix2Pix

    pairing = config.data.get("pairing", "")
    if pairing not in PAIRINGS:
        raise ConfigError(f"pix2pix trains on paired images: set --config.data.pairing to one "
                          f"of {', '.join(PAIRINGS)} (got {pairing!r})")
    m, p, o = config.model, config.pix2pix, config.optim
    g_features, d_features = tuple(m.g_features), tuple(m.d_features)
    if not g_features or not d_features or min(g_features + d_features) < 1:
        raise ConfigError(f"model.g_features and model.d_features need positive widths, got "
                          f"{g_features} and {d_features}")
    size, depth = image_size(config, spec), len(g_features)
    if spec.shape[0] != spec.shape[1] or size % 2 ** depth:
        raise ConfigError(f"the U-Net halves {size}x{size} images {depth} times "
                          f"(len(model.g_features)); set --config.data.image_size to a multiple "
                          f"of {2 ** depth} or use fewer g_features")
    if not 0 <= m.dropout < 1:
        raise ConfigError(f"model.dropout must be in [0, 1), got {m.dropout}")
    if p.loss not in LOSSES:
        raise ConfigError(f"unknown pix2pix.loss {p.loss!r}; choose one of {', '.join(LOSSES)}")
    generator = UNetGenerator(features=g_features, channels=spec.shape[-1], dropout=m.dropout,
                              dropout_blocks=m.dropout_blocks)
    return Pix2Pix(generator=generator, discriminator=PatchDiscriminator(features=d_features),
                   g_optimizer=optax.adam(o.g_lr, b1=o.b1, b2=o.b2),
                   d_optimizer=optax.adam(o.d_lr, b1=o.b1, b2=o.b2),
                   loss=p.loss, l1_weight=p.l1_weight, d_scale=p.d_scale,
                   data_key=context.modality.batch_key)
