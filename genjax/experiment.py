"""From a config to the pieces the loop needs: objective, batches, settings.

This is the experiments boundary: the only place that reads ConfigDicts and turns them into
typed modules. Adding a family means adding one builder to ``FAMILIES``.
"""

from __future__ import annotations

import dataclasses
import math
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
        loss=m.g_loss,
        ema_decay=m.ema_decay or None,
    )


def _gan_networks(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec):
    """The generator and discriminator of ``config.model.arch`` for a GAN config."""
    from genjax.nn import dcgan, mlp, progressive

    m = config.model
    if m.arch not in ("dcgan", "mlp", "progressive"):
        raise ConfigError(f"unknown model.arch {m.arch!r}; choose 'dcgan', 'mlp' or "
                          "'progressive'")
    pack, classes = m.pack, (spec.num_classes if m.conditional else 0)
    if m.arch == "mlp":
        if spec.kind == "image":
            raise ConfigError("model.arch='mlp' is the 2D protocol's network; use point data "
                              "(--config.data.name=toy2d_ring) or model.arch='dcgan'")
        return (mlp.MLPGenerator(hidden=tuple(m.g_hidden), out=spec.shape[-1]),
                mlp.MaxoutDiscriminator(hidden=tuple(m.d_hidden), pieces=m.maxout_pieces,
                                        spectral_norm=m.spectral_norm))
    _require_images(f"gan (arch {m.arch!r})", spec)
    size, channels = _image_size(config, spec), spec.shape[-1]
    if m.arch == "dcgan":
        return (dcgan.Generator(features=tuple(m.g_features), channels=channels,
                                image_size=size, num_classes=classes, label_dim=m.label_dim),
                dcgan.Discriminator(features=tuple(m.d_features), image_size=size,
                                    channels=channels * pack, norm=m.d_norm,
                                    spectral_norm=m.spectral_norm, num_classes=classes))
    # progressive
    if m.conditional or m.spectral_norm:
        raise ConfigError("model.arch='progressive' takes neither conditional nor "
                          "spectral_norm here; set them to False")
    g = progressive.ProgressiveGenerator(features=tuple(m.g_features), channels=channels)
    if g.image_size != size:
        raise ConfigError(f"progressive g_features {tuple(m.g_features)} make "
                          f"{g.image_size}x{g.image_size} images, the data is {size}x{size}; "
                          f"give {int(math.log2(size)) - 1} widths or set data.image_size")
    return g, progressive.ProgressiveDiscriminator(features=tuple(m.d_features))


def build_gan(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """Any GAN recipe: ``model.arch`` picks the networks, ``gan.*`` the loss and regularisers,
    ``model.conditional`` a class-conditional GAN, ``model.arch='progressive'`` growth."""
    from genjax.objectives.gan import GAN, ConditionalGAN, GrowthSchedule, ProgressiveGAN

    m, g = config.model, config.gan
    if m.conditional and not spec.num_classes:
        raise ConfigError(f"model.conditional needs labels; dataset {spec.name!r} has none")
    if m.conditional and m.arch != "dcgan":
        raise ConfigError(f"model.conditional needs model.arch='dcgan' (label embedding, "
                          f"projection D); got arch {m.arch!r}")
    generator, discriminator = _gan_networks(config, spec)
    o = config.optim
    common = dict(
        generator=generator, discriminator=discriminator, latent_dim=m.latent_dim,
        g_optimizer=optax.adam(o.g_lr, b1=o.b1, b2=o.b2),
        d_optimizer=optax.adam(o.d_lr, b1=o.b1, b2=o.b2),
        loss=g.loss, gp_weight=g.gp_weight, r1_weight=g.r1_weight, n_critic=g.n_critic,
        ema_decay=g.ema_decay or None, pack=m.pack,
        data_key="image" if spec.kind == "image" else "point",
        augment=tuple(p.strip() for p in g.augment.split(",") if p.strip()),
    )
    if m.arch == "progressive":
        levels = len(m.g_features)
        return ProgressiveGAN(**common, schedule=GrowthSchedule(
            levels=levels, stable_steps=m.stable_steps, fade_steps=m.fade_steps))
    if m.conditional:
        return ConditionalGAN(**common, num_classes=spec.num_classes)
    return GAN(**common)


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


FAMILIES: dict[str, Callable[[ml_collections.ConfigDict, gdata.DatasetSpec], Objective]] = {
    "dcgan": build_dcgan,
    "gan": build_gan,
    "classifier": build_classifier,
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
