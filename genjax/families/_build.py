"""Small helpers the families' ``build`` functions share (config -> typed pieces)."""

from __future__ import annotations

from typing import Any, NamedTuple

import ml_collections
import optax

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec


def adam(optim: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """``optax.adam`` from ``optim.lr``, ``optim.b1``, ``optim.b2``."""
    return optax.adam(optim.lr, b1=optim.b1, b2=optim.b2)


def image_size(config: ml_collections.ConfigDict, spec: DatasetSpec) -> int:
    """``data.image_size`` (images padded to it), else the dataset's own height."""
    return config.data.image_size or spec.shape[0]


def warmup_adam(optim: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """Adam with a linear learning-rate warmup (``optim.warmup_steps``, 0: none) and
    gradient-norm clipping (``optim.grad_clip``, 0: off), as DDPM trains."""
    lr = optim.lr
    if optim.warmup_steps:
        lr = optax.linear_schedule(0.0, optim.lr, optim.warmup_steps)
    adam = optax.adam(lr, b1=optim.b1, b2=optim.b2)
    return optax.chain(optax.clip_by_global_norm(optim.grad_clip), adam) if optim.grad_clip \
        else adam


def adamw_cosine(optim: ml_collections.ConfigDict, steps: int) -> optax.GradientTransformation:
    """AdamW with a linear warmup to ``optim.lr`` over ``optim.warmup_steps`` and a cosine
    decay to ``optim.lr * optim.min_lr_ratio`` at ``optim.decay_steps`` (0: ``steps``),
    gradient-norm clipping at ``optim.grad_clip`` (0: off), and weight decay
    ``optim.weight_decay`` on matrices only (no biases or LayerNorm scales), as nanoGPT.

    Raises:
      ConfigError: a decay shorter than the warmup.
    """
    decay_steps = optim.decay_steps or steps
    if decay_steps <= optim.warmup_steps:
        raise ConfigError(f"optim.decay_steps ({decay_steps}; 0 means train.steps) must exceed "
                          f"optim.warmup_steps ({optim.warmup_steps})")
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, optim.lr, optim.warmup_steps, decay_steps, end_value=optim.lr * optim.min_lr_ratio)

    def matrices(params):
        import jax

        return jax.tree.map(lambda p: p.ndim >= 2, params)

    adamw = optax.adamw(schedule, b1=optim.b1, b2=optim.b2, weight_decay=optim.weight_decay,
                        mask=matrices)
    return optax.chain(optax.clip_by_global_norm(optim.grad_clip), adamw) if optim.grad_clip \
        else adamw


class Denoiser(NamedTuple):
    """The network of a diffusion-style family and what it models.

    Attributes:
      model: a UNet (images), a DiffWave network (audio) or an MLP denoiser (points), all
        ``(x, t, labels) -> x``-shaped.
      data_shape: the per-example shape it generates.
      num_classes: classes it is conditioned on (None: unconditional).
      images: whether the data are 8-bit images (a discretised likelihood, bits/dim).
      bounded: whether the data lie in [-1, 1] (images, waveforms: denoised estimates are
        clipped there).
    """

    model: Any
    data_shape: tuple[int, ...]
    num_classes: int | None
    images: bool
    bounded: bool


def denoiser(config: ml_collections.ConfigDict, spec: DatasetSpec, context, family: str,
             examples: tuple[str, ...]) -> Denoiser:
    """The shared UNet (images), DiffWave network (audio) or MLP denoiser (points) of
    ``config.model``.

    Args:
      config: the family's config (``model.class_conditional``, ``model.dtype`` and the
        network's keys).
      spec: the dataset.
      context: the family build's context (its modality decides the network).
      family: the family's name, for messages.
      examples: the named configs to point at for (images, points[, audio]).

    Raises:
      ConfigError: a missing key, an unknown dtype, or conditioning without labels.
    """
    import jax.numpy as jnp

    from genjax.modalities.audio import AudioModality
    from genjax.modalities.image import ImageModality
    from genjax.nn.diffwave import DiffWaveNet
    from genjax.nn.mlp_denoiser import MLPDenoiser
    from genjax.nn.unet import UNet

    m = config.model
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

    def require(what: str, keys: tuple[str, ...], example: str) -> None:
        missing = [k for k in keys if k not in m]
        if missing:
            raise ConfigError(f"family {family!r} on {what} needs "
                              f"model.{', model.'.join(missing)} (see the {example!r} config)")

    if images:
        require("images", ("ch", "ch_mult", "num_res_blocks", "attn_resolutions", "dropout",
                           "norm_groups"), examples[0])
        size = image_size(config, spec)
        model = UNet(ch=m.ch, ch_mult=tuple(m.ch_mult), num_res_blocks=m.num_res_blocks,
                     attn_resolutions=tuple(m.attn_resolutions), dropout=m.dropout,
                     num_classes=num_classes, norm_groups=m.norm_groups, dtype=dtypes[m.dtype])
        return Denoiser(model, (size, size, spec.shape[-1]), num_classes, True, True)
    if isinstance(context.modality, AudioModality):
        require("audio", ("residual_channels", "num_layers", "dilation_cycle"),
                examples[2] if len(examples) > 2 else examples[0])
        model = DiffWaveNet(residual_channels=m.residual_channels, num_layers=m.num_layers,
                            dilation_cycle=m.dilation_cycle,
                            time_dim=m.get("time_dim", 128),
                            time_features=m.get("time_features", 512),
                            num_classes=num_classes, dtype=dtypes[m.dtype])
        return Denoiser(model, tuple(spec.shape), num_classes, False, True)
    require("points", ("features", "num_layers"), examples[1])
    model = MLPDenoiser(features=m.features, num_layers=m.num_layers,
                        input_features=m.get("input_features", 0), num_classes=num_classes,
                        dtype=dtypes[m.dtype])
    return Denoiser(model, tuple(spec.shape), num_classes, False, False)


def first_stage(config: ml_collections.ConfigDict, context, dir_key: str,
                families: tuple[str, ...], what: str, example: str):
    """The trained first-stage run a two-stage family builds on (``model.<dir_key>``).

    Args:
      config: the second stage's config.
      context: its build context (``context.load_run`` reads the run folder).
      dir_key: the ``model`` key holding the run folder, e.g. ``vqvae_dir``.
      families: the families that run may be of.
      what: what the first stage is called in messages, e.g. ``"VQ-VAE"``.
      example: a named config that trains such a run, for messages.

    Returns:
      ``(config, objective, state)`` of that run.

    Raises:
      ConfigError: no folder given, a run of another family, or other data than the
        second stage's (``data.name`` / ``data.image_size``).
    """
    folder = config.model[dir_key]
    if not folder:
        raise ConfigError(
            f"model.{dir_key} is empty: name the run folder of a trained {what}, e.g. "
            f"genjax train {example} --workdir runs/first, then "
            f"--config.model.{dir_key}=runs/first")
    run_config, objective, state = context.load_run(folder)
    if run_config.family not in families:
        raise ConfigError(f"model.{dir_key}={folder} holds a {run_config.family!r} run; it "
                          f"must be a {' or '.join(families)} run (genjax train {example} ...)")
    for key in ("name", "image_size"):
        if run_config.data[key] != config.data[key]:
            raise ConfigError(
                f"data.{key}={config.data[key]!r} differs from the {what} run's "
                f"{run_config.data[key]!r}; a second stage trains on its first stage's data: "
                f"set --config.data.{key}={run_config.data[key]}")
    return run_config, objective, state
