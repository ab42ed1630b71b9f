"""Diffusion models: noise schedules, training losses, compiled samplers and the bits/dim bound.

* :mod:`.schedules`: :class:`NoiseSchedule` (linear, cosine), q(x_t|x_0), the posterior.
* :mod:`.losses`: eps/x0/v losses, min-SNR weighting, conversions.
* :mod:`.samplers`: DDPM ancestral and DDIM, each one ``lax.scan``.
* :mod:`.bound`: the variational bound (bits/dim with the discretised decoder).
* :mod:`.objective`: :class:`Diffusion`, the Objective.
* :mod:`.config`: the ``ddpm`` config schema; :mod:`.build`: config -> objective.
"""

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
    summary="DDPM/DDIM diffusion: linear/cosine schedules, eps/x0/v, min-SNR, UNet or MLP "
            "denoiser, classifier-free guidance, bits/dim bound",
    modalities=("image", "points"), objectives=(Diffusion,), smallest=smallest_config),)

__all__ = ["FAMILIES", "SAMPLERS", "Diffusion", "NoiseSchedule", "cosine_schedule",
           "linear_schedule", "make_schedule"]
