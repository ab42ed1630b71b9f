"""The ``edm`` family's config schema: the keys and defaults the edm_* configs share."""

import ml_collections

from genjax.config import base_config


def edm_base() -> ml_collections.ConfigDict:
    """EDM defaults (Karras et al., 2022): sigma_data 0.5, ln sigma ~ N(-1.2, 1.2^2), Heun
    with 18 steps (35 network evaluations) on the rho=7 schedule from 80 to 0.002, no churn.

    ``model`` is the ddpm family's network section: a UNet (``ch``, ``ch_mult``,
    ``num_res_blocks``, ``attn_resolutions``, ``dropout``, ``norm_groups``) on images, an MLP
    denoiser (``features``, ``num_layers``, ``input_features``) on points, plus
    ``class_conditional`` and ``dtype``.
    """
    config = base_config()
    config.family = "edm"
    config.edm = ml_collections.ConfigDict({
        "sigma_data": 0.5,  # the data's standard deviation
        "p_mean": -1.2,  # ln sigma ~ N(p_mean, p_std^2) in training
        "p_std": 1.2,
        "time_scale": 250.0,  # the network sees time_scale * ln(sigma) / 4
        "ema_decay": 0.9999,
        "label_dropout": 0.1,  # class-conditional models: P(null label) in training
        "sampler": "heun",  # default of `genjax sample` / training grids; or "euler"
        "sample_steps": 18,  # N: heun takes 2N - 1 network evaluations
        "sigma_min": 0.002,
        "sigma_max": 80.0,
        "rho": 7.0,
        "s_churn": 0.0,  # 0: the deterministic ODE sampler
        "s_noise": 1.0,
        "s_min": 0.0,
        "s_max": 1000.0,
        "guidance": 1.0,  # classifier-free guidance scale (1: plain conditional)
    })
    config.optim = ml_collections.ConfigDict({
        "lr": 2e-4, "b1": 0.9, "b2": 0.999, "warmup_steps": 1000, "grad_clip": 1.0})
    return config


def smallest_config(runs=None) -> ml_collections.ConfigDict:
    """The family's smallest config (the registry's contract test): a narrow MLP denoiser on
    the ring mixture, Heun with 3 steps and churn (so the sampler's noise path runs too)."""
    config = edm_base()
    config.data.name = "toy2d_ring"
    config.model = ml_collections.ConfigDict({
        "features": 16, "num_layers": 2, "input_features": 8, "class_conditional": False,
        "dtype": "float32"})
    config.edm.update({"sample_steps": 3, "ema_decay": 0.9, "sigma_data": 0.7, "s_churn": 1.0})
    config.optim.warmup_steps = 0
    config.train.update({"batch_size": 16, "num_samples": 16})
    return config
