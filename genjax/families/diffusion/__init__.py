"""Diffusion models: noise schedules, training losses, compiled samplers and the bits/dim bound.

* :mod:`.schedules`: :class:`NoiseSchedule` (linear, cosine), q(x_t|x_0), the posterior.
* :mod:`.losses`: eps/x0/v losses, min-SNR weighting, conversions.
* :mod:`.samplers`: DDPM ancestral and DDIM, each one ``lax.scan``.
* :mod:`.likelihood`: the variational bound (bits/dim with the discretised decoder).
* :mod:`.objective`: :class:`Diffusion`, the Objective.
"""

from genjax.families.diffusion.objective import SAMPLERS, Diffusion
from genjax.families.diffusion.schedules import (
    NoiseSchedule,
    cosine_schedule,
    linear_schedule,
    make_schedule,
)

__all__ = ["SAMPLERS", "Diffusion", "NoiseSchedule", "cosine_schedule", "linear_schedule",
           "make_schedule"]
