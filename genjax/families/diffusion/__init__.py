"""Diffusion models: noise schedules, training losses, compiled samplers and the bits/dim bound.

* :mod:`.schedules`: :class:`NoiseSchedule` (linear, cosine), q(x_t|x_0), the posterior.
* :mod:`.losses`: eps/x0/v losses, min-SNR weighting, conversions.
* :mod:`.samplers`: DDPM ancestral and DDIM, each one ``lax.scan``.
* :mod:`.bound`: the variational bound (bits/dim with the discretised decoder).
* :mod:`.objective`: :class:`Diffusion`, the Objective.
* :mod:`.config`: the ``ddpm`` config schema; :mod:`.build`: config -> objective.
"""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
