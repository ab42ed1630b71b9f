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
from genjax.core.parallel import (
    DATA_AXIS,
    PARALLEL_MODES,
    ParallelError,
    check_divisible,
    has_axis_name,
    step_factory,
    with_axis_name,
)
from genjax.core.precision import PRECISIONS, Precision, precision_policy, uses_compute_dtype
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


def precision(config: ml_collections.ConfigDict) -> Precision:
    """The compute-dtype policy of ``config.precision``."""
    try:
        return precision_policy(config.get("precision", "fp32"))
    except ValueError as err:
        raise ConfigError(f"--config.precision: {err}") from err


def build_dcgan(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """The article's DCGAN as a GAN objective."""
    from genjax.families.gan.dcgan import Discriminator, Generator
    from genjax.families.gan.objective import GAN

    _require_images("dcgan", spec)
    m = config.model
    dtype = precision(config).compute_dtype
    return GAN(
        generator=Generator(features=tuple(m.g_features), channels=spec.shape[-1],
                            image_size=_image_size(config, spec), dtype=dtype),
        discriminator=Discriminator(features=tuple(m.d_features),
                                    image_size=_image_size(config, spec),
                                    channels=spec.shape[-1], dtype=dtype),
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
    from genjax.families.gan.objective import GAN, ConditionalGAN, GrowthSchedule, ProgressiveGAN

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
    from genjax.families.classifier.network import DigitClassifier
    from genjax.families.classifier.objective import Classifier

    _require_images("classifier", spec)
    if not spec.num_classes:
        raise ConfigError(f"dataset {spec.name!r} has no labels to classify")
    m = config.model
    return Classifier(
        module=DigitClassifier(num_classes=spec.num_classes, features=m.features,
                               dropout=m.dropout, dtype=precision(config).compute_dtype),
        optimizer=_adam(config.optim),
    )


def build_vqvae(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """A VQ-VAE (plain or EMA codebook); it samples through its prior stage (vqvae_prior)."""
    from genjax.families.vqvae.networks import Decoder, Encoder, check_image_side
    from genjax.families.vqvae.objective import VQVAE

    _require_images("vqvae", spec)
    if config.train.num_samples:
        raise ConfigError(
            "a VQ-VAE cannot draw sample grids on its own (it has no prior over its codes): "
            "set --config.train.num_samples=0 (reconstruction grids are still written) and "
            "train the prior stage, config vqvae_prior_mnist, to sample")
    m = config.model
    features = tuple(m.features)
    check_image_side(_image_size(config, spec), len(features))
    return VQVAE(
        encoder=Encoder(features=features, code_dim=m.code_dim,
                        num_res_blocks=m.num_res_blocks, res_hidden=m.res_hidden),
        decoder=Decoder(features=features, channels=spec.shape[-1],
                        num_res_blocks=m.num_res_blocks, res_hidden=m.res_hidden),
        num_codes=m.num_codes,
        optimizer=_adam(config.optim),
        variant=m.variant,
        beta=m.beta,
        ema_decay=m.ema_decay,
        ema_epsilon=m.ema_epsilon,
        restarts=m.restarts,
        restart_after=m.restart_after,
    )


def build_vqvae_prior(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """The prior stage of a trained VQ-VAE run (``model.vqvae_dir``), frozen into the state."""
    from genjax.app.runs import WorkdirError, load_run  # lazy: runs imports this module
    from genjax.families.vqvae.networks import check_image_side
    from genjax.families.vqvae.prior import HeldTree, VQVAEPrior
    from genjax.families.vqvae.prior_network import CodeTransformer

    _require_images("vqvae_prior", spec)
    m = config.model
    if not m.vqvae_dir:
        raise ConfigError(
            "model.vqvae_dir is empty: name the run folder of a trained VQ-VAE, e.g. "
            "genjax train vqvae_mnist --workdir runs/vqvae, then "
            "--config.model.vqvae_dir=runs/vqvae")
    try:
        vq_config, vq_experiment, vq_state = load_run(Path(m.vqvae_dir))
    except WorkdirError as err:
        raise ConfigError(f"model.vqvae_dir={m.vqvae_dir}: {err}") from err
    if vq_config.family != "vqvae":
        raise ConfigError(f"model.vqvae_dir={m.vqvae_dir} holds a {vq_config.family!r} run; "
                          "it must be a VQ-VAE run (genjax train vqvae_mnist ...)")
    for key in ("name", "image_size"):
        if vq_config.data[key] != config.data[key]:
            raise ConfigError(
                f"data.{key}={config.data[key]!r} differs from the VQ-VAE run's "
                f"{vq_config.data[key]!r}; the prior models that run's codes: set "
                f"--config.data.{key}={vq_config.data[key]}")
    side = check_image_side(_image_size(config, spec), len(vq_config.model.features))
    return VQVAEPrior(
        vqvae=vq_experiment.objective,
        prior=CodeTransformer(num_codes=vq_config.model.num_codes, length=side * side,
                              width=m.width, depth=m.depth, heads=m.heads,
                              mlp_ratio=m.mlp_ratio),
        optimizer=_adam(config.optim),
        frozen=HeldTree({"params": vq_state.params, "model_state": vq_state.model_state}),
    )


def _autoencoder_modules(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec,
                         encoder_outputs: int):
    """The shared conv encoder/decoder of the autoencoder families from ``config.model``."""
    from genjax.families.autoencoders.networks import Decoder, Encoder

    m = config.model
    encoder = Encoder(out_features=encoder_outputs, features=tuple(m.enc_features),
                      hidden=m.hidden)
    decoder = Decoder(image_size=_image_size(config, spec), channels=spec.shape[-1],
                      features=tuple(m.dec_features), hidden=m.hidden)
    return encoder, decoder


def build_vae(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """A convolutional VAE (Bernoulli or Gaussian likelihood, beta weight, IWAE test NLL)."""
    from genjax.families.autoencoders.vae import VAE

    _require_images("vae", spec)
    m = config.model
    encoder, decoder = _autoencoder_modules(config, spec, 2 * m.latent_dim)
    return VAE(
        encoder=encoder, decoder=decoder, latent_dim=m.latent_dim, optimizer=_adam(config.optim),
        likelihood=m.likelihood, beta=m.beta, gaussian_scale=m.gaussian_scale or None,
        iwae_k=config.eval.iwae_k, iwae_chunk=config.eval.iwae_chunk,
    )


def build_dae(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """A convolutional denoising autoencoder (Gaussian noise and/or masking corruption)."""
    from genjax.families.autoencoders.dae import DAE

    _require_images("dae", spec)
    m = config.model
    encoder, decoder = _autoencoder_modules(config, spec, m.latent_dim)
    return DAE(
        encoder=encoder, decoder=decoder, latent_dim=m.latent_dim, optimizer=_adam(config.optim),
        loss=m.loss,
        noise_std=m.noise_std, mask_prob=m.mask_prob, sample_steps=m.sample_steps,
    )


def build_aae(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """An adversarial autoencoder: a latent discriminator against N(0, I)."""
    from genjax.families.autoencoders.aae import AAE
    from genjax.families.autoencoders.networks import LatentDiscriminator

    _require_images("aae", spec)
    m = config.model
    encoder, decoder = _autoencoder_modules(config, spec, m.latent_dim)
    return AAE(
        encoder=encoder, decoder=decoder,
        discriminator=LatentDiscriminator(features=tuple(m.d_features)),
        latent_dim=m.latent_dim, ae_optimizer=_adam(config.optim),
        d_optimizer=_adam(config.adv_optim), g_optimizer=_adam(config.adv_optim), loss=m.loss,
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
    "gan": build_gan,
    "classifier": build_classifier,
    "vqvae": build_vqvae,
    "vqvae_prior": build_vqvae_prior,
    "vae": build_vae,
    "dae": build_dae,
    "aae": build_aae,
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
    make_step: Callable[..., Any]


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


def parallel_mode(config: ml_collections.ConfigDict) -> str:
    """``config.parallel`` checked (``single`` for configs saved before the key existed)."""
    parallel = config.get("parallel", "single")
    if parallel not in PARALLEL_MODES:
        raise ConfigError(f"unknown parallel mode {parallel!r}; choose one of "
                          f"{', '.join(PARALLEL_MODES)} (--config.parallel)")
    return parallel


def build_objective(config: ml_collections.ConfigDict, spec: gdata.DatasetSpec) -> Objective:
    """The family's objective for ``config.family``, set up for ``config.parallel``.

    Under ``parallel=pmap`` every ``axis_name`` field of the objective and of its modules is
    set to ``genjax.core.parallel.DATA_AXIS`` (the convention of ``genjax.core.collectives``), so
    a family needs no code of its own for pmap.
    """
    if config.family not in FAMILIES:
        raise ConfigError(
            f"unknown family {config.family!r}; known families: {', '.join(sorted(FAMILIES))}")
    parallel = parallel_mode(config)
    if config.get("precision", "fp32") not in PRECISIONS:
        raise ConfigError(f"unknown precision {config.precision!r}; choose one of "
                          f"{', '.join(PRECISIONS)} (--config.precision)")
    try:
        objective = FAMILIES[config.family](config, spec)
    except (ValueError, TypeError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"cannot build {config.family!r} for dataset {spec.name!r} "
                          f"(shape {spec.shape}): {err}") from err
    policy = precision(config)
    if policy.name != "fp32" and not uses_compute_dtype(objective, policy.compute_dtype):
        raise ConfigError(f"family {config.family!r} does not apply precision={policy.name} "
                          "(its modules have no dtype set from the policy); use "
                          "--config.precision=fp32")
    if parallel == "pmap":
        if not has_axis_name(objective):
            raise ConfigError(
                f"family {config.family!r} has no axis_name field, so it cannot run under "
                "pmap (see genjax.core.collectives); use --config.parallel=sharded")
        objective = with_axis_name(objective, DATA_AXIS)
    return objective


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
    parallel = parallel_mode(config)
    if parallel in ("pmap", "sharded"):
        import jax

        try:
            check_divisible(config.train.batch_size, jax.device_count())
        except ParallelError as err:
            raise ConfigError(f"parallel={parallel}: {err}") from err
    spec = gdata.dataset_spec(config.data.name, data_dir(config))
    objective = build_objective(config, spec)
    train_batches = make_batches(config, spec, "train", shuffle=True,
                                 shard_index=shard_index, shard_count=shard_count)
    eval_batches = None
    if with_eval and config.train.eval_every and "test" in spec.splits:
        eval_batches = make_batches(config, spec, "test", shuffle=False,
                                    shard_index=shard_index, shard_count=shard_count)
    _check_model_takes_data(objective, train_batches, config)
    return Experiment(config, spec, objective, train_batches, eval_batches, settings,
                      step_factory(parallel))


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
