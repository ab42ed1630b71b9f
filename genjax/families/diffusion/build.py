"""From a ``ddpm`` config to the Diffusion objective: a UNet on images, an MLP on points."""

from __future__ import annotations

import ml_collections
import optax

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import image_size
from genjax.modalities.image import ImageModality


def _optimizer(optim: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """Adam with DDPM's linear learning-rate warmup and gradient-norm clipping (0: off)."""
    lr = optim.lr
    if optim.warmup_steps:
        lr = optax.linear_schedule(0.0, optim.lr, optim.warmup_steps)
    adam = optax.adam(lr, b1=optim.b1, b2=optim.b2)
    return optax.chain(optax.clip_by_global_norm(optim.grad_clip), adam) if optim.grad_clip \
        else adam


def _require_keys(what: str, section: ml_collections.ConfigDict, keys: tuple[str, ...],
                  example: str) -> None:
    missing = [k for k in keys if k not in section]
    if missing:
        raise ConfigError(f"family 'ddpm' on {what} needs model.{', model.'.join(missing)} "
                          f"(see the {example!r} config)")


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A DDPM/DDIM diffusion model: a UNet on images, an MLP denoiser on points."""
    import jax.numpy as jnp

    from genjax.families.diffusion import Diffusion, make_schedule
    from genjax.nn.mlp_denoiser import MLPDenoiser
    from genjax.nn.unet import UNet

    m, d = config.model, config.diffusion
    num_classes = None
    if m.class_conditional:
        if not spec.num_classes:
            raise ConfigError(f"model.class_conditional needs a labelled dataset; "
                              f"{spec.name!r} has no class labels")
        num_classes = spec.num_classes
    dtypes = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
    if m.dtype not in dtypes:
        raise ConfigError(f"model.dtype must be one of {sorted(dtypes)}, got {m.dtype!r}")
    images = isinstance(context.modality, ImageModality)
    if images:
        needed = ("ch", "ch_mult", "num_res_blocks", "attn_resolutions", "dropout", "norm_groups")
        _require_keys("images", m, needed, "ddpm_mnist")
        size = image_size(config, spec)
        model = UNet(ch=m.ch, ch_mult=tuple(m.ch_mult), num_res_blocks=m.num_res_blocks,
                     attn_resolutions=tuple(m.attn_resolutions), dropout=m.dropout,
                     num_classes=num_classes, norm_groups=m.norm_groups, dtype=dtypes[m.dtype])
        shape, decoder = (size, size, spec.shape[-1]), "discretized"
    else:
        _require_keys("points", m, ("features", "num_layers"), "ddpm_toy2d")
        model = MLPDenoiser(features=m.features, num_layers=m.num_layers,
                            input_features=m.get("input_features", 0),
                            num_classes=num_classes, dtype=dtypes[m.dtype])
        shape, decoder = tuple(spec.shape), "gaussian"
    return Diffusion(
        model=model,
        schedule=make_schedule(d.schedule, d.timesteps),
        optimizer=_optimizer(config.optim),
        data_shape=shape,
        prediction=d.prediction,
        min_snr_gamma=d.min_snr_gamma or None,
        ema_decay=d.ema_decay,
        num_classes=num_classes,
        label_dropout=d.label_dropout,
        sampler=d.sampler,
        sample_steps=d.sample_steps,
        ddim_eta=d.ddim_eta,
        ddpm_variance=d.ddpm_variance,
        guidance=d.guidance,
        clip_denoised=images,
        decoder=decoder,
        bound_timesteps=config.eval.get("bound_timesteps", 0),
        data_key=context.modality.batch_key,
    )
