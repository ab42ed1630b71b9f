"""From a ``gan`` config to a GAN objective (the family's only reader of ConfigDicts)."""

from __future__ import annotations

import math

import ml_collections
import optax

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import image_size
from genjax.modalities.image import ImageModality


def _networks(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """The generator and discriminator of ``config.model.arch``."""
    from genjax.families.gan import dcgan, mlp, progressive

    m = config.model
    if m.arch not in ("dcgan", "mlp", "progressive"):
        raise ConfigError(f"unknown model.arch {m.arch!r}; choose 'dcgan', 'mlp' or "
                          "'progressive'")
    images = isinstance(context.modality, ImageModality)
    if context.precision.name != "fp32" and m.arch != "dcgan":
        raise ConfigError(f"model.arch={m.arch!r} computes in float32 only; use "
                          "--config.precision=fp32 (or model.arch='dcgan' for bf16)")
    pack, classes = m.pack, (spec.num_classes if m.conditional else 0)
    if m.arch == "mlp":
        if images:
            raise ConfigError("model.arch='mlp' is the 2D protocol's network; use point data "
                              "(--config.data.name=toy2d_ring) or model.arch='dcgan'")
        return (mlp.MLPGenerator(hidden=tuple(m.g_hidden), out=spec.shape[-1]),
                mlp.MaxoutDiscriminator(hidden=tuple(m.d_hidden), pieces=m.maxout_pieces,
                                        spectral_norm=m.spectral_norm))
    if not images:
        raise ConfigError(f"model.arch={m.arch!r} needs image data, but dataset {spec.name!r} "
                          f"holds {spec.modality}; use model.arch='mlp' for points")
    size, channels = image_size(config, spec), spec.shape[-1]
    if m.arch == "dcgan":
        dtype = context.precision.compute_dtype
        return (dcgan.Generator(features=tuple(m.g_features), channels=channels,
                                image_size=size, num_classes=classes, label_dim=m.label_dim,
                                dtype=dtype),
                dcgan.Discriminator(features=tuple(m.d_features), image_size=size,
                                    channels=channels * pack, norm=m.d_norm,
                                    spectral_norm=m.spectral_norm, num_classes=classes,
                                    dtype=dtype))
    if m.conditional or m.spectral_norm:
        raise ConfigError("model.arch='progressive' takes neither conditional nor "
                          "spectral_norm here; set them to False")
    g = progressive.ProgressiveGenerator(features=tuple(m.g_features), channels=channels)
    if g.image_size != size:
        raise ConfigError(f"progressive g_features {tuple(m.g_features)} make "
                          f"{g.image_size}x{g.image_size} images, the data is {size}x{size}; "
                          f"give {int(math.log2(size)) - 1} widths or set data.image_size")
    return g, progressive.ProgressiveDiscriminator(features=tuple(m.d_features))


def learning_rate(optim: ml_collections.ConfigDict, peak: float, updates: int):
    """One network's learning rate: ``peak`` (``optim.lr_schedule='constant'``) or a schedule
    over its ``updates`` optimiser steps (``'cosine'``: linear warm-up from 0 over
    ``optim.warmup_steps``, then cosine decay reaching ``peak * optim.min_lr_ratio`` after the
    last update; annealing to ~0 is what turns a spread-out 2D generator into sharp modes).

    Configs saved before these keys existed (and named configs that replace ``optim``) read
    as ``'constant'``. A warm-up as long as the training (a short smoke run of a config made
    for longer) is cut to half the updates, so the decay still happens.

    Raises:
      ConfigError: an unknown schedule, a negative warm-up or a ratio outside [0, 1].
    """
    schedule = optim.get("lr_schedule", "constant")
    if schedule == "constant":
        return peak
    if schedule != "cosine":
        raise ConfigError(f"unknown optim.lr_schedule {schedule!r}; choose 'constant' or "
                          "'cosine'")
    warmup, floor = optim.get("warmup_steps", 0), optim.get("min_lr_ratio", 0.0)
    if warmup < 0:
        raise ConfigError(f"optim.warmup_steps must be >= 0, got {warmup}")
    if not 0 <= floor <= 1:
        raise ConfigError(f"optim.min_lr_ratio must be in [0, 1], got {floor}")
    if warmup >= updates:
        warmup = updates // 2
    return optax.warmup_cosine_decay_schedule(0.0, peak, warmup, updates,
                                              end_value=peak * floor)


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """Any GAN recipe: ``model.arch`` picks the networks, ``gan.*`` the loss and regularisers,
    ``model.conditional`` a class-conditional GAN, ``model.arch='progressive'`` growth."""
    from genjax.families.gan.objective import GAN, ConditionalGAN, GrowthSchedule, ProgressiveGAN

    m, g = config.model, config.gan
    if m.conditional and not spec.num_classes:
        raise ConfigError(f"model.conditional needs labels; dataset {spec.name!r} has none")
    if m.conditional and m.arch != "dcgan":
        raise ConfigError(f"model.conditional needs model.arch='dcgan' (label embedding, "
                          f"projection D); got arch {m.arch!r}")
    augment = tuple(p.strip() for p in g.augment.split(",") if p.strip())
    if augment and not isinstance(context.modality, ImageModality):
        raise ConfigError(f"gan.augment (DiffAugment) needs image data; dataset {spec.name!r} "
                          f"holds {spec.modality}: set --config.gan.augment=''")
    generator, discriminator = _networks(config, spec, context)
    o, steps = config.optim, config.train.steps
    common = dict(
        generator=generator, discriminator=discriminator, latent_dim=m.latent_dim,
        g_optimizer=optax.adam(learning_rate(o, o.g_lr, steps), b1=o.b1, b2=o.b2),
        # D takes n_critic updates per step: its schedule runs over all of them
        d_optimizer=optax.adam(learning_rate(o, o.d_lr, steps * g.n_critic), b1=o.b1,
                               b2=o.b2),
        loss=g.loss, gp_weight=g.gp_weight, r1_weight=g.r1_weight, n_critic=g.n_critic,
        label_smoothing=g.label_smoothing,
        ema_decay=g.ema_decay or None, pack=m.pack, data_key=context.modality.batch_key,
        augment=augment, standing_stats=g.get("standing_stats", 0),
        standing_batch=g.get("standing_batch", 0),
        freeze_g_stats_at=g.get("freeze_g_stats_at", 0),
        instance_noise=g.get("instance_noise", 0.0),
        instance_noise_steps=g.get("instance_noise_steps", 0),
    )
    if m.arch == "progressive":
        return ProgressiveGAN(**common, schedule=GrowthSchedule(
            levels=len(m.g_features), stable_steps=m.stable_steps, fade_steps=m.fade_steps))
    if m.conditional:
        return ConditionalGAN(**common, num_classes=spec.num_classes)
    return GAN(**common)


def migrate_dcgan(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """A config saved by the former ``dcgan`` family, in the ``gan`` family's schema.

    ``dcgan`` was the DCGAN networks with one learning rate and a generator loss; the same
    model is ``gan`` with ``model.arch='dcgan'``, so its checkpoints load unchanged.
    """
    from genjax.families.gan.config import gan_config

    new = gan_config()
    for key in ("seed", "parallel", "precision"):
        if key in config:
            new[key] = config[key]
    for section in ("distributed", "data", "train", "eval"):
        if section in config:
            new[section].update(config[section].to_dict())
    old_model, old_optim = config.model, config.optim
    for key in ("latent_dim", "g_features", "d_features"):
        new.model[key] = old_model[key]
    new.gan.loss = old_model.g_loss
    new.gan.ema_decay = old_model.ema_decay
    new.optim = ml_collections.ConfigDict({"g_lr": old_optim.lr, "d_lr": old_optim.lr,
                                           "b1": old_optim.b1, "b2": old_optim.b2})
    return new
