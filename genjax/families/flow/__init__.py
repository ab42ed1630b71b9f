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

from genjax.core.registry import Family
from genjax.families.flow.build import build, build_reflow
from genjax.families.flow.config import smallest_config, smallest_reflow_config
from genjax.families.flow.objective import FlowMatching, Reflow, flow_matching_loss, ot_path
from genjax.families.flow.samplers import SOLVERS, integrate

FAMILIES = (
    Family(
    name="flow", build=build,
    summary="Flow matching / rectified flow: OT path, uniform or logit-normal t, UNet or MLP "
            "velocity, classifier-free guidance, Euler/Heun/RK4 samplers",
    modalities=("image", "points"), objectives=(FlowMatching,), smallest=smallest_config),
    Family(
    name="reflow", build=build_reflow,
    summary="Reflow (rectified flow, 2nd stage): a flow trained on a trained flow run's own "
            "noise/sample pairs for straighter, fewer-step paths",
    modalities=("image", "points"), objectives=(Reflow,), smallest=smallest_reflow_config,
    needs=("flow",)),)

__all__ = ["FAMILIES", "SOLVERS", "FlowMatching", "Reflow", "flow_matching_loss", "integrate",
           "ot_path"]
