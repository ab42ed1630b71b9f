"""The ``flow`` package's registration (``FAMILIES``) and re-exports, imported on first use
by the package (``genjax.core.registry.lazy_package``), so that its light submodules load
without them."""

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
