"""From a ``flow`` config to the FlowMatching objective: a UNet on images, an MLP on points."""

from __future__ import annotations

import ml_collections
import optax

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import image_size
from genjax.modalities.image import ImageModality


def _optimizer(optim: ml_collections.ConfigDict) -> optax.GradientTransformation:
    """Adam with a linear learning-rate warmup and gradient-norm clipping (0: off)."""
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
        raise ConfigError(f"family 'flow' on {what} needs model.{', model.'.join(missing)} "
                          f"(see the {example!r} config)")


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A flow-matching model: a UNet velocity network on images, an MLP on points."""
    import jax.numpy as jnp

    from genjax.families.flow.objective import TIME_SAMPLINGS, FlowMatching
    from genjax.families.flow.samplers import SOLVERS
    from genjax.nn.mlp_denoiser import MLPDenoiser
    from genjax.nn.unet import UNet

    m, f = config.model, config.flow
    num_classes = None
    if m.class_conditional:
        if not spec.num_classes:
            raise ConfigError(f"model.class_conditional needs a labelled dataset; "
                              f"{spec.name!r} has no class labels")
        num_classes = spec.num_classes
    dtypes = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
    if m.dtype not in dtypes:
        raise ConfigError(f"model.dtype must be one of {sorted(dtypes)}, got {m.dtype!r}")
    if f.time_sampling not in TIME_SAMPLINGS:
        raise ConfigError(f"flow.time_sampling must be one of {TIME_SAMPLINGS}, got "
                          f"{f.time_sampling!r}")
    if f.solver not in SOLVERS:
        raise ConfigError(f"flow.solver must be one of {tuple(SOLVERS)}, got {f.solver!r}")
    images = isinstance(context.modality, ImageModality)
    if images:
        needed = ("ch", "ch_mult", "num_res_blocks", "attn_resolutions", "dropout", "norm_groups")
        _require_keys("images", m, needed, "flow_mnist")
        size = image_size(config, spec)
        model = UNet(ch=m.ch, ch_mult=tuple(m.ch_mult), num_res_blocks=m.num_res_blocks,
                     attn_resolutions=tuple(m.attn_resolutions), dropout=m.dropout,
                     num_classes=num_classes, norm_groups=m.norm_groups, dtype=dtypes[m.dtype])
        shape = (size, size, spec.shape[-1])
    else:
        _require_keys("points", m, ("features", "num_layers"), "flow_toy2d")
        model = MLPDenoiser(features=m.features, num_layers=m.num_layers,
                            input_features=m.get("input_features", 0),
                            num_classes=num_classes, dtype=dtypes[m.dtype])
        shape = tuple(spec.shape)
    try:
        return FlowMatching(
            model=model,
            optimizer=_optimizer(config.optim),
            data_shape=shape,
            time_sampling=f.time_sampling,
            logit_mean=f.logit_mean,
            logit_std=f.logit_std,
            time_scale=f.time_scale,
            ema_decay=f.ema_decay,
            num_classes=num_classes,
            label_dropout=f.label_dropout,
            solver=f.solver,
            sample_steps=f.sample_steps,
            guidance=f.guidance,
            clip=images,
            bits_per_dim=images,
            likelihood_solver=config.eval.get("likelihood_solver", "rk4"),
            likelihood_steps=config.eval.get("likelihood_steps", 32),
            likelihood_probes=config.eval.get("likelihood_probes", 0),
            data_key=context.modality.batch_key,
        )
    except ValueError as e:
        raise ConfigError(f"flow config: {e}") from e


def build_reflow(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """Reflow of a trained flow run (``model.flow_dir``): its network, frozen as the teacher."""
    from genjax.families.flow.objective import HeldParams, Reflow
    from genjax.families.flow.samplers import SOLVERS

    m, f, r = config.model, config.flow, config.reflow
    if not m.flow_dir:
        raise ConfigError("model.flow_dir is empty: name the run folder of a trained flow, e.g. "
                          "genjax train flow_toy2d --workdir runs/flow, then "
                          "--config.model.flow_dir=runs/flow")
    t_config, teacher, t_state = context.load_run(m.flow_dir)
    if t_config.family not in ("flow", "reflow"):
        raise ConfigError(f"model.flow_dir={m.flow_dir} holds a {t_config.family!r} run; it "
                          "must be a flow (or reflow) run")
    for key in ("name", "image_size"):
        if t_config.data[key] != config.data[key]:
            raise ConfigError(
                f"data.{key}={config.data[key]!r} differs from the teacher run's "
                f"{t_config.data[key]!r}; reflow keeps the teacher's data: set "
                f"--config.data.{key}={t_config.data[key]}")
    for name, value in (("reflow.teacher_solver", r.teacher_solver), ("flow.solver", f.solver)):
        if value not in SOLVERS:
            raise ConfigError(f"{name} must be one of {tuple(SOLVERS)}, got {value!r}")
    try:
        return Reflow(
            model=teacher.model,
            optimizer=_optimizer(config.optim),
            data_shape=teacher.data_shape,
            time_sampling=f.time_sampling,
            logit_mean=f.logit_mean,
            logit_std=f.logit_std,
            time_scale=teacher.time_scale,
            ema_decay=f.ema_decay,
            num_classes=teacher.num_classes,
            label_dropout=f.label_dropout,
            solver=f.solver,
            sample_steps=f.sample_steps,
            guidance=f.guidance,
            clip=teacher.clip,
            bits_per_dim=teacher.bits_per_dim,
            likelihood_solver=config.eval.get("likelihood_solver", "rk4"),
            likelihood_steps=config.eval.get("likelihood_steps", 32),
            likelihood_probes=config.eval.get("likelihood_probes", 0),
            teacher=HeldParams(t_state.ema_params),
            teacher_solver=r.teacher_solver,
            teacher_steps=r.teacher_steps,
            init_from_teacher=r.init_from_teacher,
            data_key=context.modality.batch_key,
        )
    except ValueError as e:
        raise ConfigError(f"reflow config: {e}") from e
