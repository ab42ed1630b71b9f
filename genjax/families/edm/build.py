"""From an ``edm`` config to the EDM objective: a UNet on images, an MLP on points."""

from __future__ import annotations

import ml_collections

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import denoiser, warmup_adam


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """An EDM model: a UNet raw network on images, an MLP denoiser on points."""
    from genjax.families.edm.objective import EDM
    from genjax.families.edm.samplers import SOLVERS

    e = config.edm
    net = denoiser(config, spec, context, "edm", ("edm_mnist", "edm_toy2d"))
    if e.sampler not in SOLVERS:
        raise ConfigError(f"edm.sampler must be one of {tuple(SOLVERS)}, got {e.sampler!r}")
    try:
        return EDM(
            model=net.model,
            optimizer=warmup_adam(config.optim),
            data_shape=net.data_shape,
            sigma_data=e.sigma_data,
            p_mean=e.p_mean,
            p_std=e.p_std,
            time_scale=e.time_scale,
            ema_decay=e.ema_decay,
            num_classes=net.num_classes,
            label_dropout=e.label_dropout,
            sampler=e.sampler,
            sample_steps=e.sample_steps,
            sigma_min=e.sigma_min,
            sigma_max=e.sigma_max,
            rho=e.rho,
            s_churn=e.s_churn,
            s_noise=e.s_noise,
            s_min=e.s_min,
            s_max=e.s_max,
            guidance=e.guidance,
            clip=net.bounded,
            data_key=context.modality.batch_key,
        )
    except ValueError as e:
        raise ConfigError(f"edm config: {e}") from e
