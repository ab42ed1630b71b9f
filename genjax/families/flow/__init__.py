"""Flow matching / rectified flow: the conditional OT path, velocity regression, ODE samplers.

Convention: ``x0 ~ N(0, I)`` (noise) at ``t = 0``, ``x1`` (data) at ``t = 1``,
``x_t = (1 - t) x0 + t x1``, target velocity ``x1 - x0``; sampling integrates the learned
velocity from noise at ``t = 0`` to data at ``t = 1``.

* :mod:`.samplers`: Euler, Heun and RK4 with fixed steps, each one ``lax.scan``.
* :mod:`.objective`: :class:`FlowMatching`, the Objective (uniform or logit-normal times,
  EMA, class conditioning with classifier-free guidance).
* :class:`Reflow`: the second stage (``reflow`` family): a flow trained on a trained flow's
  own (noise, sample) pairs, for straighter, fewer-step paths.
* :mod:`.config`: the ``flow`` and ``reflow`` config schemas; :mod:`.build`: config ->
  objective.
"""

from genjax.core.registry import lazy_package

__getattr__ = lazy_package(__name__)
