"""From a ``ddpm`` config to the Diffusion objective: a UNet on images, DiffWave's network on
audio, an MLP on points."""

from __future__ import annotations

import ml_collections

from genjax.data.tfds import DatasetSpec
from genjax.families._build import denoiser, warmup_adam


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A DDPM/DDIM diffusion model: a UNet on images, DiffWave's network on audio (the
    DiffWave model: the same objective and samplers), an MLP denoiser on points."""
    from genjax.families.diffusion import Diffusion, make_schedule

    d = config.diffusion
    net = denoiser(config, spec, context, "ddpm", ("ddpm_mnist", "ddpm_toy2d", "diffwave_digits"))
    return Diffusion(
        model=net.model,
        schedule=make_schedule(d.schedule, d.timesteps),
        optimizer=warmup_adam(config.optim),
        data_shape=net.data_shape,
        prediction=d.prediction,
        min_snr_gamma=d.min_snr_gamma or None,
        timestep_sampling=d.get("timestep_sampling", "uniform"),
        p_mean=d.get("p_mean", -1.2),
        p_std=d.get("p_std", 1.2),
        ema_decay=d.ema_decay,
        num_classes=net.num_classes,
        label_dropout=d.label_dropout,
        sampler=d.sampler,
        sample_steps=d.sample_steps,
        ddim_eta=d.ddim_eta,
        ddpm_variance=d.ddpm_variance,
        guidance=d.guidance,
        clip_denoised=net.bounded,
        decoder="discretized" if net.images else "gaussian",
        bound_timesteps=config.eval.get("bound_timesteps", 0),
        data_key=context.modality.batch_key,
    )
