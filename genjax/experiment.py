"""From a config to the pieces the loop needs: objective, batches, settings.

This is the experiments boundary: the only place that reads ConfigDicts and turns them into
typed modules. Adding a family means adding one builder to ``FAMILIES``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ml_collections
import optax

from genjax import data as gdata
from genjax.config import ConfigError
from genjax.core.loop import LoopSettings
from genjax.core.objective import Objective
from genjax.data.pipeline import default_transform


def _adam(optim: ml_collections.ConfigDict) -> optax.GradientTransformation:
    return optax.adam(optim.lr, b1=optim.b1, b2=optim.b2)


def _image_size(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> int:
    return config.data.image_size or spec.shape[0]


def _require_images(family: str, spec: gdata.DatasetSpec) -> None:
    if spec.kind != "image":
        raise ConfigError(
            f"family {family!r} needs image data, but dataset {spec.name!r} holds {spec.kind}; "
            f"choose an image dataset with --config.data.name (e.g. mnist_subset)"
        )


def build_dcgan(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """The article's DCGAN as a GAN objective."""
    from genjax.nn.dcgan import Discriminator, Generator
    from genjax.objectives.gan import GAN

    _require_images("dcgan", spec)
    m = config.model
    return GAN(
        generator=Generator(features=tuple(m.g_features), channels=spec.shape[-1],
                            image_size=_image_size(config, spec)),
        discriminator=Discriminator(features=tuple(m.d_features),
                                    image_size=_image_size(config, spec),
                                    channels=spec.shape[-1]),
        latent_dim=m.latent_dim,
        g_optimizer=_adam(config.optim),
        d_optimizer=_adam(config.optim),
        g_loss=m.g_loss,
        ema_decay=m.ema_decay or None,
    )


