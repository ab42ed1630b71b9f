"""The ``ddpm`` family's config schema: the keys and defaults the ddpm_* configs share."""

import ml_collections

from genjax.config import base_config


def ddpm_base() -> ml_collections.ConfigDict:
    """DDPM defaults: T=1000 linear, eps-prediction, EMA 0.9999, DDIM-50 samples."""
    config = base_config()
    config.family = "ddpm"
    config.diffusion = ml_collections.ConfigDict({
        "timesteps": 1000,
        "schedule": "linear",  # or "cosine"
        "prediction": "eps",  # or "x0", "v"
        "min_snr_gamma": 0.0,  # 0: plain MSE; e.g. 5.0 for min-SNR-5 weighting
        # training timesteps: "uniform", or "lognormal": ln sigma_t ~ N(p_mean, p_std^2)
        # with sigma_t = sqrt((1 - abar_t) / abar_t) (EDM's noise distribution)
        "timestep_sampling": "uniform",
        "p_mean": -1.2,
        "p_std": 1.2,
        "ema_decay": 0.9999,
        "label_dropout": 0.1,  # class-conditional models: P(null label) in training
        "sampler": "ddim",  # default of `genjax sample` / training grids; or "ddpm", "dpm++"
        "sample_steps": 50,
        "ddim_eta": 0.0,
        "ddpm_variance": "small",  # or "large"; also the bound's reverse variance
        "guidance": 1.0,  # classifier-free guidance scale (1: plain conditional)
    })
    config.optim = ml_collections.ConfigDict({
        "lr": 2e-4, "b1": 0.9, "b2": 0.999, "warmup_steps": 5000, "grad_clip": 1.0})
    # t >= 1 terms of the bits/dim bound in `genjax eval` (0: all T-1, the exact bound)
    config.eval.bound_timesteps = 0
    return config


def smallest_config(runs=None) -> ml_collections.ConfigDict:
    """The family's smallest config (the registry's contract test): a narrow MLP denoiser,
    T=20, on the ring mixture."""
    config = ddpm_base()
    config.data.name = "toy2d_ring"
    config.model = ml_collections.ConfigDict({
        "features": 16, "num_layers": 2, "input_features": 8, "class_conditional": False,
        "dtype": "float32"})
    config.diffusion.update({"timesteps": 20, "sample_steps": 5, "ema_decay": 0.9})
    config.optim.warmup_steps = 0
    config.train.update({"batch_size": 16, "num_samples": 16})
    return config
