"""The ``flow`` family's config schema: the keys and defaults the flow_* configs share."""

import ml_collections

from genjax.config import base_config


def flow_base() -> ml_collections.ConfigDict:
    """Flow-matching defaults: uniform t, network time 1000 t, EMA 0.9999, Heun-25 samples.

    ``model`` is the ddpm family's network section: a UNet (``ch``, ``ch_mult``,
    ``num_res_blocks``, ``attn_resolutions``, ``dropout``, ``norm_groups``) on images, an MLP
    denoiser (``features``, ``num_layers``, ``input_features``) on points, plus
    ``class_conditional`` and ``dtype``.
    """
    config = base_config()
    config.family = "flow"
    config.flow = ml_collections.ConfigDict({
        "time_sampling": "uniform",  # or "logit_normal": t = sigmoid(logit_mean + logit_std z)
        "logit_mean": 0.0,
        "logit_std": 1.0,
        "time_scale": 1000.0,  # the network sees time_scale * t (DDPM's timestep range)
        "ema_decay": 0.9999,
        "label_dropout": 0.1,  # class-conditional models: P(null label) in training
        "solver": "heun",  # default of `genjax sample` / training grids; or "euler", "rk4",
        # or adaptive (diffrax) "dopri5", "tsit5" with rtol / atol
        "sample_steps": 25,  # solver steps (heun: 2 network evaluations each)
        "guidance": 1.0,  # classifier-free guidance scale (1: plain conditional)
        "rtol": 1e-4,  # adaptive solvers' tolerances (sampling, likelihood, reflow teacher)
        "atol": 1e-4,
    })
    config.optim = ml_collections.ConfigDict({
        "lr": 2e-4, "b1": 0.9, "b2": 0.999, "warmup_steps": 1000, "grad_clip": 1.0})
    # `genjax eval`'s ODE log-likelihood (test_nll for points, test_bpd for images)
    config.eval.likelihood_solver = "rk4"
    config.eval.likelihood_steps = 32
    config.eval.likelihood_probes = 0  # 0: exact divergence (points); K: Hutchinson, K probes
    return config


def smallest_config(runs=None) -> ml_collections.ConfigDict:
    """The family's smallest config (the registry's contract test): a narrow MLP velocity
    network on the ring mixture, Euler with 4 steps."""
    config = flow_base()
    config.data.name = "toy2d_ring"
    config.model = ml_collections.ConfigDict({
        "features": 16, "num_layers": 2, "input_features": 8, "class_conditional": False,
        "dtype": "float32"})
    config.flow.update({"solver": "euler", "sample_steps": 4, "ema_decay": 0.9})
    config.optim.warmup_steps = 0
    config.train.update({"batch_size": 16, "num_samples": 16})
    return config


def reflow_base() -> ml_collections.ConfigDict:
    """Reflow defaults: the ``flow`` keys (the student's training and sampling), plus the
    first run (``model.flow_dir``, whose network the student shares) and its ODE solve."""
    config = flow_base()
    config.family = "reflow"
    config.model = ml_collections.ConfigDict({"flow_dir": ""})
    config.reflow = ml_collections.ConfigDict({
        "teacher_solver": "rk4",  # the teacher's ODE solve for each (noise, sample) pair
        "teacher_steps": 8,
        "init_from_teacher": True,  # the student starts at the teacher's parameters
        "pairs": 0,  # 0: fresh pairs every step; N: a fixed pool of N pairs solved at init
    })
    return config


def smallest_reflow_config(runs) -> ml_collections.ConfigDict:
    """The registry's contract test config: reflow of ``runs["flow"]`` (the smallest flow run),
    a 2-step Euler teacher, a pool of 64 pairs (online pairs: the flow tests' reflow runs)."""
    config = reflow_base()
    config.data.name = "toy2d_ring"
    config.model.flow_dir = str(runs["flow"])
    config.reflow.update({"teacher_solver": "euler", "teacher_steps": 2, "pairs": 64})
    config.flow.update({"solver": "euler", "sample_steps": 2, "ema_decay": 0.9})
    config.optim.warmup_steps = 0
    config.train.update({"batch_size": 16, "num_samples": 16})
    return config