def build_classifier(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """A digit classifier (the domain feature network)."""
    from genjax.nn.classifier import DigitClassifier
    from genjax.objectives.classifier import Classifier

    _require_images("classifier", spec)
    if not spec.num_classes:
        raise ConfigError(f"dataset {spec.name!r} has no labels to classify")
    m = config.model
    return Classifier(
        module=DigitClassifier(num_classes=spec.num_classes, features=m.features,
                               dropout=m.dropout),
        optimizer=_adam(config.optim),
    )


def _ddpm_optimizer(optim: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """Adam with DDPM's linear learning-rate warmup and gradient-norm clipping (0: off)."""
    lr = optim.lr
    if optim.warmup_steps:
        lr = optax.linear_schedule(0.0, optim.lr, optim.warmup_steps)
    adam = optax.adam(lr, b1=optim.b1, b2=optim.b2)
    return optax.chain(optax.clip_by_global_norm(optim.grad_clip), adam) if optim.grad_clip \
        else adam


def build_ddpm(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """A DDPM/DDIM diffusion model: a UNet on images, an MLP denoiser on points."""
    import jax.numpy as jnp

    from genjax.nn.mlp_denoiser import MLPDenoiser
    from genjax.nn.unet import UNet
    from genjax.objectives.diffusion import Diffusion, make_schedule

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
    if spec.kind == "image":
        needed = ("ch", "ch_mult", "num_res_blocks", "attn_resolutions", "dropout", "norm_groups")
        _require_keys("ddpm", "images", m, needed, "ddpm_mnist")
        size = _image_size(config, spec)
        model = UNet(ch=m.ch, ch_mult=tuple(m.ch_mult), num_res_blocks=m.num_res_blocks,
                     attn_resolutions=tuple(m.attn_resolutions), dropout=m.dropout,
                     num_classes=num_classes, norm_groups=m.norm_groups, dtype=dtypes[m.dtype])
        shape, data_key, decoder = (size, size, spec.shape[-1]), "image", "discretized"
    else:
        _require_keys("ddpm", "points", m, ("features", "num_layers"), "ddpm_toy2d")
        model = MLPDenoiser(features=m.features, num_layers=m.num_layers,
                            input_features=m.get("input_features", 0),
                            num_classes=num_classes, dtype=dtypes[m.dtype])
        shape, data_key, decoder = tuple(spec.shape), "point", "gaussian"
    return Diffusion(
        model=model,
        schedule=make_schedule(d.schedule, d.timesteps),
        optimizer=_ddpm_optimizer(config.optim),
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
        clip_denoised=spec.kind == "image",
        decoder=decoder,
        bound_timesteps=config.eval.get("bound_timesteps", 0),
        data_key=data_key,
    )


def _require_keys(family: str, kind: str, section: ml_collections.ConfigDict,
                  keys: tuple[str, ...], example: str) -> None:
    missing = [k for k in keys if k not in section]
    if missing:
        raise ConfigError(f"family {family!r} on {kind} needs model.{', model.'.join(missing)} "
                          f"(see the {example!r} config)")


FAMILIES: dict[str, Callable[[ml_collections.ConfigDict, gdata.DatasetSpec], Objective]] = {
    "dcgan": build_dcgan,
    "classifier": build_classifier,
    "ddpm": build_ddpm,
}


@dataclasses.dataclass(frozen=True)
class Experiment:
    """Everything ``genjax train`` needs, built from one config."""

    config: ml_collections.ConfigDict
    spec: gdata.DatasetSpec
    objective: Objective
    train_batches: Any
    eval_batches: Any
    settings: LoopSettings


def data_dir(config: ml_collections.ConfigDict) -> Path:
    """The dataset folder: ``data.data_dir`` or genjax's default."""
    return Path(config.data.data_dir) if config.data.data_dir else gdata.default_data_dir()


def loop_settings(config: ml_collections.ConfigDict) -> LoopSettings:
    """The loop's typed settings from ``config.train``."""
    t = config.train
    try:
        return LoopSettings(
            steps=t.steps, log_every=t.log_every, checkpoint_every=t.checkpoint_every,
            sample_every=t.sample_every, keep_checkpoints=t.keep_checkpoints,
            steps_per_call=t.steps_per_call, eval_every=t.eval_every, num_samples=t.num_samples,
        )
    except ValueError as err:
        raise ConfigError(str(err)) from err


def build_objective(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """The family's objective for ``config.family``."""
    if config.family not in FAMILIES:
        raise ConfigError(
            f"unknown family {config.family!r}; known families: {', '.join(sorted(FAMILIES))}")
    try:
        return FAMILIES[config.family](config, spec)
    except (ValueError, TypeError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"cannot build {config.family!r} for dataset {spec.name!r} "
                          f"(shape {spec.shape}): {err}") from err


def make_batches(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec, split: str, *,
                 shuffle: bool, shard_index: int = 0, shard_count: int = 1):
    """Deterministic batches of one split, transformed for the model."""
    source = gdata.load_source(config.data.name, split, data_dir(config))
    transform = default_transform(spec, config.data.image_size or None)
    return gdata.Batches(source, config.train.batch_size, config.seed, shuffle=shuffle,
                         transform=transform, shard_index=shard_index, shard_count=shard_count)


def build(config: ml_collections.ConfigDict, *, shard_index: int = 0, shard_count: int = 1,
          with_eval: bool = True) -> Experiment:
    """Builds the objective, data and loop settings of one config.

    Raises:
      ConfigError / genjax.data.DatasetError: with a message that names the fix.
    """
    settings = loop_settings(config)
    spec = gdata.dataset_spec(config.data.name, data_dir(config))
    objective = build_objective(config, spec)
    train_batches = make_batches(config, spec, "train", shuffle=True,
                                 shard_index=shard_index, shard_count=shard_count)
    eval_batches = None
    if with_eval and config.train.eval_every and "test" in spec.splits:
        eval_batches = make_batches(config, spec, "test", shuffle=False,
                                    shard_index=shard_index, shard_count=shard_count)
    _check_model_takes_data(objective, train_batches, config)
    return Experiment(config, spec, objective, train_batches, eval_batches, settings)


def _check_model_takes_data(objective: Objective, batches: Any, config) -> None:
    """Traces ``init`` on one batch so a shape mismatch fails here, with its reason."""
    import jax

    try:
        jax.eval_shape(objective.init, jax.random.PRNGKey(0), batches.batch(0))
    except (ValueError, TypeError) as err:
        raise ConfigError(
            f"family {config.family!r} cannot take {config.data.name!r} batches "
            f"({ {k: v.shape for k, v in batches.batch(0).items()} }): {err}"
        ) from err
