"""EDM (Karras et al., 2022, "Elucidating the design space of diffusion-based generative models").

* :mod:`.precond`: the c_skip / c_out / c_in / c_noise preconditioning, the log-normal sigma
  distribution and the loss weight lambda(sigma).
* :mod:`.samplers`: the rho-schedule and the Heun / Euler samplers with optional churn, one
  ``lax.scan``.
* :mod:`.objective`: :class:`EDM`, the Objective (EMA, class conditioning with
  classifier-free guidance).
* :mod:`.config`: the ``edm`` config schema; :mod:`.build`: config -> objective.
"""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
