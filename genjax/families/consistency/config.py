"""The ``cm`` family's config schema: the keys and defaults the cm_* configs share."""

import ml_collections

from genjax.config import base_config


def cm_base() -> ml_collections.ConfigDict:
    """Improved consistency training defaults (Song & Dhariwal, 2023): EDM's parametrisation
    with the sigma_min boundary, sigma in [0.002, 80], rho 7, ln sigma levels weighted by
    N(-1.1, 2.0^2), curriculum s0 = 10 to s1 = 1280 over ``train.steps``, pseudo-Huber,
    1-step sampling (2-step through sigma 0.821).

    ``model`` is the ddpm family's network section (UNet on images, MLP on points).
    """
    config = base_config()
    config.family = "cm"
    config.cm = ml_collections.ConfigDict({
        "sigma_data": 0.5,
        "sigma_min": 0.002,
        "sigma_max": 80.0,
        "rho": 7.0,
        "p_mean": -1.1,
        "p_std": 2.0,
        "s0": 10,  # curriculum: s0 intervals at the start, doubling up to s1
        "s1": 1280,
        "time_scale": 250.0,  # the network sees time_scale * ln(sigma) / 4
        "ema_decay": 0.9999,
        "sample_steps": 1,
        "mid_sigmas": (0.821,),  # re-noising levels of multistep sampling
    })
    config.optim = ml_collections.ConfigDict({
        "lr": 1e-4, "b1": 0.9, "b2": 0.999, "warmup_steps": 0, "grad_clip": 0.0})
    return config


def smallest_config(runs=None) -> ml_collections.ConfigDict:
    """The family's smallest config (the registry's contract test): a narrow MLP on the ring
    mixture, 2-step sampling."""
    config = cm_base()
    config.data.name = "toy2d_ring"
    config.model = ml_collections.ConfigDict({
        "features": 16, "num_layers": 2, "input_features": 8, "class_conditional": False,
        "dtype": "float32"})
    config.cm.update({"sample_steps": 2, "ema_decay": 0.9, "sigma_data": 0.7, "s1": 40})
    config.train.update({"batch_size": 16, "num_samples": 16})
    return config


def cd_base() -> ml_collections.ConfigDict:
    """Consistency distillation defaults: the ``cm`` keys for the student's levels, loss and
    sampling, with the paper's fixed discretisation (``s0 = s1 = 17``: N = 18 levels) and
    level weights N(-1.1, 2^2); the teacher (``model.edm_dir``, an EDM run whose network,
    sigma_data and labels the student shares), and whether the student starts from it."""
    config = cm_base()
    config.family = "cd"
    config.cm.update({"s0": 17, "s1": 17})
    config.model = ml_collections.ConfigDict({"edm_dir": ""})
    config.cd = ml_collections.ConfigDict({"init_from_teacher": True})
    return config


def smallest_cd_config(runs) -> ml_collections.ConfigDict:
    """The registry's contract test config: distillation of ``runs["edm"]`` (the smallest EDM
    run), 2-step sampling."""
    config = cd_base()
    config.data.name = "toy2d_ring"
    config.model.edm_dir = str(runs["edm"])
    config.cm.update({"sample_steps": 2, "ema_decay": 0.9, "s0": 4, "s1": 4})
    config.train.update({"batch_size": 16, "num_samples": 16})
    return config
