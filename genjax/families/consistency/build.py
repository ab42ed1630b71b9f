"""From a ``cm`` config to the ConsistencyModel objective (a UNet on images, an MLP on points),
and from a ``cd`` config to ConsistencyDistillation of a trained EDM run."""

from __future__ import annotations

from typing import Any

import ml_collections

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import denoiser, first_stage, warmup_adam


def _schedule(config: ml_collections.ConfigDict) -> dict[str, Any]:
    """The ``cm`` keys both objectives take: levels, curriculum, EMA and sampling."""
    c = config.cm
    return dict(
        optimizer=warmup_adam(config.optim), total_steps=config.train.steps,
        sigma_min=c.sigma_min, sigma_max=c.sigma_max, rho=c.rho, p_mean=c.p_mean,
        p_std=c.p_std, s0=c.s0, s1=c.s1, ema_decay=c.ema_decay, sample_steps=c.sample_steps,
        mid_sigmas=tuple(float(s) for s in c.mid_sigmas))


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A consistency model trained by iCT over ``train.steps`` (the curriculum's K)."""
    from genjax.families.consistency.objective import ConsistencyModel

    net = denoiser(config, spec, context, "cm", ("cm_toy2d", "cm_toy2d"))
    try:
        return ConsistencyModel(
            model=net.model, data_shape=net.data_shape, sigma_data=config.cm.sigma_data,
            time_scale=config.cm.time_scale, num_classes=net.num_classes, clip=net.bounded,
            data_key=context.modality.batch_key, **_schedule(config))
    except ValueError as e:
        raise ConfigError(f"cm config: {e}") from e


def build_cd(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """Consistency distillation of a trained EDM run (``model.edm_dir``): the student shares
    the teacher's network, data shape, sigma_data, time scale, labels and clipping."""
    from genjax.core.state import HeldParams
    from genjax.families.consistency.objective import ConsistencyDistillation

    _, teacher, t_state = first_stage(config, context, "edm_dir", ("edm",), "EDM teacher",
                                      "edm_toy2d")
    try:
        return ConsistencyDistillation(
            model=teacher.model, data_shape=teacher.data_shape, sigma_data=teacher.sigma_data,
            time_scale=teacher.time_scale, num_classes=teacher.num_classes, clip=teacher.clip,
            data_key=context.modality.batch_key, teacher=HeldParams(t_state.ema_params),
            teacher_denoiser=teacher.denoiser, init_from_teacher=config.cd.init_from_teacher,
            **_schedule(config))
    except ValueError as e:
        raise ConfigError(f"cd config: {e}") from e
