"""From a ``flow`` config to the FlowMatching objective: a UNet on images, an MLP on points."""

from __future__ import annotations

import ml_collections

from genjax.config import ConfigError
from genjax.data.tfds import DatasetSpec
from genjax.families._build import denoiser, first_stage, warmup_adam


def _check_solver(name: str, value: str) -> None:
    from genjax.families.flow.samplers import ADAPTIVE_SOLVERS, SOLVERS

    if value not in (*SOLVERS, *ADAPTIVE_SOLVERS):
        raise ConfigError(f"{name} must be one of {(*SOLVERS, *ADAPTIVE_SOLVERS)}, got "
                          f"{value!r}")


def build(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """A flow-matching model: a UNet velocity network on images, an MLP on points."""
    from genjax.families.flow.objective import TIME_SAMPLINGS, FlowMatching

    f = config.flow
    net = denoiser(config, spec, context, "flow", ("flow_mnist", "flow_toy2d"))
    if f.time_sampling not in TIME_SAMPLINGS:
        raise ConfigError(f"flow.time_sampling must be one of {TIME_SAMPLINGS}, got "
                          f"{f.time_sampling!r}")
    _check_solver("flow.solver", f.solver)
    try:
        return FlowMatching(
            model=net.model,
            optimizer=warmup_adam(config.optim),
            data_shape=net.data_shape,
            time_sampling=f.time_sampling,
            logit_mean=f.logit_mean,
            logit_std=f.logit_std,
            time_scale=f.time_scale,
            ema_decay=f.ema_decay,
            num_classes=net.num_classes,
            label_dropout=f.label_dropout,
            solver=f.solver,
            sample_steps=f.sample_steps,
            guidance=f.guidance,
            clip=net.bounded,
            bits_per_dim=net.images,
            likelihood_solver=config.eval.get("likelihood_solver", "rk4"),
            likelihood_steps=config.eval.get("likelihood_steps", 32),
            likelihood_probes=config.eval.get("likelihood_probes", 0),
            rtol=f.get("rtol", 1e-4),
            atol=f.get("atol", 1e-4),
            data_key=context.modality.batch_key,
        )
    except ValueError as e:
        raise ConfigError(f"flow config: {e}") from e


def build_reflow(config: ml_collections.ConfigDict, spec: DatasetSpec, context):
    """Reflow of a trained flow run (``model.flow_dir``): its network, frozen as the teacher."""
    from genjax.core.state import HeldParams
    from genjax.families.flow.objective import Reflow

    f, r = config.flow, config.reflow
    t_config, teacher, t_state = first_stage(config, context, "flow_dir", ("flow", "reflow"),
                                             "teacher", "flow_toy2d")
    _check_solver("reflow.teacher_solver", r.teacher_solver)
    _check_solver("flow.solver", f.solver)
    try:
        return Reflow(
            model=teacher.model,
            optimizer=warmup_adam(config.optim),
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
            pairs=r.get("pairs", 0),
            rtol=f.get("rtol", 1e-4),
            atol=f.get("atol", 1e-4),
            data_key=context.modality.batch_key,
        )
    except ValueError as e:
        raise ConfigError(f"reflow config: {e}") from e
