"""The ``diffusion`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

from genjax.core.registry import Family
from genjax.families.diffusion.build import build
from genjax.families.diffusion.config import smallest_config
from genjax.families.diffusion.objective import SAMPLERS, Diffusion
from genjax.families.diffusion.schedules import (
    NoiseSchedule,
    cosine_schedule,
    linear_schedule,
    make_schedule,
)

FAMILIES = (Family(
    name="ddpm", build=build,
    summary="DDPM/DDIM diffusion: linear/cosine schedules, eps/x0/v, min-SNR, a UNet, "
            "DiffWave (audio) or MLP denoiser, classifier-free guidance, bits/dim bound",
    modalities=("image", "points", "audio"), objectives=(Diffusion,), smallest=smallest_config),)

__all__ = ["FAMILIES", "SAMPLERS", "Diffusion", "NoiseSchedule", "cosine_schedule",
           "linear_schedule", "make_schedule"]
